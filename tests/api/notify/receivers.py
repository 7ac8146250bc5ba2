"""Local stand-ins of the targets on 127.0.0.1: an HTTP receiver and an aiosmtpd server.

The HTTP receiver checks what the real services check: 钉钉's ``timestamp``/``sign`` query
parameters, the JSON webhook's HMAC header, and the robots' JSON shapes; it answers as they do
(``errcode``), and can be told to fail a path for the first N requests or always.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """What the HTTP receiver accepted (``ok``) and every request it saw, per path."""

    ok: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    fail_first: dict[str, int] = field(default_factory=dict)
    always_fail: set[str] = field(default_factory=set)
    delay_s: float = 0.0
    dingtalk_secret: str = ""
    webhook_secret: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


def _answer(handler: BaseHTTPRequestHandler, code: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _check(path: str, query: dict[str, list[str]], raw: bytes, headers: Any, got: Received) -> str:
    """Why the request would be refused by the real service ('' if it would be accepted)."""
    payload = json.loads(raw)
    if path.startswith("/wecom"):
        if payload.get("msgtype") != "markdown" or not payload["markdown"].get("content"):
            return "bad wecom message"
    elif path.startswith("/dingtalk"):
        stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        secret = got.dingtalk_secret.encode()
        expected = base64.b64encode(
            hmac.new(secret, f"{stamp}\n{got.dingtalk_secret}".encode(), hashlib.sha256).digest()
        ).decode()
        if not stamp or abs(time.time() * 1000 - int(stamp)) > 3_600_000:
            return "timestamp missing or too old"
        if unquote_plus(sign) != expected and sign != expected:
            return "sign mismatch"
        md = payload.get("markdown", {})
        if payload.get("msgtype") != "markdown" or not md.get("title") or not md.get("text"):
            return "bad dingtalk message"
    elif path.startswith("/hook"):
        mac = hmac.new(got.webhook_secret.encode(), raw, hashlib.sha256).hexdigest()
        if headers.get("X-Branchwatch-Signature") != f"sha256={mac}":
            return "bad signature"
        if not headers.get("X-Branchwatch-Delivery"):
            return "no delivery id"
    return ""


def _handler(got: Received) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            url = urlsplit(self.path)
            time.sleep(got.delay_s)
            with got.lock:
                got.seen[url.path] = got.seen.get(url.path, 0) + 1
                failing = url.path in got.always_fail or got.seen[url.path] <= got.fail_first.get(
                    url.path, 0
                )
            if failing:
                _answer(self, 503, {"error": "unavailable"})
                return
            problem = _check(url.path, parse_qs(url.query), raw, self.headers, got)
            if problem:
                _answer(self, 200, {"errcode": 310000, "errmsg": problem})
                return
            with got.lock:
                got.ok.setdefault(url.path, []).append(json.loads(raw))
            _answer(self, 200, {"errcode": 0, "errmsg": "ok"})

    return Handler


@contextmanager
def http_receiver(got: Received) -> Iterator[str]:
    """The HTTP receiver on a free local port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(got))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class MailBox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@contextmanager
def smtp_receiver() -> Iterator[tuple[MailBox, int]]:
    """An aiosmtpd server on a free local port; yields the mailbox and the port."""
    box = MailBox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()
