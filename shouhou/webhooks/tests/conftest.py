"""A webhook receiver as an integrator would write it: a real HTTP server on a local port that
checks signatures with its own code (not ours)."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Receiver:
    """A webhook receiver as an integrator would write it (independent of our signing code)."""

    url: str
    statuses: list[int] = field(default_factory=list)  # answers to give, then 200
    requests: list[dict] = field(default_factory=list)

    secret: str = ""  # when set, the receiver answers 401 to a request it cannot verify

    def verifies(self, request: dict, secret: str) -> bool:
        parts = [p.split("=", 1) for p in request["headers"]["Shouhou-Signature"].split(",")]
        timestamp = next(v for k, v in parts if k == "t")
        expected = hmac.new(
            secret.encode(), f"{timestamp}.".encode() + request["body"], hashlib.sha256
        ).hexdigest()
        return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    settings.WEBHOOK_ALLOW_HTTP_HOSTS = ["127.0.0.1"]
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = {"headers": dict(self.headers), "body": body}
            state.requests.append(request)
            status = state.statuses.pop(0) if state.statuses else 200
            if state.secret and not state.verifies(request, state.secret):
                status = 401
            self.send_response(status)
            self.end_headers()
            self.wfile.write({200: b"ok", 401: b"bad signature"}.get(status, b"busy"))

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}/hooks"
    yield state
    server.shutdown()
    server.server_close()
