"""A real SMTP server on 127.0.0.1 (asyncio, in a thread) that keeps what it receives.

The subset of RFC 5321 smtplib uses without TLS or authentication: EHLO/HELO, MAIL, RCPT,
DATA (dot-unstuffed), RSET, NOOP, QUIT. ``refuse_first`` answers the DATA of the first
messages with a temporary failure (451), as a server under load would.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def part(self, content_type: str) -> str:
        """The text of the message's first part of this type (text/html, text/plain)."""
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return str(part.get_content())
        raise KeyError(content_type)


@dataclass
class MailServer:
    refuse_first: int = 0
    received: list[Mail] = field(default_factory=list)
    attempts: int = 0
    port: int = 0


def _address(argument: str) -> str:
    return argument.split(":", 1)[1].strip().strip("<>").split(">")[0]


@contextmanager
def smtp_server(server: MailServer) -> Iterator[MailServer]:
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def reply(line: str) -> None:
            writer.write(f"{line}\r\n".encode())

        reply("220 127.0.0.1 ESMTP test server")
        sender, recipients = "", []
        while line := (await reader.readline()).decode("utf-8", "replace").strip():
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                reply("250 127.0.0.1")
            elif verb == "MAIL":
                sender, recipients = _address(line), []
                reply("250 OK")
            elif verb == "RCPT":
                recipients.append(_address(line))
                reply("250 OK")
            elif verb == "DATA":
                reply("354 end data with <CR><LF>.<CR><LF>")
                await writer.drain()
                lines = []
                while (data := await reader.readline()) not in (b".\r\n", b".\n", b""):
                    lines.append(data[1:] if data.startswith(b"..") else data)
                server.attempts += 1
                if server.attempts <= server.refuse_first:
                    reply("451 4.3.0 try again later")
                else:
                    parsed = message_from_bytes(b"".join(lines), policy=policy.default)
                    assert isinstance(parsed, EmailMessage)
                    server.received.append(Mail(sender, recipients, parsed))
                    reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                reply("250 OK")
            elif verb == "QUIT":
                reply("221 bye")
                await writer.drain()
                break
            else:
                reply("502 command not implemented")
            await writer.drain()
        writer.close()

    loop = asyncio.new_event_loop()
    listening = loop.run_until_complete(asyncio.start_server(session, "127.0.0.1", 0))
    server.port = listening.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:

        async def close() -> None:
            listening.close()
            await listening.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
