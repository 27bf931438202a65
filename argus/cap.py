"""Alerts as OASIS Common Alerting Protocol (CAP) 1.2 messages.

Every alert becomes one CAP message with one ``info`` block per language of
the village's subscribers, English always included. The village is the
``area``, as its name and a circle around its position, and the event code is
``OET-081`` ("Flood") of the OASIS Event Terms List v1.2. Messages are
checked against the vendored OASIS schema (``argus/schemas/CAP-v1.2.xsd``) and
against the rules of the standard that the schema cannot express.

Message type: the first alert of a flood episode is ``Alert``. Later alerts of
the same village (a level change or a reminder) are ``Update``, and an
all-clear (kind ``all_clear``, or a fall to NORMAL) is ``Cancel``. Update and Cancel
reference every earlier message of the episode, which starts after the
village's last all-clear.

Urgency, severity, certainty and response by level (category ``Met``, which
CAP 1.2 defines as meteorological including flood):

=========  =========  ========  ===================  ==========
level      urgency    severity  certainty            response
=========  =========  ========  ===================  ==========
EMERGENCY  Immediate  Extreme   Observed or Likely   Evacuate
WARNING    Expected   Severe    Observed or Likely   Prepare
WATCH      Future     Moderate  Possible             Monitor
all-clear  Past       Minor     Observed             AllClear
=========  =========  ========  ===================  ==========

Certainty is Observed when a gauge reading at or above a threshold decided the
level and Likely when only the median (p50) forecast did. WATCH rests on the
90th-percentile forecast, hence Possible.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from lxml import etree
from sqlmodel import Session, select

from argus.alert_facts import AlertFacts, gather_facts
from argus.errors import CapError
from argus.messaging import language_templates, village_subscribers
from argus.storage.tables import Alert
from argus.templates import (
    ACTION,
    EXPECTED,
    HEADLINE,
    HELP,
    IST,
    LANGUAGES,
    READING,
    compose_parts,
)

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "CAP-v1.2.xsd"
# OASIS Event Terms List v1.2: OET-081 is "Flood".
EVENT_CODE = ("OET:v1.2", "OET-081")


@dataclass(frozen=True)
class Grading:
    """CAP urgency, severity, certainty (observed or forecast) and response."""

    urgency: str
    severity: str
    certainty_observed: str
    certainty_forecast: str
    response: str


GRADING = {
    "EMERGENCY": Grading("Immediate", "Extreme", "Observed", "Likely", "Evacuate"),
    "WARNING": Grading("Expected", "Severe", "Observed", "Likely", "Prepare"),
    "WATCH": Grading("Future", "Moderate", "Possible", "Possible", "Monitor"),
    "ALL_CLEAR": Grading("Past", "Minor", "Observed", "Observed", "AllClear"),
}
# CAP forbids spaces, commas and the restricted characters < and & here.
_CAP_TOKEN = re.compile(r"^[^\s,<&]+$")
_CIRCLE = re.compile(r"^-?\d+(\.\d+)?,-?\d+(\.\d+)? \d+(\.\d+)?$")


@dataclass(frozen=True)
class CapOptions:
    """Installation-wide CAP settings (see :class:`argus.settings.Settings`)."""

    sender: str
    area_radius_km: float
    expires_h: float
    templates_dir: Path | None = None


def cap_time(value: datetime) -> str:
    """Format a CAP date-time: whole seconds with a numeric offset (IST), never ``Z``."""
    return value.astimezone(IST).isoformat(timespec="seconds")


def cap_identifier(alert: Alert) -> str:
    """Return the CAP identifier of an alert, stable across exports."""
    return f"argus-alert-{alert.id}-{alert.cycle_at.astimezone(IST):%Y%m%dT%H%M}"


def is_all_clear(alert: Alert) -> bool:
    """Return whether an alert ends a flood episode (all-clear, or back to NORMAL)."""
    return alert.kind == "all_clear" or alert.level == "NORMAL"


def expires_at(alert: Alert, options: CapOptions) -> datetime:
    """Return the alert's own expiry, or its cycle time plus the configured validity."""
    if alert.expires_at is not None:
        return alert.expires_at
    return alert.cycle_at + timedelta(hours=options.expires_h)


def build_cap(session: Session, alert: Alert, options: CapOptions) -> bytes:
    """Build and validate the CAP 1.2 message of one alert, as UTF-8 XML.

    Raises
    ------
    CapError
        When the message fails the schema or a rule of the standard.
    """
    facts = gather_facts(session, alert)
    episode = _earlier_in_episode(session, alert)
    if is_all_clear(alert):
        msg_type = "Cancel" if episode else "Alert"
    else:
        msg_type = "Update" if episode else "Alert"

    root = etree.Element(f"{{{CAP_NAMESPACE}}}alert", nsmap={None: CAP_NAMESPACE})
    _add(root, "identifier", cap_identifier(alert))
    _add(root, "sender", options.sender)
    _add(root, "sent", cap_time(alert.created_at))
    _add(root, "status", "Actual")
    _add(root, "msgType", msg_type)
    _add(root, "scope", "Public")
    if msg_type != "Alert":
        references = [
            f"{options.sender},{cap_identifier(a)},{cap_time(a.created_at)}"
            for a in episode
        ]
        _add(root, "references", " ".join(references))
    for language in _languages(session, alert):
        root.append(_info(facts, alert, language, options))

    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    validate_cap(xml)
    return xml


def _info(
    facts: AlertFacts, alert: Alert, language: str, options: CapOptions
) -> etree._Element:
    templates = language_templates(language, options.templates_dir)
    parts = compose_parts(templates, facts)
    grading = GRADING.get("ALL_CLEAR" if is_all_clear(alert) else alert.level)
    if grading is None:
        raise CapError(
            f"alert {alert.id} has level {alert.level!r}; CAP grading exists "
            "for EMERGENCY, WARNING, WATCH and NORMAL only"
        )
    certainty = (
        grading.certainty_observed if facts.observed else grading.certainty_forecast
    )

    info = etree.Element(f"{{{CAP_NAMESPACE}}}info")
    _add(info, "language", templates.cap_language)
    _add(info, "category", "Met")
    _add(info, "event", templates.cap["event"])
    _add(info, "responseType", grading.response)
    _add(info, "urgency", grading.urgency)
    _add(info, "severity", grading.severity)
    _add(info, "certainty", certainty)
    _pair(info, "eventCode", *EVENT_CODE)
    if facts.expected and not facts.observed and not is_all_clear(alert):
        onset = alert.cycle_at + timedelta(hours=facts.expected.lead_h)
        _add(info, "onset", cap_time(onset))
    _add(info, "expires", cap_time(expires_at(alert, options)))
    _add(info, "senderName", templates.cap["sender_name"])
    _add(info, "headline", parts.of(HEADLINE))
    description = " ".join(t for t in (parts.of(EXPECTED), parts.of(READING)) if t)
    if description:
        _add(info, "description", description)
    _add(
        info,
        "instruction",
        " ".join(t for t in (parts.of(ACTION), parts.of(HELP)) if t),
    )
    _pair(info, "parameter", "ARGUS:level", alert.level)
    _pair(info, "parameter", "ARGUS:kind", alert.kind)
    if alert.station_code:
        _pair(info, "parameter", "ARGUS:station_code", alert.station_code)
    info.append(_area(facts, options))
    return info


def _area(facts: AlertFacts, options: CapOptions) -> etree._Element:
    area = etree.Element(f"{{{CAP_NAMESPACE}}}area")
    described = facts.village_name
    if facts.district:
        described += f", {facts.district}"
    _add(area, "areaDesc", described)
    if facts.lat is not None and facts.lon is not None:
        radius = f"{options.area_radius_km:g}"
        _add(area, "circle", f"{facts.lat:.5f},{facts.lon:.5f} {radius}")
    _pair(area, "geocode", "ARGUS:village_id", facts.village_id)
    return area


def _add(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, f"{{{CAP_NAMESPACE}}}{name}").text = text


def _pair(parent: etree._Element, name: str, value_name: str, value: str) -> None:
    element = etree.SubElement(parent, f"{{{CAP_NAMESPACE}}}{name}")
    _add(element, "valueName", value_name)
    _add(element, "value", value)


def _languages(session: Session, alert: Alert) -> list[str]:
    """English, then the other languages of the village's subscribers."""
    spoken = {s.language for s in village_subscribers(session, alert.village_id)}
    return ["en", *(code for code in LANGUAGES if code != "en" and code in spoken)]


def _earlier_in_episode(session: Session, alert: Alert) -> list[Alert]:
    """Load the village's earlier alerts after its last all-clear, oldest first."""
    earlier = session.exec(
        select(Alert)
        .where(Alert.village_id == alert.village_id, Alert.cycle_at < alert.cycle_at)
        .order_by(Alert.cycle_at)
    ).all()
    episode: list[Alert] = []
    for previous in earlier:
        episode = [] if is_all_clear(previous) else [*episode, previous]
    return episode


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def validate_cap(xml: bytes) -> None:
    """Check a CAP message against the OASIS CAP 1.2 schema and the rules of the
    standard that the schema does not express.

    Raises
    ------
    CapError
        Naming the first problem found.
    """
    try:
        document = etree.fromstring(xml)
    except etree.XMLSyntaxError as error:
        raise CapError(f"CAP message is not well-formed XML: {error}") from error
    schema = _schema()
    if not schema.validate(document):
        error = schema.error_log.last_error
        raise CapError(
            f"CAP message fails the CAP 1.2 schema: line {error.line}: {error.message}"
        )

    def texts(path: str) -> list[str]:
        return document.xpath(path, namespaces={"cap": CAP_NAMESPACE})

    identifier = texts("/cap:alert/cap:identifier/text()")[0]
    msg_type = texts("/cap:alert/cap:msgType/text()")[0]
    for name in ("identifier", "sender"):
        value = texts(f"/cap:alert/cap:{name}/text()")[0]
        if not _CAP_TOKEN.match(value):
            raise CapError(f"CAP {name} {value!r} contains a space, comma, < or &")
    if msg_type in ("Update", "Cancel") and not texts("/cap:alert/cap:references"):
        raise CapError(f"CAP message {identifier}: {msg_type} without references")
    for circle in texts("//cap:area/cap:circle/text()"):
        if not _CIRCLE.match(circle):
            raise CapError(
                f"CAP message {identifier}: circle {circle!r} is not "
                "'lat,lon radius_km'"
            )
