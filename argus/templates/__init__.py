"""Warning texts per language, kept as data: one TOML file per language.

The files next to this module (``en.toml``, ``as.toml``, ``bn.toml``,
``hi.toml``) contain every sentence ARGUS sends, so a translator corrects a
language by editing its file. ``ARGUS_TEMPLATES_DIR`` points at a folder of
corrected copies without touching the installed package. A file is checked
when loaded: a missing key or a placeholder that its key does not allow raises
:class:`~argus.errors.ConfigurationError` naming the file and the key.

A message is made of parts, each with an importance used by SMS budgeting
(:func:`argus.sms.fit_parts`): the headline (village and level, never dropped),
what to do, when the water is expected, the reading against the danger level,
and the emergency number.
"""

import string
import tomllib
from dataclasses import dataclass
from datetime import timedelta, timezone
from functools import cache
from pathlib import Path

from argus.alert_facts import AlertFacts
from argus.errors import ConfigurationError

PACKAGE_DIR = Path(__file__).resolve().parent
LANGUAGES = ("as", "bn", "hi", "en")
LEVELS = ("EMERGENCY", "WARNING", "WATCH", "NORMAL")
HEADLINES = (*LEVELS, "lowered", "reminder", "all_clear")
# Messages show times in Indian Standard Time, the time of the people warned.
IST = timezone(timedelta(hours=5, minutes=30), "IST")

# Importance of each part: 0 is never dropped, higher numbers go first.
HEADLINE, ACTION, EXPECTED, READING, HELP = 0, 1, 2, 3, 4

# Placeholders each text may use.
_ALLOWED = {
    "headline": {"village", "level"},
    "action": set(),
    "detail.reading": {
        "river",
        "gauge",
        "reading_m",
        "reading_time",
        "danger_m",
        "unit",
    },
    "detail.expected": {"threshold", "threshold_m", "expected_h", "unit"},
    "detail.help": set(),
}


@dataclass(frozen=True)
class LanguageTemplates:
    """The texts of one language, read from its file."""

    language: str
    cap_language: str
    voice_language: str
    voice: str
    voice_unit: str
    voice_replace: dict[str, str]
    levels: dict[str, str]
    thresholds: dict[str, str]
    headline: dict[str, str]
    action: dict[str, str]
    detail: dict[str, str]
    cap: dict[str, str]
    path: Path


@dataclass(frozen=True)
class MessageParts:
    """The parts of one message in reading order, as (importance, text)."""

    parts: tuple[tuple[int, str], ...]

    def text(self) -> str:
        """Join all parts, as spoken or as written without a budget."""
        return " ".join(text for _, text in self.parts if text)

    def of(self, importance: int) -> str:
        """Return the text of the part with this importance ('' when absent)."""
        return next((t for rank, t in self.parts if rank == importance), "")


def templates_for(language: str, folder: Path | None = None) -> LanguageTemplates:
    """Load the texts of a language from ``folder`` (default: this package).

    Raises
    ------
    ConfigurationError
        When the language is unknown or its file is missing or invalid.
    """
    if language not in LANGUAGES:
        raise ConfigurationError(
            f"no message templates for language {language!r}; "
            f"expected one of {', '.join(LANGUAGES)}"
        )
    return _load(language, (folder or PACKAGE_DIR).resolve())


@cache
def _load(language: str, folder: Path) -> LanguageTemplates:
    path = folder / f"{language}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigurationError(f"cannot read message templates {path}: {error}")
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"invalid TOML in message templates {path}: {error}")

    def table(name: str, keys) -> dict[str, str]:
        values = data.get(name)
        if not isinstance(values, dict):
            raise ConfigurationError(f"{path}: missing table [{name}]")
        for key in keys:
            if not isinstance(values.get(key), str) or not values[key].strip():
                raise ConfigurationError(f"{path}: missing text {name}.{key}")
        return dict(values)

    voice = table("voice", ("language", "voice", "unit"))
    templates = LanguageTemplates(
        language=language,
        cap_language=str(data.get("cap_language") or language),
        voice_language=voice["language"],
        voice=voice["voice"],
        voice_unit=voice["unit"],
        voice_replace=dict(voice.get("replace") or {}),
        levels=table("levels", LEVELS),
        thresholds=table(
            "thresholds", ("warning_level", "danger_level", "highest_flood_level")
        ),
        headline=table("headline", HEADLINES),
        action=table("action", LEVELS),
        detail=table("detail", ("unit", "reading", "expected", "help")),
        cap=table("cap", ("event", "sender_name")),
        path=path,
    )
    _check_placeholders(templates)
    return templates


def _check_placeholders(templates: LanguageTemplates) -> None:
    texts = [(f"headline.{k}", v, "headline") for k, v in templates.headline.items()]
    texts += [(f"action.{k}", v, "action") for k, v in templates.action.items()]
    texts += [
        (f"detail.{k}", templates.detail[k], f"detail.{k}")
        for k in ("reading", "expected", "help")
    ]
    for key, text, rule in texts:
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        except ValueError as error:
            raise ConfigurationError(f"{templates.path}: {key}: {error}") from error
        unknown = sorted(names - _ALLOWED[rule])
        if unknown:
            raise ConfigurationError(
                f"{templates.path}: {key} uses unknown placeholder(s) "
                f"{', '.join(unknown)}; allowed: {', '.join(sorted(_ALLOWED[rule]))}"
            )
        if rule == "headline" and not {"village", "level"} <= names:
            raise ConfigurationError(
                f"{templates.path}: {key} must name {{village}} and {{level}}"
            )


def compose_parts(
    templates: LanguageTemplates, facts: AlertFacts, *, spoken: bool = False
) -> MessageParts:
    """Fill the texts of one language with an alert's facts.

    A part whose facts are unknown (no station, no reading, no forecast lead)
    is left out. ``spoken`` writes units as words and applies the voice's
    letter replacements, for text-to-speech.
    """
    if facts.level not in LEVELS:
        raise ValueError(
            f"alert {facts.alert_id} has level {facts.level!r}; "
            f"messages exist for {', '.join(LEVELS)}"
        )
    unit = templates.voice_unit if spoken else templates.detail["unit"]
    level = facts.level
    values = {"village": facts.village_name, "level": templates.levels[level]}
    parts = [
        (HEADLINE, templates.headline[_headline_key(facts, level)].format(**values)),
        (ACTION, templates.action["NORMAL" if _is_all_clear(facts) else level]),
        (EXPECTED, _expected(templates, facts, unit)),
        (READING, _reading(templates, facts, unit)),
        (HELP, templates.detail["help"] if level != "NORMAL" else ""),
    ]
    if spoken:
        parts = [
            (rank, _replace(text, templates.voice_replace)) for rank, text in parts
        ]
    return MessageParts(tuple((rank, text) for rank, text in parts if text))


def _is_all_clear(facts: AlertFacts) -> bool:
    return facts.kind == "all_clear" or facts.level == "NORMAL"


def _headline_key(facts: AlertFacts, level: str) -> str:
    if facts.kind == "all_clear":
        return "all_clear"
    if facts.kind == "reminder":
        return "reminder"
    if facts.lowered and level != "NORMAL":
        return "lowered"
    return level


def _expected(templates: LanguageTemplates, facts: AlertFacts, unit: str) -> str:
    expected = facts.expected
    if expected is None or _is_all_clear(facts) or expected.lead_h <= 0:
        return ""
    return templates.detail["expected"].format(
        threshold=templates.thresholds[expected.threshold],
        threshold_m=metres(expected.threshold_m),
        expected_h=f"{expected.lead_h:g}",
        unit=unit,
    )


def _reading(templates: LanguageTemplates, facts: AlertFacts, unit: str) -> str:
    needed = (facts.river, facts.gauge, facts.reading_m, facts.reading_at)
    if any(value is None for value in needed) or facts.danger_m is None:
        return ""
    return templates.detail["reading"].format(
        river=facts.river,
        gauge=facts.gauge,
        reading_m=metres(facts.reading_m),
        reading_time=facts.reading_at.astimezone(IST).strftime("%H:%M"),
        danger_m=metres(facts.danger_m),
        unit=unit,
    )


def _replace(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def metres(value: float) -> str:
    """Format a level in metres as messages write it, with at most two decimals."""
    return f"{round(float(value), 2):g}"
