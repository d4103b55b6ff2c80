"""A local SMTP server (aiosmtpd on 127.0.0.1) that saves every message it receives as .eml."""

from __future__ import annotations

import re
import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Handler:
    def __init__(self, out_dir: Path | None) -> None:
        self.mode = "accept"  # accept | refuse (554) | tempfail (451) | drop (hang up after DATA, no reply)
        self.out_dir = out_dir
        self.messages: list[EmailMessage] = []
        self.received: list[float] = []  # time.time() when each message was accepted
        self.envelopes: list[tuple[str, list[str]]] = []
        self.files: list[Path] = []

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "refuse":
            return "554 5.7.1 Message refused"
        if self.mode == "tempfail":
            return "451 4.3.0 Try again later"
        if self.mode == "drop":
            server.transport.abort()  # the connection drops after DATA: the client never hears back
            return "250 never heard"
        raw = envelope.original_content or envelope.content
        msg = message_from_bytes(raw, policy=policy.default)
        self.received.append(time.time())
        self.messages.append(msg)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            to = re.sub(r"[^A-Za-z0-9@._-]+", "_", ",".join(envelope.rcpt_tos))[:60]
            path = self.out_dir / f"{len(list(self.out_dir.glob('*.eml'))) + 1:03d}-{to}.eml"
            path.write_bytes(raw)
            self.files.append(path)
        return "250 Message accepted for delivery"


class MailSink:
    """``with MailSink(out_dir) as sink:`` then send to 127.0.0.1:sink.port; read sink.messages."""

    def __init__(self, out_dir: str | Path | None = None, credentials: tuple[str, str] | None = None) -> None:
        """``credentials``: require AUTH with this user and password (loopback, so without TLS)."""
        self.handler = _Handler(Path(out_dir) if out_dir else None)
        self.port = free_port()
        self.credentials = credentials
        self.controller = self._controller()

    def _controller(self) -> Controller:
        if not self.credentials:
            return Controller(self.handler, hostname="127.0.0.1", port=self.port)
        from aiosmtpd.smtp import AuthResult, LoginPassword

        user, password = self.credentials

        def check(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            return AuthResult(success=ok, handled=False)

        return Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=check,
            auth_required=True,
            auth_require_tls=False,
        )

    @property
    def mode(self) -> str:
        return self.handler.mode

    @mode.setter
    def mode(self, value: str) -> None:
        self.handler.mode = value

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    @property
    def received(self) -> list[float]:
        """When each of ``messages`` was accepted (``time.time()``), in the same order."""
        return self.handler.received

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        return self.handler.envelopes

    @property
    def files(self) -> list[Path]:
        return self.handler.files

    def __enter__(self) -> MailSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """The server goes away (connections refused) until start()."""
        if getattr(self.controller, "_thread", None) is not None:
            self.controller.stop()

    def start(self) -> None:
        self.controller = self._controller()
        self.controller.start()
