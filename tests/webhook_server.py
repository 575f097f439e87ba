"""A real HTTP server on 127.0.0.1 that plays a webhook sink with scripted faults."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Sink:
    """Responses to play, in order (the last one repeats): an int status, 'hang' (never
    answers within the client's timeout), or (status, headers)."""

    script: list[object] = field(default_factory=lambda: [200])
    received: list[dict[str, object]] = field(default_factory=list)
    attempts: int = 0
    hang_seconds: float = 3.0
    url: str = ""


@contextmanager
def webhook_sink(sink: Sink) -> Iterator[Sink]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = self.rfile.read(length)
            step = sink.script[min(sink.attempts, len(sink.script) - 1)]
            sink.attempts += 1
            if step == "hang":
                time.sleep(sink.hang_seconds)
                return
            status, headers = step if isinstance(step, tuple) else (step, {})
            if status < 300:
                sink.received.append({
                    "key": self.headers.get("idempotency-key"),
                    "body": json.loads(body),
                })
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
