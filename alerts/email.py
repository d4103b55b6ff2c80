"""Deliver one message over SMTP (smtplib; plain, STARTTLS or SSL), with a clear error when it does
not go. The password is read from the environment (``smtp.password_env``), never from the YAML.
Also how a message is written for the wire: ``MAIL_POLICY`` and ``set_subject``."""

from __future__ import annotations

import os
import smtplib
import ssl
from email import policy
from email.header import Header
from email.message import EmailMessage

from carewatch.config.schema import Smtp
from carewatch.core.errors import NotifyError

# RFC 5322 on the wire: CRLF line ends, header lines folded at 78 characters, bodies 7-bit
# (quoted-printable or base64) so no relay needs 8BITMIME.
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit")


def set_subject(msg: EmailMessage, subject: str) -> None:
    """Set the Subject so that every mail program decodes it to exactly ``subject``.

    An ASCII subject is folded by the policy at spaces. A subject with other characters is written
    by hand, not by the policy, because the policy's folder (CPython 3.11 to 3.13, gh-144156) folds
    a header that mixes plain words and RFC 2047 encoded words inside a word: "… un\\r\\n
    =?utf-8?q?ion_survey…?=" reads back as "un ion survey". ``email.header.Header`` (the standard
    library's other encoder) writes the whole value as encoded words, each line a complete one cut
    between characters, which readers join without a space; the lines are kept as they are
    (``set_raw``; the policy refolds only lines over 78)."""
    if subject.isascii():
        msg["Subject"] = subject
        return
    msg.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode())


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
