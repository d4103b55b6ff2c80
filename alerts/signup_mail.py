"""The emails of signing up: the confirmation link (double opt-in), and the answer to a sign-up for
an address that already gets digests (its manage link), so the page's answer is the same either
way. Plain text (Jinja2 without autoescape: nothing in them is HTML), addressed to the bare address:
the name someone typed is never put in a header."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from jinja2 import Environment, PackageLoader

from carewatch.alerts.email import MAIL_POLICY, set_subject
from carewatch.config.schema import Config

_env = Environment(loader=PackageLoader("carewatch.alerts", "templates"), autoescape=False, trim_blocks=True)


def _message(config: Config, to: str, subject: str, body: str, now: datetime) -> EmailMessage:
    msg = EmailMessage(policy=MAIL_POLICY)
    set_subject(msg, subject)
    msg["From"] = config.settings.smtp.sender
    msg["To"] = to
    msg["Date"] = formatdate(now.timestamp(), localtime=False)
    sender = config.settings.smtp.sender
    domain = (sender.rsplit("@", 1)[-1].strip(" >") if "@" in sender else "") or "carewatch.local"
    msg["Message-ID"] = make_msgid("carewatch-signup", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body)
    return msg


def confirmation_message(
    config: Config, to: str, name: str, link: str, days: int, interests: list[str], now: datetime
) -> EmailMessage:
    body = _env.get_template("confirm.txt.j2").render(name=name, link=link, days=days, interests=interests)
    return _message(config, to, "Confirm your carewatch alerts", body, now)


def already_message(config: Config, to: str, name: str, manage_link: str | None, now: datetime) -> EmailMessage:
    body = _env.get_template("already.txt.j2").render(name=name, manage_link=manage_link)
    return _message(config, to, "You already get carewatch alerts", body, now)
