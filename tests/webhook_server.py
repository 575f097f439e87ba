"""A real HTTP server on 127.0.0.1 that plays a webhook sink with scripted faults; with
``tls=True`` it answers HTTPS with a self-signed certificate for 127.0.0.1 (a Teams
workflow URL is always https)."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Sink:
    """Responses to play, in order (the last one repeats): an int status, 'hang' (never
    answers within the client's timeout), or (status, headers)."""

    script: list[object] = field(default_factory=lambda: [200])
    received: list[dict[str, object]] = field(default_factory=list)
    attempts: int = 0
    hang_seconds: float = 3.0
    url: str = ""


def _self_signed(folder: Path) -> ssl.SSLContext:
    """A server context with a fresh certificate for 127.0.0.1 (clients must not verify)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


@contextmanager
def webhook_sink(sink: Sink, tls: bool = False) -> Iterator[Sink]:
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
                sink.received.append(
                    {
                        "key": self.headers.get("idempotency-key"),
                        "body": json.loads(body),
                        "path": self.path,
                    }
                )
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
    if tls:
        with tempfile.TemporaryDirectory() as folder:
            server.socket = _self_signed(Path(folder)).wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if tls else "http"
    sink.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
