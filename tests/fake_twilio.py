"""A local fake of Twilio's REST API (Messages and Calls) for tests and benchmarks.

It runs on 127.0.0.1 with a free port, in a thread of the test process (the
``fake_twilio`` fixture) or as its own process (``python -m tests.fake_twilio``,
used by ``bench/fanout.py``). The real Twilio SDK talks to it when
``ARGUS_TWILIO_BASE_URL`` names it.

- ``POST .../Messages.json`` and ``.../Calls.json`` accept every valid request:
  the fake never deduplicates, so exactly-once must come from the caller. Each
  accepted request is appended to :attr:`FakeTwilio.accepted`.
- ``GET .../Messages.json`` and ``.../Calls.json`` list them newest first,
  filtered by ``To``, ``From``, ``DateSent>``/``<`` (messages) or
  ``StartTime>``/``<`` (calls), with paging.
- :meth:`FakeTwilio.script` makes the next requests of a kind fail: ``429`` and
  ``500`` (not processed), ``slow`` (accepted, answered after ``slow_s``),
  ``drop_before`` (connection closed, not processed) and ``drop_after``
  (accepted, connection closed without an answer).
- :meth:`FakeTwilio.kill_after` sends SIGKILL to a process once a number of
  further creates were accepted, before answering the last one.
"""

import asyncio
import base64
import json
import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from aiohttp import web

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "fake-auth-token"
MODES = ("429", "500", "slow", "drop_before", "drop_after")
KINDS = ("messages", "calls", "list")


@dataclass
class Accepted:
    """One accepted create request: a message or a call."""

    sid: str
    kind: str
    to: str
    from_: str
    body: str
    date_created: datetime
    # time.time() when the fake accepted it, for latency measurements.
    accepted_at: float
    validity_period: int | None = None
    status_callback: str | None = None

    def resource(self, account_sid: str) -> dict:
        """The JSON that Twilio returns for this message or call."""
        created = self.date_created.strftime("%a, %d %b %Y %H:%M:%S +0000")
        common = {
            "sid": self.sid,
            "account_sid": account_sid,
            "to": self.to,
            "from": self.from_,
            "date_created": created,
            "date_updated": created,
            "status": "queued",
            "api_version": "2010-04-01",
        }
        if self.kind == "calls":
            return {**common, "start_time": created, "end_time": None}
        return {
            **common,
            "body": self.body,
            "date_sent": created,
            "num_segments": "1",
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
        }


@dataclass
class _Script:
    kind: str
    mode: str
    times: int


@dataclass
class FakeTwilio:
    """State of the fake: accepted requests, scripted failures, request counts."""

    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    slow_s: float = 2.0
    accepted: list[Accepted] = field(default_factory=list)
    # (method, kind, HTTP status or "dropped") of every request.
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    base_url: str = ""
    _scripts: list[_Script] = field(default_factory=list)
    _kill: tuple[int, int] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, kind: str, mode: str, *, times: int = 1) -> None:
        """Fail the next ``times`` requests of ``kind`` (messages, calls, list)."""
        if kind not in KINDS or mode not in MODES:
            raise ValueError(f"unknown kind {kind!r} or mode {mode!r}")
        with self._lock:
            self._scripts.append(_Script(kind, mode, times))

    def kill_after(self, accepted: int, pid: int) -> None:
        """SIGKILL ``pid`` when ``accepted`` more creates have been accepted."""
        with self._lock:
            self._kill = (len(self.accepted) + accepted, pid)

    def accepted_to(self, to: str) -> list[Accepted]:
        return [a for a in self.accepted if a.to == to]

    def _take_script(self, kind: str) -> str | None:
        with self._lock:
            for script in self._scripts:
                if script.kind == kind and script.times > 0:
                    script.times -= 1
                    return script.mode
        return None

    def _accept(self, record: Accepted) -> bool:
        """Log an accepted create; True when the kill switch fired."""
        with self._lock:
            self.accepted.append(record)
            if self._kill and len(self.accepted) >= self._kill[0]:
                pid = self._kill[1]
                self._kill = None
                os.kill(pid, signal.SIGKILL)
                return True
        return False


def _new_sid(kind: str) -> str:
    return ("CA" if kind == "calls" else "SM") + secrets.token_hex(16)


def _error(status: int, code: int, message: str) -> web.Response:
    body = {"code": code, "message": message, "more_info": "", "status": status}
    return web.json_response(body, status=status)


def _twilio_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def build_app(fake: FakeTwilio) -> web.Application:
    """The aiohttp application of the fake."""

    def authorised(request: web.Request, account: str) -> bool:
        expected = f"{fake.account_sid}:{fake.auth_token}".encode()
        header = request.headers.get("Authorization", "")
        return (
            account == fake.account_sid
            and header == "Basic " + base64.b64encode(expected).decode()
        )

    async def create(request: web.Request) -> web.StreamResponse:
        kind = "calls" if request.match_info["kind"] == "Calls" else "messages"
        if not authorised(request, request.match_info["account"]):
            fake.requests.append(("POST", kind, "401"))
            return _error(401, 20003, "Authenticate")
        form = await request.post()
        mode = fake._take_script(kind)
        if mode in ("429", "500", "drop_before"):
            return _fail(request, kind, mode)
        to, from_ = form.get("To", ""), form.get("From", "")
        body = form.get("Twiml", "") if kind == "calls" else form.get("Body", "")
        if not to or not from_ or not body:
            fake.requests.append(("POST", kind, "400"))
            return _error(400, 21604, "A 'To', 'From' and body are required.")
        validity = form.get("ValidityPeriod")
        if validity is not None and not 1 <= int(validity) <= 36000:
            fake.requests.append(("POST", kind, "400"))
            return _error(400, 21623, "ValidityPeriod must be 1..36000.")
        record = Accepted(
            sid=_new_sid(kind),
            kind=kind,
            to=to,
            from_=from_,
            body=body,
            date_created=datetime.now(UTC).replace(microsecond=0),
            accepted_at=time.time(),
            validity_period=int(validity) if validity is not None else None,
            status_callback=form.get("StatusCallback"),
        )
        if fake._accept(record):
            return _fail(request, kind, "drop_before")
        if mode == "drop_after":
            return _fail(request, kind, mode)
        if mode == "slow":
            await asyncio.sleep(fake.slow_s)
        fake.requests.append(("POST", kind, "201"))
        return web.json_response(record.resource(fake.account_sid), status=201)

    async def listing(request: web.Request) -> web.StreamResponse:
        kind = "calls" if request.match_info["kind"] == "Calls" else "messages"
        if not authorised(request, request.match_info["account"]):
            return _error(401, 20003, "Authenticate")
        mode = fake._take_script("list")
        if mode is not None:
            return _fail(request, "list", mode)
        query = request.query
        field_name = "StartTime" if kind == "calls" else "DateSent"
        with fake._lock:
            records = [a for a in fake.accepted if a.kind == kind]
        if "To" in query:
            records = [a for a in records if a.to == query["To"]]
        if "From" in query:
            records = [a for a in records if a.from_ == query["From"]]
        if f"{field_name}>" in query:
            after = _twilio_time(query[f"{field_name}>"])
            records = [a for a in records if a.date_created >= after]
        if f"{field_name}<" in query:
            before = _twilio_time(query[f"{field_name}<"])
            records = [a for a in records if a.date_created <= before]
        records.sort(key=lambda a: a.accepted_at, reverse=True)
        size = min(int(query.get("PageSize", 50)), 1000)
        page = int(query.get("Page", 0))
        chunk = records[page * size : (page + 1) * size]
        next_uri = None
        if (page + 1) * size < len(records):
            params = {k: v for k, v in query.items() if k not in ("Page", "PageToken")}
            params.update(Page=str(page + 1), PageToken=f"PT{page + 1}")
            next_uri = str(request.rel_url.with_query(params))
        fake.requests.append(("GET", kind, "200"))
        key = "calls" if kind == "calls" else "messages"
        return web.json_response(
            {
                key: [a.resource(fake.account_sid) for a in chunk],
                "page": page,
                "page_size": size,
                "next_page_uri": next_uri,
                "uri": str(request.rel_url),
            }
        )

    def _fail(request: web.Request, kind: str, mode: str) -> web.StreamResponse:
        if mode == "429":
            fake.requests.append((request.method, kind, "429"))
            return _error(429, 20429, "Too Many Requests")
        if mode == "500":
            fake.requests.append((request.method, kind, "500"))
            return _error(500, 20500, "Internal Server Error")
        fake.requests.append((request.method, kind, "dropped"))
        request.transport.abort()
        return web.Response(status=500)

    async def stats(_request: web.Request) -> web.Response:
        """Accepted creates and this process's CPU time (for the benchmark)."""
        times = os.times()
        return web.json_response(
            {
                "accepted": [
                    {"sid": a.sid, "to": a.to, "accepted_at": a.accepted_at}
                    for a in fake.accepted
                ],
                "cpu_s": times.user + times.system,
                "requests": len(fake.requests),
            }
        )

    app = web.Application()
    route = "/2010-04-01/Accounts/{account}/{kind:Messages|Calls}.json"
    app.router.add_post(route, create)
    app.router.add_get(route, listing)
    app.router.add_get("/_fake/stats", stats)
    return app


@dataclass
class FakeTwilioServer:
    """A running fake: ``url`` for ``ARGUS_TWILIO_BASE_URL``, ``state`` to steer it."""

    url: str
    state: FakeTwilio
    loop: asyncio.AbstractEventLoop
    runner: web.AppRunner
    thread: threading.Thread

    def close(self) -> None:
        future = asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop)
        future.result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


def start_fake_twilio(fake: FakeTwilio | None = None) -> FakeTwilioServer:
    """Start the fake on 127.0.0.1 with a free port in a thread; ``close()`` after."""
    fake = fake or FakeTwilio()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(build_app(fake), access_log=None, handle_signals=False)
    ready = threading.Event()
    port: list[int] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        port.append(site._server.sockets[0].getsockname()[1])
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    if not ready.wait(timeout=10):
        raise RuntimeError("the fake Twilio server did not start within 10 s")
    fake.base_url = f"http://127.0.0.1:{port[0]}"
    return FakeTwilioServer(fake.base_url, fake, loop, runner, thread)


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilioServer]:
    """A running fake Twilio, closed after the test."""
    server = start_fake_twilio()
    yield server
    server.close()


@pytest.fixture
def twilio_env(argus_env, fake_twilio, monkeypatch) -> FakeTwilioServer:
    """ARGUS settings that send through the fake Twilio, with short retries."""
    values = {
        "ARGUS_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "ARGUS_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "ARGUS_TWILIO_FROM": "+15005550006",
        "ARGUS_TWILIO_WHATSAPP_FROM": "+15005550007",
        "ARGUS_TWILIO_BASE_URL": fake_twilio.url,
        "ARGUS_TWILIO_TIMEOUT_S": "1",
        "ARGUS_TWILIO_BACKOFF_S": "0.01",
        "ARGUS_TWILIO_MESSAGES_PER_S": "1000",
        "ARGUS_TWILIO_CALLS_PER_S": "1000",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return fake_twilio


def main() -> None:
    """Run the fake as a process; prints its URL on the first line of stdout."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    fake = FakeTwilio()

    async def serve() -> None:
        runner = web.AppRunner(build_app(fake), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", args.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        print(json.dumps({"url": f"http://127.0.0.1:{port}"}), flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
