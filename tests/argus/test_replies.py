"""Reading subscribers' replies: words per language, digits, water depths."""

import pytest

from argus.errors import ConfigurationError
from argus.replies import load_reply_words, parse_depth_m, parse_reply


@pytest.mark.parametrize(
    ("text", "intent", "language"),
    [
        ("STOP", "stop", "en"),
        ("  Stop please", "stop", "en"),
        ("बंद करो", "stop", "hi"),
        ("ৰখক", "stop", "as"),
        ("থামুন", "stop", "bn"),
        ("१", "ack", "en"),
        ("নিরাপদ", "ack", "bn"),
        ("मदद!", "help", "hi"),
        ("पानी 30", "water_report", "hi"),
        ("hello", "unknown", None),
        ("", "unknown", None),
    ],
)
def test_parse_reply(text, intent, language):
    reply = parse_reply(text)
    assert reply.intent == intent
    assert reply.language == language


@pytest.mark.parametrize(
    ("text", "depth_m"),
    [("40", 0.4), ("40cm", 0.4), ("1,5 m", 1.5), ("0.3M", 0.3), ("deep", None)],
)
def test_parse_depth(text, depth_m):
    assert parse_depth_m(text) == depth_m


def test_depth_beyond_ten_metres_is_rejected():
    assert parse_depth_m("2000") is None
    assert parse_depth_m("11m") is None


def test_word_under_two_intents_is_rejected(tmp_path):
    path = tmp_path / "words.toml"
    path.write_text('[words.stop]\nen = ["OK"]\n[words.ack]\nen = ["ok"]\n')

    with pytest.raises(ConfigurationError, match="'ok' is under both 'stop'"):
        load_reply_words(path)


def test_unknown_language_is_rejected(tmp_path):
    path = tmp_path / "words.toml"
    path.write_text('[words.stop]\nfr = ["ARRET"]\n')

    with pytest.raises(ConfigurationError, match="language 'fr' is unknown"):
        load_reply_words(path)
