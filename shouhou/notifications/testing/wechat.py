"""A local WeChat Official Account API: access tokens and template messages.

It behaves like ``api.weixin.qq.com`` for the two calls the adapter makes:

- ``GET /cgi-bin/token?grant_type=client_credential&appid=..&secret=..`` checks the app id
  (40013) and secret (40125) and issues a new token that lives ``token_lifetime`` seconds
  (7200 by default); like WeChat, every call issues a new one.
- ``POST /cgi-bin/message/template/send?access_token=..`` refuses an unknown token (40001) and
  an expired one (42001), validates the body (47001: not JSON or the wrong shape; 40037: an
  unknown template; 40003: not an openid; 43004: not a follower), records the message and
  answers ``{"errcode": 0, "errmsg": "ok", "msgid": ...}``.

Tests can expire tokens (``advance(seconds)`` moves its clock), revoke them (40001 next time),
or make the next sends answer any errcode or HTTP status (``answer_next``).
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from shouhou.notifications.testing._server import FakeHandler, LocalServer

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    42001: "access_token expired",
    43004: "require subscribe",
    45009: "reach max api daily quota limit",
    47001: "data format error",
}
OPENID = re.compile(r"^[A-Za-z0-9_-]{28}$")


def openid() -> str:
    """A well-formed openid (28 characters, like WeChat's)."""
    return "o" + secrets.token_urlsafe(21)[:27]


@dataclass
class SentTemplate:
    touser: str
    template_id: str
    data: dict[str, dict[str, str]]
    url: str | None
    client_msg_id: str | None
    access_token: str
    msgid: int


@dataclass
class FakeWeChatServer(LocalServer):
    app_id: str = "wx0123456789abcdef"
    secret: str = "fake-app-secret"  # noqa: S105 (a test server)
    token_lifetime: int = 7200
    templates: set[str] = field(default_factory=set)
    followers: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, float] = {}  # token -> expiry on this server's clock
        self.token_requests = 0
        self.sent: list[SentTemplate] = []
        self.refused: list[dict[str, Any]] = []  # every non-zero errcode answered to a send
        self._forced: list[tuple[int, int]] = []  # (http status, errcode)
        self._skew = 0.0
        self._msgids = itertools.count(2_000_000_001)

    # --- test controls ------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._skew

    def advance(self, seconds: float) -> None:
        """Move this server's clock (tokens expire on it)."""
        with self.lock:
            self._skew += seconds

    def revoke_tokens(self) -> None:
        """Forget every token (as when another client fetched a new one long ago): 40001."""
        with self.lock:
            self.tokens.clear()

    def answer_next(self, errcode: int = 0, *, status: int = 200, times: int = 1) -> None:
        """The next ``times`` valid sends answer this errcode (or HTTP status) instead."""
        with self.lock:
            self._forced.extend([(status, errcode)] * times)

    # --- the API ------------------------------------------------------------------------------

    def handle(self, method: str, handler: FakeHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if method == "GET" and parts.path == "/cgi-bin/token":
            handler.answer_json(self._token(query))
        elif method == "POST" and parts.path == "/cgi-bin/message/template/send":
            status, payload = self._send(query, handler.body())
            if status != 200:
                handler.answer(status, b"<html>bad gateway</html>")
            else:
                handler.answer_json(payload)
        else:
            handler.answer(404, b"not found")

    @staticmethod
    def _error(errcode: int) -> dict[str, Any]:
        return {"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")}

    def _token(self, query: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            self.token_requests += 1
            if query.get("grant_type") != "client_credential":
                return self._error(40002)
            if query.get("appid") != self.app_id:
                return self._error(40013)
            if query.get("secret") != self.secret:
                return self._error(40125)
            token = "ACCESS_TOKEN_" + secrets.token_urlsafe(24)
            self.tokens[token] = self.now() + self.token_lifetime
            return {"access_token": token, "expires_in": self.token_lifetime}

    def _send(self, query: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        with self.lock:
            token = query.get("access_token", "")
            if token not in self.tokens:
                return self._refuse(40001, token)
            if self.tokens[token] <= self.now():
                return self._refuse(42001, token)
            try:
                body = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return self._refuse(47001, token)
            if not self._well_formed(body):
                return self._refuse(47001, token)
            if body["template_id"] not in self.templates:
                return self._refuse(40037, token)
            if not OPENID.match(body["touser"]):
                return self._refuse(40003, token)
            if self._forced:
                status, errcode = self._forced.pop(0)
                if status != 200:
                    return status, {}
                if errcode:
                    return self._refuse(errcode, token)
            if body["touser"] not in self.followers:
                return self._refuse(43004, token)
            msgid = next(self._msgids)
            self.sent.append(
                SentTemplate(
                    touser=body["touser"],
                    template_id=body["template_id"],
                    data=body["data"],
                    url=body.get("url"),
                    client_msg_id=body.get("client_msg_id"),
                    access_token=token,
                    msgid=msgid,
                )
            )
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    def _refuse(self, errcode: int, token: str) -> tuple[int, dict[str, Any]]:
        self.refused.append({"errcode": errcode, "access_token": token})
        return 200, self._error(errcode)

    @staticmethod
    def _well_formed(body: Any) -> bool:
        if not isinstance(body, dict):
            return False
        if not isinstance(body.get("touser"), str) or not isinstance(body.get("template_id"), str):
            return False
        data = body.get("data")
        if not isinstance(data, dict) or not data:
            return False
        for name, item in data.items():
            if not isinstance(name, str) or not isinstance(item, dict):
                return False
            if not isinstance(item.get("value"), str):
                return False
        for optional in ("url", "client_msg_id"):
            if optional in body and not isinstance(body[optional], str):
                return False
        return True
