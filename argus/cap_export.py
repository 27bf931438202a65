"""Write alerts as CAP 1.2 files, one ``<identifier>.xml`` per alert.

The active alerts are the latest alert of each village, unless it is an
all-clear or has expired. With a start time, every alert since then is
written instead, all-clears included, so a consumer can replay the feed.
"""

import logging
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from argus.cap import CapOptions, build_cap, cap_identifier, expires_at, is_all_clear
from argus.errors import CapError, InputError
from argus.settings import Settings
from argus.storage.tables import Alert

logger = logging.getLogger(__name__)


@dataclass
class CapExport:
    """Files written, and the alerts whose CAP message failed validation."""

    written: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def cap_options(settings: Settings) -> CapOptions:
    """Build the CAP options from an installation's settings."""
    return CapOptions(
        sender=settings.cap_sender,
        area_radius_km=settings.cap_area_radius_km,
        expires_h=settings.cap_expires_h,
        templates_dir=settings.templates_dir,
    )


def active_alerts(
    session: Session, *, at: datetime, options: CapOptions
) -> list[Alert]:
    """Load the latest alert of each village as of ``at``, if still in force."""
    latest = (
        select(Alert.village_id, sa.func.max(Alert.cycle_at).label("cycle_at"))
        .where(Alert.cycle_at <= at)
        .group_by(Alert.village_id)
        .subquery()
    )
    alerts = session.exec(
        select(Alert)
        .join(
            latest,
            sa.and_(
                Alert.village_id == latest.c.village_id,
                Alert.cycle_at == latest.c.cycle_at,
            ),
        )
        .order_by(Alert.id)
    ).all()
    return [
        alert
        for alert in alerts
        if not is_all_clear(alert) and expires_at(alert, options) > at
    ]


def alerts_since(session: Session, since: datetime) -> list[Alert]:
    """Load every alert of a cycle at or after ``since``, oldest first."""
    return list(
        session.exec(
            select(Alert)
            .where(Alert.cycle_at >= since)
            .order_by(Alert.cycle_at, Alert.id)
        ).all()
    )


def prepare_folder(folder: Path) -> None:
    """Create the export folder if needed and check that it is writable.

    Raises
    ------
    InputError
        When the path is a file, cannot be created or is not writable.
    """
    if folder.exists() and not folder.is_dir():
        raise InputError(f"CAP export folder {str(folder)!r} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(
            f"cannot create CAP export folder {str(folder)!r}: {error.strerror}"
        ) from error
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(
            f"CAP export folder {str(folder)!r} is not writable; "
            "choose another folder or fix its permissions"
        )


def write_cap_files(
    session: Session, alerts: list[Alert], folder: Path, options: CapOptions
) -> CapExport:
    """Write the CAP message of each alert into ``folder``.

    Each file is written to a temporary name and renamed, so a reader never
    sees half a file. An alert whose message fails validation is reported and
    skipped; the others are still written.
    """
    prepare_folder(folder)
    export = CapExport()
    for alert in alerts:
        try:
            xml = build_cap(session, alert, options)
        except CapError as error:
            logger.error("alert %s: no CAP file written: %s", alert.id, error)
            export.problems.append(f"alert {alert.id}: {error}")
            continue
        path = folder / f"{cap_identifier(alert)}.xml"
        _write_atomically(path, xml)
        export.written.append(path)
    logger.info("wrote %d CAP files to %s", len(export.written), folder)
    return export


def _write_atomically(path: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        # A feed file is public: readable by the web server that serves it.
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
