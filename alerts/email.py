"""Deliver one message over SMTP (smtplib; plain, STARTTLS or SSL), with a clear error when it does
not go. The password is read from the environment (``smtp.password_env``), never from the YAML."""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage

from carewatch.config.schema import Smtp
from carewatch.core.errors import NotifyError


def send_email(smtp: Smtp, msg: EmailMessage) -> None:
    try:
        cls = smtplib.SMTP_SSL if smtp.ssl else smtplib.SMTP
        with cls(smtp.host, smtp.port, timeout=smtp.timeout) as conn:
            if smtp.starttls and not smtp.ssl:
                conn.starttls(context=ssl.create_default_context())
            if smtp.username:
                password = os.environ.get(smtp.password_env)
                if password is None:
                    raise NotifyError(
                        f"settings.yaml: smtp.password_env: the environment variable "
                        f"{smtp.password_env} (the password of user {smtp.username!r} on "
                        f"{smtp.host}:{smtp.port}) is not set"
                    )
                conn.login(smtp.username, password)
            refused = conn.send_message(msg)
    except (smtplib.SMTPException, OSError) as e:
        raise NotifyError(f"SMTP {smtp.host}:{smtp.port}: {type(e).__name__}: {e}") from e
    if refused:
        raise NotifyError(f"SMTP {smtp.host}:{smtp.port}: recipients refused: {refused}")
