"""Self-service subscriptions as services: sign up (double opt-in), confirm, manage, pause, resume,
download my data, delete me, unsubscribe (also RFC 8058 one-click), and the operator's
``carewatch subscribers …`` verbs.

The web pages (archive/plugin/subscribe.py) and the CLI call only these functions. Each opens the
archive itself (read-write: a connection of its own, never Datasette's read-only one) and closes it.

Tokens: every link carries a token of 32 random bytes (``secrets.token_urlsafe``), kept only as
its SHA-256, for one subscriber and one purpose (confirm, manage, unsubscribe), with an expiry
(store.subscriptions). A confirmation link works once (a second click says it is done already);
the manage and unsubscribe links of a digest are made when it is rendered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlite_utils import Database

from carewatch.alerts.email import send_email
from carewatch.alerts.match import SearchTooSlow, archive_rowids
from carewatch.alerts.rule_index import terms_of
from carewatch.alerts.signup_mail import already_message, confirmation_message
from carewatch.alerts.subscribers import TOKEN_LIFETIME, new_link
from carewatch.config.schema import DAYS, Config, Subscriber
from carewatch.core.errors import CarewatchError, NotifyError
from carewatch.core.items import utcnow
from carewatch.core.query import QueryError, check_names, parse
from carewatch.store import subscriptions as store
from carewatch.store.alerting import first_rowid_since, last_article_rowid

Frequency = Literal["immediate", "daily", "weekly"]


@dataclass(frozen=True)
class SubscriptionForm:
    """What the sign-up and manage forms send, as typed (not yet checked)."""

    email: str = ""
    name: str = ""
    topics: tuple[str, ...] = ()  # topic ids from topics.yaml (the form shows their labels)
    keywords: str = ""  # words or phrases, one per line or comma-separated
    rule: str = ""  # one rule in the rule language, or ""
    frequency: str = "daily"
    at: str = "08:00"  # daily and weekly: HH:MM, Europe/London
    day: str = "monday"  # weekly


@dataclass(frozen=True)
class TopicChoice:
    id: str
    label: str


@dataclass(frozen=True)
class PreviewTitle:
    title: str
    url: str | None
    first_seen: str


@dataclass(frozen=True)
class RuleCheck:
    """A rule checked as it is typed: ``error`` in words (None: it parses), ``column`` (1-based,
    where the error is, when known), and the preview: how many articles of the last ``days`` days
    it (with the chosen keywords and topics) would have sent, and the five latest titles."""

    error: str | None
    column: int | None
    count: int
    latest: tuple[PreviewTitle, ...]
    days: int = 30


@dataclass(frozen=True)
class SignupResult:
    """``status``: "sent" (the answer for every acceptable form, whether or not the address is known:
    "check your inbox"), "invalid" (``errors``: field name -> message in words, nothing recorded),
    "rate-limited" (this client has signed up too often: try later), "closed" (sign-up is closed)."""

    status: Literal["sent", "invalid", "rate-limited", "closed"]
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConfirmResult:
    """``status``: "ready" (confirm_view: the page's button would confirm), "confirmed" (digests
    start), "awaiting-approval" (confirmed; the operator approves next), "already" (a second click:
    nothing changed), "expired", "invalid". ``manage_token``: a fresh manage link's token, for a
    "manage your alerts" link on the page (None unless confirmed or already). ``masked_email``:
    the address, partly masked (``a***@example.org``), when the link is good."""

    status: Literal["ready", "confirmed", "awaiting-approval", "already", "expired", "invalid"]
    manage_token: str | None = None
    masked_email: str | None = None


@dataclass(frozen=True)
class ManageView:
    """What the manage page shows. ``managed_by``: "web" (the subscriber may change everything) or
    "operator" (a subscriber of alerts.yaml: shown read-only, but pause, unsubscribe and download
    work). ``status``: active, paused, pending, unsubscribed."""

    subscriber: str
    email: str
    name: str
    status: str
    frequency: str
    at: str
    day: str
    topics: tuple[str, ...]
    keywords: tuple[str, ...]
    rules: tuple[str, ...]
    managed_by: Literal["web", "operator"]
    topic_choices: tuple[TopicChoice, ...]


@dataclass(frozen=True)
class ManageResult:
    """``status``: "saved" | "paused" | "resumed" | "deleted" | "invalid" (``errors`` as SignupResult's)
    | "refused" (e.g. changing an operator-managed subscriber's rules) | "gone" (bad or expired token)."""

    status: str
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UnsubscribeView:
    """What the unsubscribe page shows before its one button: the address, partly masked
    (``a***@example.org``), and whether it is unsubscribed already."""

    masked_email: str
    unsubscribed: bool


# ---------------------------------------------------------------- limits: one rule cannot slow the matcher

MAX_EMAIL = 254
MAX_NAME = 80
MAX_RULE_CHARS = 300
MAX_RULE_TERMS = 12
MAX_KEYWORDS = 20
MAX_KEYWORD_CHARS = 60
PREVIEW_DAYS = 30
PREVIEW_SECONDS = 2.0  # a rule read article by article for its preview is given this long
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_COLUMN = re.compile(r"at column (\d+)")


class SubscriberError(CarewatchError):
    """A ``carewatch subscribers`` verb that cannot be done (no such subscriber, not confirmed, …)."""


@contextmanager
def _archive(config_dir: str, db_path: str) -> Iterator[tuple[Config, Database]]:
    from carewatch.config import load_config
    from carewatch.store.db import open_db

    config = load_config(config_dir)
    db = open_db(db_path)
    try:
        yield config, db
    finally:
        db.close()


def _stamp(now: datetime) -> str:
    return now.isoformat(timespec="seconds")


def topic_choices(config_dir: str) -> tuple[TopicChoice, ...]:
    from carewatch.config import load_config

    return _choices(load_config(config_dir))


def _choices(config: Config) -> tuple[TopicChoice, ...]:
    return tuple(TopicChoice(tid, t.label or tid) for tid, t in config.topics.topics.items())


def signup_mode(config_dir: str) -> str:
    from carewatch.config import load_config

    return load_config(config_dir).settings.signup


# ---------------------------------------------------------------- checking what was typed


def _keywords(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(k.strip() for k in re.split(r"[,\n]", text or "") if k.strip()))


def _rule_error(config: Config, rule: str) -> tuple[str | None, int | None]:
    """What is wrong with a rule, in words, and the column (1-based) when known; (None, None) if nothing."""
    if len(rule) > MAX_RULE_CHARS:
        return f"a rule may be at most {MAX_RULE_CHARS} characters long (this one is {len(rule)})", MAX_RULE_CHARS + 1
    try:
        tree = parse(rule)
        check_names(rule, config.query_names())
    except QueryError as e:
        message = str(e)
        found = _COLUMN.search(message)
        column = int(found.group(1)) if found else None
        if column is None and "quotes" in message:
            column = rule.rfind('"') + 1 or None
        elif column is None and "brackets" in message:
            column = (rule.find("(") + 1) or (rule.find(")") + 1) or None
        return message, column
    terms = sum(1 for _ in terms_of(tree))
    if terms > MAX_RULE_TERMS:
        return f"a rule may have at most {MAX_RULE_TERMS} words or phrases (this one has {terms}): split it", None
    return None, None


def _check(config: Config, form: SubscriptionForm, *, email_needed: bool = True) -> tuple[dict, dict[str, str]]:
    """The form's values as a subscription's columns, and the errors (field -> message)."""
    errors: dict[str, str] = {}
    email = form.email.strip()
    if email_needed and (not email or len(email) > MAX_EMAIL or not _EMAIL.match(email)):
        errors["email"] = "enter an email address, like name@example.org"
    name = form.name.strip()
    if not name:
        errors["name"] = "enter your name (or how digests should greet you)"
    elif len(name) > MAX_NAME or _CONTROL.search(name):
        errors["name"] = f"a name is one line of at most {MAX_NAME} characters"
    topics = tuple(dict.fromkeys(t for t in form.topics if t))
    unknown = [t for t in topics if t not in config.topics.topics]
    if unknown:
        errors["topics"] = f"unknown topic: {unknown[0]}"
    keywords = _keywords(form.keywords)
    if len(keywords) > MAX_KEYWORDS:
        errors["keywords"] = f"at most {MAX_KEYWORDS} keywords"
    elif any(len(k) > MAX_KEYWORD_CHARS or _CONTROL.search(k) or '"' in k for k in keywords):
        errors["keywords"] = f'each keyword is a word or phrase of at most {MAX_KEYWORD_CHARS} characters, without "'
    rule = form.rule.strip()
    if rule:
        message, _ = _rule_error(config, rule)
        if message:
            errors["rule"] = message
    if not (topics or keywords or rule) and not {"topics", "keywords", "rule"} & errors.keys():
        errors["topics"] = "choose a topic, or give a keyword or a rule"
    frequency = form.frequency if form.frequency in ("immediate", "daily", "weekly") else None
    if frequency is None:
        errors["frequency"] = "choose immediately, daily or weekly"
    at = form.at.strip() or "08:00"
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
        errors["at"] = "a time like 08:00 (24-hour)"
    day = form.day.strip().lower() or "monday"
    if day not in DAYS:
        errors["day"] = "a day of the week"
    values = {
        "email": email,
        "name": name,
        "topics": json.dumps(list(topics)),
        "keywords": json.dumps(list(keywords)),
        "rules": json.dumps([rule] if rule else []),
        "frequency": frequency,
        "at": at,
        "day": day,
    }
    return values, errors


def _interests(values: dict) -> list[str]:
    return (
        [f"topic: {t}" for t in json.loads(values["topics"])]
        + [f"keyword: {k}" for k in json.loads(values["keywords"])]
        + [f"rule: {r}" for r in json.loads(values["rules"])]
    )


def check_rule(
    config_dir: str,
    db_path: str,
    rule: str,
    keywords: str = "",
    topics: tuple[str, ...] = (),
    now: datetime | None = None,
) -> RuleCheck:
    now = now or utcnow()
    with _archive(config_dir, db_path) as (config, db):
        rule = (rule or "").strip()
        if rule:
            message, column = _rule_error(config, rule)
            if message:
                return RuleCheck(message, column, 0, ())
        words = _keywords(keywords)
        if len(words) > MAX_KEYWORDS:  # not worth a preview: the form refuses them
            return RuleCheck(f"at most {MAX_KEYWORDS} keywords", None, 0, ())
        chosen = tuple(t for t in topics if t in config.topics.topics)
        if not (rule or words or chosen):
            return RuleCheck(None, None, 0, ())
        try:
            probe = Subscriber(
                id="preview",
                name="preview",
                email="preview@example.org",
                rules=(rule,) if rule else (),
                keywords=tuple(k for k in words if len(k) <= MAX_KEYWORD_CHARS and '"' not in k),
                topics=chosen,
            )
        except ValueError:
            return RuleCheck(None, None, 0, ())
        since = _stamp(now - timedelta(days=PREVIEW_DAYS))
        lo = (first_rowid_since(db, since) or (last_article_rowid(db) + 1)) - 1
        hi = last_article_rowid(db)
        found: list[int] = []
        for query in probe.all_rules():
            try:
                found += archive_rowids(db, query, lo, hi, seconds=PREVIEW_SECONDS)
            except SearchTooSlow as e:
                return RuleCheck(str(e), None, 0, ())
            except QueryError as e:  # a keyword FTS5 cannot read
                return RuleCheck(e.about(query), None, 0, ())
        count, latest = store.relevant_among(db, found, since)
        return RuleCheck(
            None,
            None,
            count,
            tuple(PreviewTitle(r.title or "(untitled)", r.canonical_url, r.first_seen) for r in latest),
        )


# ---------------------------------------------------------------- signing up


def _send(config: Config, msg) -> bool:
    try:
        send_email(config.settings.smtp, msg)
    except NotifyError:
        return False
    return True


def _operator_subscriber(config: Config, email: str) -> Subscriber | None:
    key = store.email_key(email)
    return next((s for s in config.alerts.subscribers if s.email and store.email_key(s.email) == key), None)


def signup(
    config_dir: str, db_path: str, form: SubscriptionForm, client: str, now: datetime | None = None
) -> SignupResult:
    """``client``: the requester's address (for the consent record and the per-client rate limit).
    The answer is "sent" for a new address, a pending one, one that gets digests already (it is
    mailed its manage link instead) and one over its limit (nothing is mailed): whoever fills the
    form learns nothing about an address."""
    now = now or utcnow()
    stamp = _stamp(now)
    with _archive(config_dir, db_path) as (config, db):
        settings = config.settings
        if settings.signup == "closed":
            return SignupResult("closed")
        values, errors = _check(config, form)
        if errors:
            return SignupResult("invalid", errors)
        if store.attempts_from(db, client, _stamp(now - timedelta(hours=1))) >= settings.signup_limit_per_client:
            store.record_attempt(db, stamp, None, client, "refused")
            return SignupResult("rate-limited")
        key = store.email_key(values["email"])
        if store.emails_sent_to(db, key, _stamp(now - timedelta(days=1))) >= settings.signup_limit_per_address:
            store.record_attempt(db, stamp, key, client, "not-mailed")
            return SignupResult("sent")
        public_url = settings.public_url or ""
        existing = store.subscription_by_email(db, values["email"])
        operator = _operator_subscriber(config, values["email"])
        if operator is not None or (existing and existing.status in ("active", "paused")):
            sid = operator.id if operator is not None else existing.subscriber  # type: ignore[union-attr]
            link = new_link(db, public_url, sid, "manage", now)[1] if public_url else None
            msg = already_message(config, values["email"], values["name"], link, now)
        else:
            sid = _sign_up(db, existing, "web", values, stamp, client, confirmed=False, event="signed up")
            _, link = new_link(db, public_url, sid, "confirm", now)
            msg = confirmation_message(
                config, values["email"], values["name"], link, TOKEN_LIFETIME["confirm"].days, _interests(values), now
            )
        mailed = _send(config, msg)
        store.record_attempt(db, stamp, key, client, "mailed" if mailed else "mail-failed")
        if not mailed:
            store.add_event_now(db, sid, "email not sent", stamp, client, None)
        return SignupResult("sent")


def _sign_up(
    db: Database,
    existing: store.Subscription | None,
    managed_by: str,
    values: dict,
    stamp: str,
    client: str,
    *,
    confirmed: bool,
    event: str,
) -> str:
    """Write a sign-up (over the address's earlier, unsubscribed or pending row, if any) with its
    consent record: pending until confirmed on the web, active at once when the operator adds it.
    Returns its id (``web-…`` or ``cli-…``, random)."""
    sid = existing.subscriber if existing else f"{managed_by}-{store.new_id()}"
    row = {
        "subscriber": sid,
        **values,
        "email_key": store.email_key(values["email"]),
        "status": "active" if confirmed else "pending",
        "managed_by": managed_by,
        "updated": stamp,
        "signed_up_at": stamp,
        "signed_up_from": client,
        "confirmed_at": stamp if confirmed else None,
        "confirmed_from": client if confirmed else None,
        "approved_at": None,
    }
    if not existing:
        row["created"] = stamp
    store.save_subscription(db, row, event, stamp, client if not confirmed else None, {"interests": _interests(values)})
    return sid


def _valid(db: Database, token: str, purpose: str, now: datetime) -> store.TokenRow | None:
    row = store.token_row(db, token, purpose) if token else None
    if row is None or row.expires < _stamp(now):
        return None
    return row


def _confirming(db: Database, config: Config, token: str, now: datetime) -> tuple[ConfirmResult, store.TokenRow | None]:
    """Where a confirmation link stands, changing nothing but minting a manage link when it is
    used up already: ("ready", its row) when following it would confirm the address."""
    row = store.token_row(db, token, "confirm") if token else None
    sub = store.subscription(db, row.subscriber) if row is not None else None
    if row is None or sub is None or sub.status == "deleted":
        return ConfirmResult("invalid"), None
    if row.used or sub.confirmed_at:
        public_url = config.settings.public_url or ""
        manage = new_link(db, public_url, row.subscriber, "manage", now)[0] if public_url else None
        return ConfirmResult("already", manage, _mask(sub.email or "")), None
    if row.expires < _stamp(now):
        return ConfirmResult("expired"), None
    return ConfirmResult("ready", None, _mask(sub.email or "")), row


def confirm_view(config_dir: str, db_path: str, token: str, now: datetime | None = None) -> ConfirmResult:
    """What a confirmation link's page shows before its button, confirming nothing: "ready" (the
    button confirms), "already", "expired" or "invalid". A mail scanner that opens every link of
    a message (they do) confirms no one: only the button's POST does (``confirm``)."""
    now = now or utcnow()
    with _archive(config_dir, db_path) as (config, db):
        return _confirming(db, config, token, now)[0]


def confirm(config_dir: str, db_path: str, token: str, client: str, now: datetime | None = None) -> ConfirmResult:
    """Confirm the address of a confirmation link (once: a second time answers "already")."""
    now = now or utcnow()
    stamp = _stamp(now)
    with _archive(config_dir, db_path) as (config, db):
        found, row = _confirming(db, config, token, now)
        if row is None:
            return found
        if not store.use_token(db, token, stamp):
            return _confirming(db, config, token, now)[0]
        approval = config.settings.signup == "approval"
        store.save_subscription(
            db,
            {
                "subscriber": row.subscriber,
                "status": "pending" if approval else "active",
                "confirmed_at": stamp,
                "confirmed_from": client,
                "updated": stamp,
            },
            "confirmed",
            stamp,
            client,
            None,
        )
        public_url = config.settings.public_url or ""
        manage = new_link(db, public_url, row.subscriber, "manage", now)[0] if public_url else None
        return ConfirmResult("awaiting-approval" if approval else "confirmed", manage, found.masked_email)


# ---------------------------------------------------------------- managing


def _managed(db: Database, config: Config, token: str, now: datetime, purpose: str = "manage") -> tuple | None:
    """(subscriber id, its subscription row or None, its alerts.yaml entry or None) for a valid token."""
    row = _valid(db, token, purpose, now)
    if row is None:
        return None
    sub = store.subscription(db, row.subscriber)
    yaml_sub = next((s for s in config.alerts.subscribers if s.id == row.subscriber), None)
    if (sub is None and yaml_sub is None) or (sub is not None and sub.status == "deleted"):
        return None
    return row.subscriber, sub, yaml_sub


def manage_view(config_dir: str, db_path: str, token: str, now: datetime | None = None) -> ManageView | None:
    """None for a forged or expired token, or a subscriber since deleted (the page answers 404)."""
    now = now or utcnow()
    with _archive(config_dir, db_path) as (config, db):
        got = _managed(db, config, token, now)
        if got is None:
            return None
        sid, sub, yaml_sub = got
        if yaml_sub is not None:
            return ManageView(
                sid,
                yaml_sub.email or "",
                yaml_sub.name,
                sub.status if sub else "active",
                yaml_sub.frequency,
                yaml_sub.at,
                yaml_sub.day,
                yaml_sub.topics,
                yaml_sub.keywords,
                yaml_sub.rules,
                "operator",
                _choices(config),
            )
        return ManageView(
            sid,
            sub.email or "",
            sub.name or "",
            sub.status,
            sub.frequency or "daily",
            sub.at or "08:00",
            sub.day or "monday",
            sub.listed("topics"),
            sub.listed("keywords"),
            sub.listed("rules"),
            "web",
            _choices(config),
        )


def manage_update(
    config_dir: str, db_path: str, token: str, form: SubscriptionForm, client: str, now: datetime | None = None
) -> ManageResult:
    """Save the name, topics, keywords, rule and frequency. The address is not changed here (a new
    address signs up and confirms on its own)."""
    now = now or utcnow()
    stamp = _stamp(now)
    with _archive(config_dir, db_path) as (config, db):
        got = _managed(db, config, token, now)
        if got is None:
            return ManageResult("gone")
        sid, sub, yaml_sub = got
        if yaml_sub is not None:
            return ManageResult("refused", {"form": "this subscription is managed by the operator, in alerts.yaml"})
        if form.email.strip() and store.email_key(form.email) != sub.email_key:
            return ManageResult(
                "invalid", {"email": "to use another address, sign up with it (it is confirmed on its own)"}
            )
        values, errors = _check(config, form, email_needed=False)
        if errors:
            return ManageResult("invalid", errors)
        values.pop("email")
        before = {k: getattr(sub, k) for k in values}
        changed = {k: v for k, v in values.items() if before[k] != v}
        if changed:
            store.save_subscription(
                db,
                {"subscriber": sid, **values, "updated": stamp},
                "changed",
                stamp,
                client,
                {"fields": sorted(changed)},
            )
        return ManageResult("saved")


def _set_status(
    db: Database,
    sid: str,
    sub,
    status: str,
    event: str,
    client: str,
    stamp: str,
    detail: dict | None = None,
) -> None:
    values = {"subscriber": sid, "status": status, "updated": stamp}
    if sub is None:  # a subscriber of alerts.yaml: a row of its own holds only its status
        values.update({"managed_by": "operator", "created": stamp})
    if status == "unsubscribed":
        values["unsubscribed_at"] = stamp
    store.save_subscription(db, values, event, stamp, client, detail)
    if status != "active":
        store.cancel_pending(db, sid)


def manage_action(
    config_dir: str,
    db_path: str,
    token: str,
    action: Literal["pause", "resume", "delete"],
    client: str,
    now: datetime | None = None,
) -> ManageResult:
    now = now or utcnow()
    stamp = _stamp(now)
    with _archive(config_dir, db_path) as (config, db):
        got = _managed(db, config, token, now)
        if got is None:
            return ManageResult("gone")
        sid, sub, yaml_sub = got
        if action == "pause":
            _set_status(db, sid, sub, "paused", "paused", client, stamp)
            return ManageResult("paused")
        if action == "resume":
            if sub is not None and sub.status not in ("paused", "active", "unsubscribed"):
                return ManageResult("refused", {"form": "this subscription is not confirmed or approved yet"})
            _set_status(db, sid, sub, "active", "resumed", client, stamp)
            return ManageResult("resumed")
        if action == "delete":
            if yaml_sub is not None:
                return ManageResult(
                    "refused", {"form": "this subscription is managed by the operator: unsubscribe, or ask them"}
                )
            store.delete_personal_data(db, sid, stamp)
            return ManageResult("deleted")
        return ManageResult("refused", {"form": f"unknown action {action!r}"})


def _data(db: Database, config: Config, sid: str) -> dict:
    sub = store.subscription(db, sid)
    yaml_sub = next((s for s in config.alerts.subscribers if s.id == sid), None)
    out: dict = {"subscriber": sid, "managed_by": "operator" if yaml_sub else (sub.managed_by if sub else None)}
    if yaml_sub is not None:
        out["alerts_yaml"] = yaml_sub.model_dump(mode="json")
    if sub is not None:
        row = asdict(sub)
        row.pop("email_key")
        for column in ("topics", "keywords", "rules"):
            row[column] = list(sub.listed(column))
        out["subscription"] = row
        if sub.email_key:
            out["signup_attempts"] = store.attempts_for(db, sub.email_key)
    out["history"] = [
        {"at": e.at, "event": e.event, "client": e.client, "detail": json.loads(e.detail) if e.detail else None}
        for e in store.events(db, sid)
    ]
    out["digests"] = [asdict(d) for d in store.digests_of(db, sid)]
    return out


def export_data(config_dir: str, db_path: str, token: str, now: datetime | None = None) -> dict | None:
    """Everything kept about the subscriber (the subscription, its history with the consent record,
    the digests sent), as JSON-ready data; None for a bad token."""
    now = now or utcnow()
    with _archive(config_dir, db_path) as (config, db):
        got = _managed(db, config, token, now)
        return None if got is None else _data(db, config, got[0])


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return (local[:1] + "***@" + domain) if domain else "***"


def unsubscribe_view(config_dir: str, db_path: str, token: str, now: datetime | None = None) -> UnsubscribeView | None:
    now = now or utcnow()
    with _archive(config_dir, db_path) as (config, db):
        got = _managed(db, config, token, now, "unsubscribe")
        if got is None:
            return None
        sid, sub, yaml_sub = got
        email = (yaml_sub.email if yaml_sub else sub.email) or ""
        return UnsubscribeView(_mask(email), bool(sub and sub.status == "unsubscribed"))


def unsubscribe(
    config_dir: str, db_path: str, token: str, client: str, *, one_click: bool = False, now: datetime | None = None
) -> bool:
    """Unsubscribe the token's subscriber at once (no digest is sent to it again, the ones waiting
    are cancelled); False for a bad token. ``one_click``: the RFC 8058 POST a mail client sends."""
    now = now or utcnow()
    stamp = _stamp(now)
    with _archive(config_dir, db_path) as (config, db):
        got = _managed(db, config, token, now, "unsubscribe")
        if got is None:
            return False
        sid, sub, _ = got
        if sub is None or sub.status != "unsubscribed":
            _set_status(
                db,
                sid,
                sub,
                "unsubscribed",
                "unsubscribed",
                client,
                stamp,
                {"how": "one-click (RFC 8058)" if one_click else "unsubscribe page"},
            )
        return True


# ---------------------------------------------------------------- the operator's verbs (carewatch subscribers …)


@dataclass(frozen=True)
class SubscriberRow:
    """One subscriber as ``carewatch subscribers list`` shows it. ``status``: active, paused,
    unsubscribed, "awaiting confirmation" or "awaiting approval"."""

    subscriber: str
    name: str
    email: str
    status: str
    managed_by: str  # alerts.yaml | web | cli
    frequency: str
    interests: tuple[str, ...]
    created: str | None
    confirmed_at: str | None


def _shown_status(row: store.Subscription) -> str:
    if row.status == "pending":
        return "awaiting approval" if row.confirmed_at else "awaiting confirmation"
    return row.status


def list_subscribers(config: Config, db: Database) -> list[SubscriberRow]:
    """alerts.yaml's subscribers (with a status a link changed), then the database's, deleted ones left out."""
    rows = {r.subscriber: r for r in store.subscriptions(db)}
    out = []
    for s in config.alerts.subscribers:
        held = rows.get(s.id)
        out.append(
            SubscriberRow(
                s.id,
                s.name,
                s.email or ", ".join(s.channels),
                held.status if held else "active",
                "alerts.yaml",
                s.frequency,
                s.all_rules(),
                None,
                None,
            )
        )
    for r in rows.values():
        if r.managed_by == "operator" or r.status == "deleted":
            continue
        values = {"topics": r.topics or "[]", "keywords": r.keywords or "[]", "rules": r.rules or "[]"}
        out.append(
            SubscriberRow(
                r.subscriber,
                r.name or "",
                r.email or "",
                _shown_status(r),
                r.managed_by,
                r.frequency or "daily",
                tuple(_interests(values)),
                r.created,
                r.confirmed_at,
            )
        )
    return out


def _row(config: Config, db: Database, subscriber_id: str) -> SubscriberRow:
    for row in list_subscribers(config, db):
        if row.subscriber == subscriber_id:
            return row
    raise SubscriberError(f"no subscriber {subscriber_id!r} (carewatch subscribers list shows them)")


def add_subscriber(config: Config, db: Database, form: SubscriptionForm, now: datetime | None = None) -> SubscriberRow:
    """A subscriber added by the operator: active at once (the operator vouches for the consent,
    recorded as "added by the operator"). SubscriberError when the form is not valid or the
    address is subscribed already."""
    now = now or utcnow()
    stamp = _stamp(now)
    values, errors = _check(config, form)
    if errors:
        raise SubscriberError("; ".join(f"{k}: {v}" for k, v in errors.items()))
    existing = store.subscription_by_email(db, values["email"])
    if _operator_subscriber(config, values["email"]) or (existing and existing.status != "unsubscribed"):
        raise SubscriberError(f"{values['email']} is subscribed already (carewatch subscribers list)")
    sid = _sign_up(
        db, existing, "cli", values, stamp, "carewatch subscribers add", confirmed=True, event="added by the operator"
    )
    return _row(config, db, sid)


def approve(config: Config, db: Database, subscriber_id: str, now: datetime | None = None) -> SubscriberRow:
    """Approve a confirmed sign-up (settings.yaml ``signup: approval``): its digests start."""
    now = now or utcnow()
    stamp = _stamp(now)
    row = store.subscription(db, subscriber_id)
    if row is None or row.managed_by == "operator" or row.status == "deleted":
        raise SubscriberError(f"no sign-up {subscriber_id!r} (carewatch subscribers list shows them)")
    if row.status != "pending":
        raise SubscriberError(f"{subscriber_id} is {row.status}, not awaiting approval")
    if not row.confirmed_at:
        raise SubscriberError(f"{subscriber_id} has not confirmed the address yet: nothing is approved before that")
    store.save_subscription(
        db,
        {"subscriber": subscriber_id, "status": "active", "approved_at": stamp, "updated": stamp},
        "approved",
        stamp,
        None,
        None,
    )
    return _row(config, db, subscriber_id)


def remove(config: Config, db: Database, subscriber_id: str, now: datetime | None = None) -> None:
    """Delete a subscriber kept in the database and its personal data (what is kept: README, "Subscribers")."""
    row = store.subscription(db, subscriber_id)
    if any(s.id == subscriber_id for s in config.alerts.subscribers):
        raise SubscriberError(f"{subscriber_id} is in alerts.yaml: remove it there")
    if row is None or row.status == "deleted":
        raise SubscriberError(f"no subscriber {subscriber_id!r} (carewatch subscribers list shows them)")
    store.delete_personal_data(db, subscriber_id, _stamp(now or utcnow()))


def export(config: Config, db: Database, subscriber_id: str | None = None) -> list[dict]:
    """Everything kept about one subscriber (or each one), as "download my data" gives it."""
    ids = [subscriber_id] if subscriber_id else [r.subscriber for r in list_subscribers(config, db)]
    if subscriber_id:
        _row(config, db, subscriber_id)
    return [_data(db, config, sid) for sid in ids]
