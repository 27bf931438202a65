"""The HTTP API of ``argus api``: Twilio's webhooks, with signatures checked.

``POST /webhooks/twilio/status`` records a message's or call's delivery state;
``POST /webhooks/twilio/inbound`` stores a reply, acts on it and responds with
TwiML. A request without a valid ``X-Twilio-Signature`` gets 403 and changes
nothing. The signed URL is the public one Twilio called: ``ARGUS_PUBLIC_URL``
plus the path, because a proxy in front of ARGUS changes the local URL.
"""

import logging
from urllib.parse import parse_qsl

import sqlalchemy as sa
from fastapi import FastAPI, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.messaging_response import MessagingResponse

from argus.errors import ConfigurationError
from argus.replies import handle_inbound
from argus.reports import reporter_secret
from argus.sending.deliveries import record_delivery
from argus.sending.outbox import count_by_status
from argus.settings import Settings
from argus.storage.db import session_scope

logger = logging.getLogger(__name__)


def create_app(settings: Settings, engine: sa.Engine) -> FastAPI:
    """Build the API app.

    Raises
    ------
    ConfigurationError
        When ``ARGUS_TWILIO_AUTH_TOKEN`` is not set: signatures cannot be checked.
    """
    if not settings.twilio_auth_token:
        raise ConfigurationError(
            "argus api checks Twilio's webhook signatures with the auth token; "
            "set ARGUS_TWILIO_AUTH_TOKEN"
        )
    validator = RequestValidator(settings.twilio_auth_token)
    hash_key = settings.phone_hash_key or settings.twilio_auth_token
    report_secret = reporter_secret(settings)
    app = FastAPI(title="ARGUS", docs_url=None, redoc_url=None, openapi_url=None)

    async def signed_form(request: Request) -> ImmutableMultiDict:
        """The form fields of a request whose Twilio signature is valid."""
        raw = await request.body()
        try:
            params = ImmutableMultiDict(
                parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
            )
        except UnicodeDecodeError:
            params = None
        signature = request.headers.get("X-Twilio-Signature")
        url = _signed_url(request, settings.public_url)
        algorithm = get_signature_algorithm(
            request.headers.get(SIGNATURE_SETTINGS_HEADER)
        )
        if (
            params is None
            or not signature
            or not validator.validate(url, params, signature, algorithm)
        ):
            logger.warning(
                "rejected %s: %s signature for %s",
                request.url.path,
                "invalid" if signature else "missing",
                url,
            )
            raise HTTPException(status_code=403, detail="invalid Twilio signature")
        return params

    @app.post("/webhooks/twilio/status", status_code=204)
    async def status_callback(request: Request) -> Response:
        params = await signed_form(request)
        sid = params.get("MessageSid") or params.get("CallSid")
        status = params.get("MessageStatus") or params.get("CallStatus")
        if not sid or not status:
            raise HTTPException(
                status_code=400, detail="MessageSid/CallSid and a status are required"
            )

        def store() -> None:
            with session_scope(engine) as session:
                record_delivery(
                    session,
                    provider_sid=sid,
                    status=status,
                    error_code=params.get("ErrorCode"),
                )

        await run_in_threadpool(store)
        return Response(status_code=204)

    @app.post("/webhooks/twilio/inbound")
    async def inbound(request: Request) -> Response:
        params = await signed_form(request)
        sid = params.get("MessageSid") or params.get("SmsSid")
        sender = params.get("From")
        if not sid or not sender:
            raise HTTPException(status_code=400, detail="MessageSid and From required")

        def store() -> str:
            with session_scope(engine) as session:
                result = handle_inbound(
                    session,
                    provider_sid=sid,
                    from_address=sender,
                    body=params.get("Body", ""),
                    hash_key=hash_key,
                    report_secret=report_secret,
                )
            return result.response

        response = await run_in_threadpool(store)
        twiml = MessagingResponse()
        if response:
            twiml.message(response)
        return Response(content=str(twiml), media_type="application/xml")

    @app.get("/health")
    async def health() -> dict:
        def counts() -> dict[str, int]:
            with session_scope(engine) as session:
                return count_by_status(session)

        return {"status": "ok", "outbox": await run_in_threadpool(counts)}

    return app


def _signed_url(request: Request, public_url: str) -> str:
    if not public_url:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return public_url.rstrip("/") + request.url.path + query
