"""A local SMTP server (aiosmtpd on 127.0.0.1) that saves every message it receives as .eml."""

from __future__ import annotations

import re
import socket
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
        self.out_dir = out_dir
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.files: list[Path] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001 - aiosmtpd hook
        raw = envelope.original_content or envelope.content
        msg = message_from_bytes(raw, policy=policy.default)
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

    def __init__(self, out_dir: str | Path | None = None) -> None:
        self.handler = _Handler(Path(out_dir) if out_dir else None)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    @property
    def envelopes(self) -> list[tuple[str, list[str]]]:
        return self.handler.envelopes

    @property
    def files(self) -> list[Path]:
        return self.handler.files

    def __enter__(self) -> "MailSink":
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
