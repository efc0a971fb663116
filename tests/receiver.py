"""A real HTTP receiver for push deliveries (a CMS's webhook), started by a test or a bench
on 127.0.0.1: it answers each POST as ``answer`` says, after ``delay`` seconds, keeping
every request with the time it was answered."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass(frozen=True)
class Request:
    status: int
    headers: dict[str, str]
    body: bytes
    at: float
    """When it was answered (``time.time()``)."""

    def story(self) -> dict[str, Any]:
        parsed: dict[str, Any] = orjson.loads(self.body)
        return parsed

    def signed_with(self, secret: str) -> bool:
        """The signature is the HMAC-SHA256 of ``<timestamp>.<body>`` with ``secret``."""
        stamp = self.headers.get("X-Newswire-Timestamp", "").encode()
        wanted = hmac.new(secret.encode(), stamp + b"." + self.body, hashlib.sha256).hexdigest()
        return self.headers.get("X-Newswire-Signature") == "sha256=" + wanted


@dataclass
class Receiver:
    port: int
    answer: Callable[[bytes], int]
    delay: Callable[[], float] = lambda: 0.0
    requests: list[Request] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def delivered(self) -> list[Request]:
        """The requests answered with a 2xx, in the order they were answered."""
        return [r for r in list(self.requests) if 200 <= r.status < 300]


@contextmanager
def receiving(
    port: int, answer: Callable[[bytes], int], delay: Callable[[], float] = lambda: 0.0
) -> Iterator[Receiver]:
    """A receiver serving on ``port`` (keep-alive, a thread per connection) while in use."""
    receiver = Receiver(port, answer, delay)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            pause = receiver.delay()
            if pause:
                time.sleep(pause)
            status = receiver.answer(body)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
            receiver.requests.append(Request(status, dict(self.headers.items()), body, time.time()))

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
