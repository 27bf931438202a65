"""Message templates: every language renders every level and kind."""

import logging
import shutil
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from argus.alert_facts import AlertFacts, Expected
from argus.errors import ConfigurationError
from argus.messaging import compose_message, language_templates
from argus.sms import measure
from argus.templates import LANGUAGES, PACKAGE_DIR, compose_parts, templates_for

FACTS = AlertFacts(
    alert_id=7,
    kind="level_change",
    level="EMERGENCY",
    previous_level="WARNING",
    cycle_at=datetime(2026, 8, 1, 6, 30, tzinfo=UTC),
    village_id="node/1",
    village_name="Dhubri Ghat",
    lat=26.02,
    lon=89.98,
    district="Dhubri",
    station_code="017-MBDGHY",
    river="Brahmaputra",
    gauge="Dhubri",
    reading_m=28.93,
    reading_at=datetime(2026, 8, 1, 6, 0, tzinfo=UTC),
    danger_m=28.62,
    expected=Expected("highest_flood_level", 30.36, 5.0),
    observed=True,
)
# (kind, level, previous level, headline key)
CASES = [
    ("level_change", "EMERGENCY", "WARNING", "EMERGENCY"),
    ("level_change", "WARNING", "WATCH", "WARNING"),
    ("level_change", "WATCH", None, "WATCH"),
    ("level_change", "WARNING", "EMERGENCY", "lowered"),
    ("level_change", "NORMAL", "WATCH", "NORMAL"),
    ("reminder", "EMERGENCY", "EMERGENCY", "reminder"),
    ("all_clear", "NORMAL", "WARNING", "all_clear"),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("kind", "level", "previous", "headline"), CASES)
def test_each_language_renders_each_level_and_kind(
    language, kind, level, previous, headline
):
    templates = templates_for(language)
    facts = replace(FACTS, kind=kind, level=level, previous_level=previous)

    parts = compose_parts(templates, facts)

    expected_headline = templates.headline[headline].format(
        village="Dhubri Ghat", level=templates.levels[level]
    )
    assert parts.of(0) == expected_headline
    assert "Dhubri Ghat" in parts.of(0)
    assert templates.levels[level] in parts.of(0)
    action_level = "NORMAL" if kind == "all_clear" else level
    assert parts.of(1) == templates.action[action_level]
    assert "{" not in parts.text()


@pytest.mark.parametrize("language", LANGUAGES)
def test_facts_appear_in_full_text(language):
    parts = compose_parts(templates_for(language), FACTS)

    text = parts.text()
    assert "Brahmaputra" in text
    assert "28.93" in text
    assert "28.62" in text
    assert "30.36" in text
    # 06:00 UTC is 11:30 in India.
    assert "11:30" in text


def test_unknown_facts_leave_their_parts_out():
    facts = replace(FACTS, river=None, expected=None)

    parts = compose_parts(templates_for("en"), facts)

    assert [rank for rank, _ in parts.parts] == [0, 1, 4]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("max_segments", [1, 2, 3])
def test_budget_keeps_village_and_level(language, max_segments):
    templates = templates_for(language)

    message = compose_message(FACTS, templates, "sms", max_segments=max_segments)

    assert "Dhubri Ghat" in message.body
    assert templates.levels["EMERGENCY"] in message.body
    assert message.segments <= max_segments
    assert measure(message.body).segments == message.segments


def test_assamese_uses_assamese_letters_and_bengali_does_not():
    assamese = (PACKAGE_DIR / "as.toml").read_text(encoding="utf-8")
    bengali = (PACKAGE_DIR / "bn.toml").read_text(encoding="utf-8")

    assert "ৰ" in assamese
    assert "ৱ" in assamese
    # Bengali ra and va-with-dot are not Assamese letters; only the voice
    # replacement table of the Assamese file may name them.
    body = assamese.split("[levels]")[1]
    assert "র" not in body
    assert "ৰ" not in bengali
    assert "ৱ" not in bengali


@pytest.mark.parametrize(
    ("language", "say_language"),
    [("en", "en-IN"), ("hi", "hi-IN"), ("bn", "bn-IN"), ("as", "bn-IN")],
)
def test_voice_is_twiml_say_in_language(language, say_language):
    message = compose_message(FACTS, templates_for(language), "voice", max_segments=1)

    assert message.body.startswith('<?xml version="1.0" encoding="UTF-8"?><Response>')
    assert f'language="{say_language}"' in message.body
    assert 'loop="2"' in message.body
    assert message.encoding is None
    assert "Dhubri Ghat" in message.body


def test_assamese_voice_replaces_assamese_letters():
    message = compose_message(FACTS, templates_for("as"), "voice", max_segments=1)

    assert "ৰ" not in message.body
    assert "ৱ" not in message.body
    assert "মিটাৰ" not in message.body


def _corrected_copy(tmp_path, old: str, new: str):
    shutil.copy(PACKAGE_DIR / "en.toml", tmp_path / "en.toml")
    path = tmp_path / "hi.toml"
    text = (PACKAGE_DIR / "hi.toml").read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_unknown_placeholder_is_rejected_with_file_and_key(tmp_path):
    path = _corrected_copy(tmp_path, "{village} में", "{vilage} में")

    with pytest.raises(ConfigurationError, match=r"hi\.toml: headline\.reminder"):
        templates_for("hi", tmp_path)
    assert path.is_file()


def test_missing_text_is_rejected(tmp_path):
    _corrected_copy(tmp_path, 'WATCH = "सतर्क रहें', 'WATCHED = "सतर्क रहें')

    with pytest.raises(ConfigurationError, match=r"missing text action\.WATCH"):
        templates_for("hi", tmp_path)


def test_broken_language_falls_back_to_english(tmp_path, caplog):
    _corrected_copy(tmp_path, "[cap]", "[cap")

    with caplog.at_level(logging.ERROR, logger="argus.messaging"):
        templates = language_templates("hi", tmp_path)

    assert templates.language == "en"
    assert "hi.toml" in caplog.text


def test_unknown_language_is_rejected():
    with pytest.raises(ConfigurationError, match="'fr'"):
        templates_for("fr")


def test_unmonitored_level_has_no_message():
    facts = replace(FACTS, level="UNMONITORED")

    with pytest.raises(ValueError, match="'UNMONITORED'"):
        compose_parts(templates_for("en"), facts)
