"""Domain exceptions of ARGUS.

Every error that ARGUS raises on purpose derives from ``ArgusError``::

    ArgusError
    ├── ConfigurationError      a setting or command-line value is invalid
    ├── SourceError             a data source failed for this cycle
    │   ├── SourceUnavailable   the source could not be reached (network, timeout, 5xx)
    │   └── PayloadError        the source answered, but not with usable data
    ├── ReplayError             a replay folder cannot serve the requested time
    ├── ContractError           a data contract could not be evaluated at all
    ├── InputError              a user-supplied file (villages, subscribers) is invalid
    ├── StorageError            the database rejected or lost a write
    └── CapError                a CAP message ARGUS built is not valid CAP 1.2
"""


class ArgusError(Exception):
    """Base class of the errors ARGUS raises on purpose."""


class ConfigurationError(ArgusError):
    """A setting or command-line value is invalid."""


class SourceError(ArgusError):
    """A data source failed for this cycle; other sources go on."""

    def __init__(self, source: str, cause: str) -> None:
        super().__init__(f"{source}: {cause}")
        self.source = source
        self.cause = cause

    def __reduce__(self):
        # Rebuild from (source, cause): Prefect pickles a failed task's error.
        return (type(self), (self.source, self.cause))


class SourceUnavailable(SourceError):
    """The source could not be reached: connection refused, timeout or HTTP 5xx."""


class PayloadError(SourceError):
    """The source answered, but the payload is malformed or not what was expected."""


class ReplayError(ArgusError):
    """A replay folder has no snapshot visible at the requested time."""


class ContractError(ArgusError):
    """A data contract could not be evaluated (for example, a column is missing)."""


class InputError(ArgusError):
    """A user-supplied file is invalid; the message names the line and the cause."""


class StorageError(ArgusError):
    """The database rejected a write or could not be reached."""


class CapError(ArgusError):
    """A CAP message fails the OASIS CAP 1.2 schema or a rule of the standard."""
