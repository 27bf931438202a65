"""SMS encoding and segment budgeting.

A text that uses only the GSM 03.38 default alphabet (3GPP TS 23.038) goes out as
GSM-7: 160 septets in one message, 153 per segment once it is split, because
the concatenation header takes the rest. A character of the extension table
(``^{}\\[~]|€`` and form feed) is sent as an escape plus the character, so it
costs two septets, and a segment boundary never splits the pair. Any other
character (Assamese, Bengali and Hindi letters, curly quotes, dashes) makes the
whole text UCS-2: 70 UTF-16 code units in one message, 67 per segment, and a
surrogate pair is never split.

:func:`fit_parts` joins the parts of a message and drops the least important
ones until the text fits a number of segments.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# The GSM 03.38 default alphabet, in code order (0x1B, the escape, left out).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table of the default alphabet; each costs an escape septet too.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

# Units per message: (single message, each segment of a concatenated one).
LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


@dataclass(frozen=True)
class SmsLength:
    """Encoding of a text and how many segments it takes."""

    encoding: str
    units: int
    segments: int


def encoding_of(text: str) -> str:
    """Return ``GSM-7`` if every character is in the GSM alphabet, else ``UCS-2``."""
    allowed = GSM7_BASIC | GSM7_EXTENSION
    return GSM7 if all(c in allowed for c in text) else UCS2


def _unit_costs(text: str, encoding: str) -> list[int]:
    """Cost of each character: septets for GSM-7, UTF-16 code units for UCS-2."""
    if encoding == GSM7:
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def measure(text: str) -> SmsLength:
    """Encoding, length in units and segment count of an SMS text.

    An empty text counts as one segment, as a provider bills it.
    """
    encoding = encoding_of(text)
    costs = _unit_costs(text, encoding)
    single, per_segment = LIMITS[encoding]
    units = sum(costs)
    if units <= single:
        return SmsLength(encoding, units, 1)

    # Fill segments one character at a time, so an escape pair or a surrogate
    # pair that would straddle a boundary moves whole to the next segment.
    segments, used = 1, 0
    for cost in costs:
        if used + cost > per_segment:
            segments += 1
            used = 0
        used += cost
    return SmsLength(encoding, units, segments)


def fit_parts(
    parts: Sequence[tuple[int, str]], *, max_segments: int, separator: str = " "
) -> tuple[str, SmsLength]:
    """Join message parts, dropping the least important until the text fits.

    Parameters
    ----------
    parts
        ``(importance, text)`` in reading order; importance 0 is never dropped
        and higher numbers are dropped first. Empty texts are skipped.
    max_segments
        Largest number of segments the text may take.
    separator
        Placed between the parts that are kept.

    Returns
    -------
    tuple
        The text and its :class:`SmsLength`. The parts of importance 0 are
        always kept, so the text can exceed ``max_segments`` when they alone do.
    """
    if max_segments < 1:
        raise ValueError(f"max_segments {max_segments!r} must be at least 1")
    kept = [(rank, text) for rank, text in parts if text]
    text = separator.join(t for _, t in kept)
    length = measure(text)

    # Drop one part at a time, the least important first and, among equals,
    # the last in reading order. Dropping a part may turn UCS-2 into GSM-7,
    # so the text is measured again after each drop.
    while length.segments > max_segments:
        droppable = [i for i, (rank, _) in enumerate(kept) if rank > 0]
        if not droppable:
            logger.warning(
                "message takes %d segments (budget %d) with only its required parts",
                length.segments,
                max_segments,
            )
            break
        victim = max(droppable, key=lambda i: (kept[i][0], i))
        del kept[victim]
        text = separator.join(t for _, t in kept)
        length = measure(text)
    return text, length
