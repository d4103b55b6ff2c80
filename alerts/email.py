"""Deliver one message over SMTP (smtplib), with a clear error when it does not go."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from config.schema import Smtp
from core.errors import NotifyError


def send_email(smtp: Smtp, msg: EmailMessage) -> None:
    try:
        cls = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
        with cls(smtp.host, smtp.port, timeout=smtp.timeout) as conn:
            if smtp.starttls and not smtp.ssl:
                conn.starttls(context=ssl.create_default_context())
            if smtp.username:
                conn.login(smtp.username, smtp.password or "")
            refused = conn.send_message(msg)
    except (smtplib.SMTPException, OSError) as e:
        raise NotifyError(f"SMTP {smtp.host}:{smtp.port}: {type(e).__name__}: {e}") from e
    if refused:
        raise NotifyError(f"SMTP {smtp.host}:{smtp.port}: recipients refused: {refused}")
