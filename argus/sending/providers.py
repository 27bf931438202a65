"""Channels that carry outbox rows: Twilio (SMS, WhatsApp, voice) and the console.

A provider sends one message and, after a crash or an unknown outcome, finds a
message it may already have accepted. Its error classes show whether the
request may have been processed, because only then must the sender look before
it retries:

- :class:`RetryableRejection`: not processed (HTTP 429), safe to send again;
- :class:`OutcomeUnknown`: maybe processed (5xx, timeout, dropped connection);
- :class:`PermanentRejection`: rejected for good (other 4xx), never retried.
"""

import asyncio
import base64
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from argus.errors import ConfigurationError
from argus.settings import Settings
from argus.subscribers import masked_phone

logger = logging.getLogger(__name__)

# The SDK logs every request URL at INFO, and a listing's URL contains the
# recipient's number, so its logger only passes warnings.
_sdk_logger = logging.getLogger("argus.sending.twilio_sdk")
_sdk_logger.setLevel(logging.WARNING)

# Records per page when listing a recipient's messages or calls.
LISTING_PAGE_SIZE = 50
# Margin before a row's first send attempt when looking for what was accepted.
CLOCK_SKEW = timedelta(seconds=60)


@dataclass(frozen=True)
class OutgoingMessage:
    """One outbox row, ready for a provider."""

    outbox_id: int
    channel: str
    to: str
    body: str
    # Seconds the provider may keep the message queued (SMS and WhatsApp).
    validity_s: int | None = None


class SendError(Exception):
    """A provider did not confirm a message; the message never has a number."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class RetryableRejection(SendError):
    """The provider rejected the request without processing it (HTTP 429)."""


class OutcomeUnknown(SendError):
    """The provider may have accepted the message: 5xx, timeout or lost connection."""


class PermanentRejection(SendError):
    """The provider rejected the message for good, e.g. an invalid number."""


class Provider(Protocol):
    """Interface of a channel provider, as the sender uses it."""

    name: str

    def sender_address(self, channel: str) -> str:
        """Return the address a channel sends from (the rate limit is per address)."""

    async def send(self, message: OutgoingMessage) -> str:
        """Send one message; returns the provider's id (SID)."""

    async def find_accepted(
        self, message: OutgoingMessage, *, since: datetime, known_sids: set[str]
    ) -> str | None:
        """SID of a message like ``message`` accepted since ``since``, or None."""

    async def close(self) -> None:
        """Release connections."""


def twilio_address(channel: str, phone: str) -> str:
    """Twilio's address of a phone on a channel (WhatsApp has a prefix)."""
    return f"whatsapp:{phone}" if channel == "whatsapp" else phone


def check_twilio_settings(settings: Settings) -> None:
    """Reject a half-configured Twilio account before anything is sent.

    Raises
    ------
    ConfigurationError
        When only one of the SID and token is set, or the SMS sender is missing.
    """
    if not settings.twilio_enabled:
        return
    missing = [
        name
        for name, value in (
            ("ARGUS_TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
            ("ARGUS_TWILIO_AUTH_TOKEN", settings.twilio_auth_token),
            ("ARGUS_TWILIO_FROM", settings.twilio_from),
        )
        if not value
    ]
    if missing:
        raise ConfigurationError(
            f"Twilio is half configured: {', '.join(missing)} not set; set them, "
            "or unset ARGUS_TWILIO_ACCOUNT_SID and ARGUS_TWILIO_AUTH_TOKEN to use "
            "the console channel"
        )


class TwilioProvider:
    """Twilio's REST API through the official SDK's asynchronous client.

    Create it inside a running event loop (the SDK opens an aiohttp session).
    """

    name = "twilio"

    def __init__(self, settings: Settings) -> None:
        from twilio.rest import Client

        check_twilio_settings(settings)
        self._settings = settings
        self._http = _http_client()
        self._client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            http_client=self._http,
        )
        if settings.twilio_base_url:
            # Every Messages and Calls request is built on this domain's base URL.
            self._client.api.base_url = settings.twilio_base_url.rstrip("/")
        self._status_callback = (
            settings.public_url.rstrip("/") + "/webhooks/twilio/status"
            if settings.public_url
            else None
        )

    def sender_address(self, channel: str) -> str:
        settings = self._settings
        if channel == "whatsapp":
            if not settings.twilio_whatsapp_from:
                raise PermanentRejection(
                    "ARGUS_TWILIO_WHATSAPP_FROM is not set, so WhatsApp cannot send"
                )
            return twilio_address("whatsapp", settings.twilio_whatsapp_from)
        if channel == "voice":
            return settings.twilio_voice_from or settings.twilio_from
        return settings.twilio_from

    async def send(self, message: OutgoingMessage) -> str:
        sender = self.sender_address(message.channel)
        to = twilio_address(message.channel, message.to)
        optional = {}
        if self._status_callback:
            optional["status_callback"] = self._status_callback
        if message.channel == "voice":
            call = await self._call(
                self._client.calls.create_async(
                    to=to, from_=sender, twiml=message.body, **optional
                )
            )
            return call.sid
        if message.validity_s is not None:
            optional["validity_period"] = message.validity_s
        sent = await self._call(
            self._client.messages.create_async(
                to=to, from_=sender, body=message.body, **optional
            )
        )
        return sent.sid

    async def find_accepted(
        self, message: OutgoingMessage, *, since: datetime, known_sids: set[str]
    ) -> str | None:
        sender = self.sender_address(message.channel)
        to = twilio_address(message.channel, message.to)
        # Twilio's times have whole seconds and its clock is not ours.
        since = since.astimezone(UTC) - CLOCK_SKEW
        if message.channel == "voice":
            resource, after = self._client.calls, {"start_time_after": since}
        else:
            resource, after = self._client.messages, {"date_sent_after": since}
        # Twilio sets date_sent (start_time) when a message (call) leaves its
        # queue, so one still queued is only in the newest page of a plain list.
        listings = (
            lambda: resource.list_async(to=to, page_size=LISTING_PAGE_SIZE, **after),
            lambda: resource.list_async(to=to, limit=LISTING_PAGE_SIZE),
        )
        found = {}
        for listing in listings:
            for record in await self._call(listing()):
                found[record.sid] = record
        candidates = [
            record
            for sid, record in found.items()
            if sid not in known_sids
            and _sender_of(record) == sender
            and record.date_created is not None
            and record.date_created >= since
            and (message.channel == "voice" or record.body == message.body)
        ]
        # NOTE: a call's TwiML is not in Twilio's listing, so two voice rows to
        # one number in flight at a crash are distinguished only by time.
        candidates.sort(key=lambda record: record.date_created)
        return candidates[0].sid if candidates else None

    async def _call(self, awaitable):
        """Await one SDK request within the timeout and classify its failure."""
        from aiohttp import ClientError
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            async with asyncio.timeout(self._settings.twilio_timeout_s):
                return await awaitable
        except TwilioRestException as error:
            raise _classify(error.status, error.code, error.msg) from None
        except TimeoutError:
            raise OutcomeUnknown(
                f"no response within {self._settings.twilio_timeout_s} s"
            ) from None
        except ClientError as error:
            raise OutcomeUnknown(f"connection failed: {type(error).__name__}") from None
        except TwilioException as error:
            # A listing page that did not come back with 200.
            raise OutcomeUnknown(f"listing failed: {error}") from None

    async def close(self) -> None:
        await self._http.close()


def _http_client():
    """Build the SDK's asynchronous HTTP client, sending credentials as a header.

    twilio 9.13 passes ``aiohttp.BasicAuth`` and ``auth=``, both deprecated in
    aiohttp 3.14; this subclass builds the same Basic header itself and does
    not log requests (their URLs may contain a number).
    """
    from twilio.http.async_http_client import AsyncTwilioHttpClient
    from twilio.http.response import Response

    class HeaderAuthClient(AsyncTwilioHttpClient):
        async def request(
            self,
            method: str,
            url: str,
            params=None,
            data=None,
            headers=None,
            auth=None,
            timeout=None,
            allow_redirects: bool = False,
        ) -> Response:
            headers = dict(headers or {})
            if auth is not None:
                token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
                headers["Authorization"] = f"Basic {token}"
            async with self.session.request(
                method.upper(),
                url,
                params=params,
                data=data,
                headers=headers,
                allow_redirects=allow_redirects,
            ) as response:
                text = await response.text()
                return Response(response.status, text, response.headers)

    return HeaderAuthClient(logger=_sdk_logger)


def _sender_of(record) -> str | None:
    # The SDK names the field from_ on messages and _from on calls.
    return getattr(record, "from_", None) or getattr(record, "_from", None)


def _classify(status: int, code: int | None, text: str) -> SendError:
    # Twilio's error texts may quote the number; keep the code and status only.
    reason = f"Twilio HTTP {status}" + (f", error {code}" if code else "")
    if status == 429:
        return RetryableRejection(reason, status=status)
    if status >= 500:
        return OutcomeUnknown(reason, status=status)
    return PermanentRejection(reason, status=status)


class ConsoleProvider:
    """Records what would be sent, for a system without Twilio credentials.

    Each message is appended as one JSON line to ``path`` (the number masked)
    and logged; its SID is ``console-<outbox id>``.
    """

    name = "console"

    def __init__(self, path: Path) -> None:
        self.path = path

    def sender_address(self, channel: str) -> str:
        return f"console:{channel}"

    async def send(self, message: OutgoingMessage) -> str:
        sid = f"console-{message.outbox_id}"
        record = {
            "sid": sid,
            "outbox_id": message.outbox_id,
            "channel": message.channel,
            "to": masked_phone(message.to),
            "body": message.body,
            "recorded_at": datetime.now(UTC).isoformat(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        logger.info(
            "console %s to %s: %s",
            message.channel,
            masked_phone(message.to),
            message.body,
        )
        return sid

    async def find_accepted(
        self, message: OutgoingMessage, *, since: datetime, known_sids: set[str]
    ) -> str | None:
        sid = f"console-{message.outbox_id}"
        return sid if self._recorded(sid) else None

    def _recorded(self, sid: str) -> bool:
        if not self.path.is_file():
            return False
        marker = f'"sid": "{sid}"'
        with self.path.open(encoding="utf-8") as handle:
            return any(marker in line for line in handle)

    async def close(self) -> None:
        return None


def open_provider(settings: Settings) -> Provider:
    """Twilio when credentials are set, else the console channel."""
    if settings.twilio_enabled:
        return TwilioProvider(settings)
    return ConsoleProvider(settings.home / "console_messages.jsonl")
