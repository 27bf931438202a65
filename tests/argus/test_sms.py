"""SMS encoding detection, segment counts at the limits, budget cutting."""

import logging

import pytest

from argus.sms import GSM7, UCS2, encoding_of, fit_parts, measure


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", GSM7, 0, 1),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        # An extension character costs two septets.
        ("€" * 80, GSM7, 160, 1),
        ("€" * 81, GSM7, 162, 2),
        ("a" * 159 + "[", GSM7, 161, 2),
        # 306 septets fit two segments only if the escape pair may be split.
        ("a" * 152 + "€" * 77, GSM7, 306, 3),
        ("ক" * 70, UCS2, 70, 1),
        ("ক" * 71, UCS2, 71, 2),
        ("ক" * 134, UCS2, 134, 2),
        ("ক" * 135, UCS2, 135, 3),
        # One GSM-7 letter among Bengali ones changes nothing; one Bengali
        # letter turns an English text into UCS-2.
        ("a" * 69 + "ক", UCS2, 70, 1),
        ("a" * 70 + "ক", UCS2, 71, 2),
        # A surrogate pair (two UTF-16 units) is never split between segments.
        ("ক" * 66 + "😀" + "ক" * 66, UCS2, 134, 3),
        ("😀" * 35, UCS2, 70, 1),
    ],
)
def test_measure_counts_units_and_segments(text, encoding, units, segments):
    length = measure(text)

    assert length.encoding == encoding
    assert length.units == units
    assert length.segments == segments


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Flood WARNING @ 10:00 £5 é ñ Ä ß {level} ^~|\\", GSM7),
        ("lower-case ç is not in the GSM alphabet", UCS2),
        ("curly ’quote’", UCS2),
        ("en dash – breaks GSM-7", UCS2),
        ("বানপানীৰ সতৰ্কবাণী", UCS2),
    ],
)
def test_encoding_of_detects_gsm7(text, encoding):
    assert encoding_of(text) == encoding


def test_fit_parts_drops_least_important_first():
    parts = [(0, "H" * 60), (1, "A" * 60), (3, "R" * 60), (2, "E" * 60)]

    text, length = fit_parts(parts, max_segments=1)

    assert text == "H" * 60 + " " + "A" * 60
    assert length.segments == 1


def test_fit_parts_keeps_everything_that_fits():
    parts = [(0, "head"), (1, "act"), (4, "help")]

    text, length = fit_parts(parts, max_segments=1)

    assert text == "head act help"
    assert length.units == 13


def test_fit_parts_can_turn_ucs2_into_gsm7():
    # Dropping the one Bengali part makes the rest GSM-7, 160 septets.
    parts = [(0, "a" * 100), (1, "b" * 59), (2, "ক")]

    text, length = fit_parts(parts, max_segments=1)

    assert text == "a" * 100 + " " + "b" * 59
    assert length.encoding == GSM7


def test_fit_parts_never_drops_required_part(caplog):
    parts = [(0, "ক" * 100), (1, "do this")]

    with caplog.at_level(logging.WARNING, logger="argus.sms"):
        text, length = fit_parts(parts, max_segments=1)

    assert text == "ক" * 100
    assert length.segments == 2
    assert "budget 1" in caplog.text


def test_fit_parts_rejects_zero_budget():
    with pytest.raises(ValueError, match="max_segments 0"):
        fit_parts([(0, "x")], max_segments=0)
