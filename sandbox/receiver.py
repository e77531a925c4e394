"""A small HTTP receiver a test can point a webhook or callback at (the ``webhook_receiver`` fixture).

It listens on 127.0.0.1 in a background thread, records every request (method, path, query, headers, body)
and answers ``200 {"status": "ok"}``, or the statuses queued with ``respond_with`` (to test retries).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)

    @property
    def json(self) -> Any:
        """The body parsed as JSON, or None."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class WebhookReceiver:
    """``url`` to configure, ``requests`` received, ``wait(count)`` to block until they arrive."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requests: list[Received] = []
        self._answers: deque[tuple[int, Any]] = deque()
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                status, payload = receiver._next_answer()
                out = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
                with receiver._arrived:
                    receiver.requests.append(Received(self.command, parts.path, dict(parse_qsl(parts.query)),
                                                      dict(self.headers.items()), body))
                    receiver._arrived.notify_all()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def respond_with(self, *statuses: int, body: Any = None) -> None:
        """Answer the next requests with these statuses (then 200 again)."""
        for status in statuses:
            self._answers.append((status, body if body is not None else {"status": "error"}))

    def _next_answer(self) -> tuple[int, Any]:
        return self._answers.popleft() if self._answers else (200, {"status": "ok"})

    def wait(self, count: int = 1, timeout: float = 5.0) -> list[Received]:
        """Block until ``count`` requests arrived; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"the webhook receiver at {self.url} got {len(self.requests)} request(s) "
                                         f"within {timeout:g}s, expected {count}")
                self._arrived.wait(remaining)
            return list(self.requests)

    def clear(self) -> None:
        with self._arrived:
            self.requests.clear()
