"""The self-service subscription pages of ``carewatch serve`` (README, "Subscribers"): thin handlers
over the service layer (carewatch.ops.subscriptions), which opens the archive read-write itself.

- ``/subscribe``: the sign-up form (GET) and the sign-up (POST, double opt-in: the answer is "check
  your inbox" whatever the address); ``/subscribe/check``: a rule checked as it is typed (JSON,
  for ``/-/subscribe.js``), with how many articles it would have sent;
- ``/confirm/<token>``: the link of the confirmation email: GET shows one button and confirms
  nothing (mail scanners open every link), its POST confirms; a second click is harmless;
- ``/manage/<token>``: change topics, keywords, rule and frequency; pause, resume, delete me;
  ``/manage/<token>/data.json``: download my data;
- ``/unsubscribe/<token>``: one button (GET shows it, and changes nothing); its POST, and the RFC
  8058 one-click POST a mail client sends (``List-Unsubscribe=One-Click``, no cookies, no CSRF
  token: the one exemption from Datasette's CSRF protection, hooks.py ``skip_csrf``).

Every other POST must carry the form's CSRF token (Datasette's ``csrftoken()``) and the signed
``ds_csrftoken`` cookie it matches. asgi-csrf lets a POST without any cookie through (it cannot be
a forged one from a signed-in browser, by its reasoning), so each handler checks the pair itself:
a POST without them is refused 403 here even from a client with no cookies. The read-only guard
(privacy.read_only) lets POSTs through to ``POST_PATHS`` only.

Pages behind a token are sent ``Cache-Control: no-store``, ``Referrer-Policy: no-referrer`` and
``X-Robots-Tag: noindex``; a token of the wrong shape or unknown is answered 404 on a page of ours
(with the same headers), never a hint of whether it ever existed.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from dataclasses import asdict
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from datasette.utils.asgi import Response
from itsdangerous import BadSignature

from carewatch.archive.plugin.settings import settings
from carewatch.ops import subscriptions as subs
from carewatch.ops.subscriptions import SubscriptionForm

_T = r"[A-Za-z0-9_-]{20,100}"
TOKEN = re.compile(_T)
# The paths a POST may reach (after the base_url): privacy.read_only answers every other one 405.
POST_PATHS = re.compile(rf"/subscribe|/confirm/{_T}|/manage/{_T}|/unsubscribe/{_T}")
ONE_CLICK_PATH = re.compile(rf"/unsubscribe/{_T}")
SCRIPT = Path(__file__).resolve().parent.parent / "static" / "subscribe.js"
MAX_BODY = 64 * 1024  # a form is a few hundred bytes; more is not read
CSRF_COOKIE, CSRF_FIELD, CSRF_NAMESPACE = "ds_csrftoken", "csrftoken", "csrftoken"  # Datasette's asgi-csrf
PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
FRAMES = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}  # no clickjacking
FREQUENCIES = (("immediate", "As soon as something matches"), ("daily", "Daily"), ("weekly", "Weekly"))
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CONFIRM_DAYS = subs.TOKEN_LIFETIME["confirm"].days
_checks = asyncio.Semaphore(2)  # rule previews at a time: each may read the archive for seconds


def route_path(scope: dict, base_url: str) -> str:
    """The path Datasette routes (the raw path, less the base_url), as its router works it out."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw is not None else scope.get("path", "")
    path = path.partition("?")[0]
    if base_url and base_url != "/" and path.startswith(base_url):
        path = "/" + path[len(base_url) :]
    return path


def accepts_post(scope: dict, base_url: str) -> bool:
    """Whether a POST may reach Datasette: to the sign-up, a manage page or an unsubscribe page."""
    return bool(POST_PATHS.fullmatch(route_path(scope, base_url)))


def skips_csrf(scope: dict, base_url: str) -> bool:
    """The one exemption from Datasette's CSRF check: a POST to an unsubscribe link (the RFC 8058
    one-click a mail client sends has no cookie and no token; the handler decides the rest)."""
    return (
        scope.get("type") == "http"
        and scope.get("method") == "POST"
        and bool(ONE_CLICK_PATH.fullmatch(route_path(scope, base_url)))
    )


# ---------------------------------------------------------------- what every handler needs


def _where(datasette: Any) -> tuple[str, str]:
    """(config_dir, db_path) for the service layer: the config `carewatch serve` was given, the archive."""
    from carewatch.archive.plugin.routes import _archive_path

    return settings(datasette).get("config_dir") or "config", _archive_path(datasette)


def _client(request: Any) -> str:
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


async def _body(request: Any) -> bytes | None:
    """The request's body, or None when it is longer than a form can be."""
    body = b""
    while True:
        message = await request.receive()
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return None
        if not message.get("more_body", False):
            return body


def _multipart_fields(content_type: str, body: bytes) -> dict[str, list[str]]:
    """A multipart/form-data body's plain fields (RFC 8058 allows a one-click POST in that form)."""
    msg = message_from_bytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body, policy=policy.HTTP
    )
    fields: dict[str, list[str]] = {}
    if not msg.is_multipart():
        return fields
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name and not part.get_filename():
            value = part.get_content()
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            fields.setdefault(str(name), []).append(text.strip())
    return fields


async def _form(request: Any) -> dict[str, list[str]] | None:
    """The POSTed fields (each a list: topics has several), or None for a body too long to be a form."""
    body = await _body(request)
    if body is None:
        return None
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() == "multipart/form-data":
        try:
            return _multipart_fields(content_type, body)
        except (ValueError, LookupError):
            return {}
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}


def _one(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]


def _csrf_ok(datasette: Any, request: Any, form: dict[str, list[str]]) -> bool:
    """The form's CSRF token is the one Datasette signed into this browser's ``ds_csrftoken``
    cookie (asgi-csrf checks this only when the request has cookies: here it is checked always)."""
    cookie, field = request.cookies.get(CSRF_COOKIE, ""), _one(form, CSRF_FIELD)
    if not cookie or not field or not secrets.compare_digest(cookie.encode(), field.encode()):
        return False
    try:
        datasette.unsign(cookie, CSRF_NAMESPACE)
    except BadSignature:
        return False
    return True


def _subscription_form(form: dict[str, list[str]]) -> SubscriptionForm:
    return SubscriptionForm(
        email=_one(form, "email"),
        name=_one(form, "name"),
        topics=tuple(t for t in form.get("topics") or () if t),
        keywords=_one(form, "keywords"),
        rule=_one(form, "rule"),
        frequency=_one(form, "frequency") or "daily",
        at=_one(form, "at") or "08:00",
        day=_one(form, "day") or "monday",
    )


def _values(form: SubscriptionForm) -> dict:
    """A form's values as the templates show them again."""
    return {**asdict(form), "topics": set(form.topics)}


async def _page(
    datasette: Any,
    request: Any,
    template: str,
    context: dict,
    status: int = 200,
    private: bool = True,
    headers: dict | None = None,
) -> Response:
    body = await datasette.render_template(template, context, request=request)
    return Response.html(body, status=status, headers={**FRAMES, **(PRIVATE if private else {}), **(headers or {})})


async def _message(
    datasette: Any, request: Any, title: str, text: str, status: int = 200, private: bool = True, **more: Any
) -> Response:
    """A page that says one thing (templates/carewatch_message.html): ``title``, ``text`` and
    optionally ``links`` [(href, label)] and ``kind`` ("done", "problem")."""
    context = {"title": title, "text": text, "links": more.pop("links", []), "kind": more.pop("kind", "done")}
    return await _page(
        datasette, request, "carewatch_message.html", context, status, private, more.pop("headers", None)
    )


async def _not_found(datasette: Any, request: Any) -> Response:
    return await _message(
        datasette,
        request,
        "This link does not work",
        "It may have expired, been used up, or been copied wrongly. The latest digest you received has "
        "links that work.",
        404,
        kind="problem",
    )


async def _csrf_refused(datasette: Any, request: Any, private: bool = True) -> Response:
    return await _message(
        datasette,
        request,
        "That form could not be accepted",
        "It was not sent from this page as it was shown (or it was shown too long ago). Go back, reload "
        "the page and try again.",
        403,
        private,
        kind="problem",
    )


async def _posted(datasette: Any, request: Any, private: bool = True, csrf: bool = True) -> dict | Response:
    """A POSTed form's fields, or the answer refusing it: 413 when longer than a form can be, 403
    without the page's CSRF token (unless ``csrf`` is False: the caller checks it itself)."""
    posted = await _form(request)
    if posted is None:
        return Response.text("Too long for this form.", status=413, headers=PRIVATE if private else {})
    if csrf and not _csrf_ok(datasette, request, posted):
        return await _csrf_refused(datasette, request, private)
    return posted


def _token(request: Any) -> str | None:
    """The URL's token, or None when it is not of the shape a token has (answered 404)."""
    token = request.url_vars["token"]
    return token if TOKEN.fullmatch(token) else None


def _path(datasette: Any, path: str) -> str:
    return datasette.urls.path(path)


def _check_url(datasette: Any) -> str:
    return _path(datasette, "/subscribe/check")


def _script_url(datasette: Any) -> str:
    return _path(datasette, "/-/subscribe.js")


# ---------------------------------------------------------------- /subscribe


async def _caret(datasette: Any, form: SubscriptionForm | None, errors: dict[str, str] | None) -> dict | None:
    """Where in the rule its error is, for a caret under the place: {rule, column} or None."""
    if form is None or not errors or "rule" not in errors or not form.rule.strip():
        return None
    config_dir, db_path = _where(datasette)
    found = await asyncio.to_thread(subs.check_rule, config_dir, db_path, form.rule)
    return {"rule": form.rule.strip(), "column": found.column} if found.column else None


async def _subscribe_form(
    datasette: Any,
    request: Any,
    form: SubscriptionForm | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    config_dir, _ = _where(datasette)
    choices = await asyncio.to_thread(subs.topic_choices, config_dir)
    context = {
        "topic_choices": choices,
        "values": _values(form or SubscriptionForm()),
        "errors": errors or {},
        "caret": await _caret(datasette, form, errors),
        "frequencies": FREQUENCIES,
        "days": DAYS,
        "check_url": _check_url(datasette),
        "script_url": _script_url(datasette),
        "action": _path(datasette, "/subscribe"),
        "preview_days": subs.PREVIEW_DAYS,
    }
    return await _page(datasette, request, "carewatch_subscribe.html", context, status, private=False)


async def _closed(datasette: Any, request: Any, status: int) -> Response:
    return await _message(
        datasette,
        request,
        "Sign-up is closed",
        "New subscriptions are not being taken here at the moment. Whoever runs this archive can add you "
        "to the alerts.",
        status,
        private=False,
        kind="problem",
    )


async def subscribe(datasette: Any, request: Any) -> Response:
    """GET: the form; POST: sign up (the confirmation email goes out), answered "check your inbox"."""
    config_dir, db_path = _where(datasette)
    mode = await asyncio.to_thread(subs.signup_mode, config_dir)
    if request.method != "POST":
        if mode == "closed":
            return await _closed(datasette, request, 200)
        return await _subscribe_form(datasette, request)
    if mode == "closed":
        return await _closed(datasette, request, 403)
    posted = await _posted(datasette, request, private=False)
    if isinstance(posted, Response):
        return posted
    form = _subscription_form(posted)
    result = await asyncio.to_thread(subs.signup, config_dir, db_path, form, _client(request))
    if result.status == "invalid":
        return await _subscribe_form(datasette, request, form, result.errors, 400)
    if result.status == "rate-limited":
        return await _message(
            datasette,
            request,
            "Too many sign-ups",
            "Too many sign-ups have come from your connection in the last hour. Please try again later.",
            429,
            private=False,
            kind="problem",
            headers={"Retry-After": "3600"},
        )
    if result.status == "closed":
        return await _closed(datasette, request, 403)
    return await _page(
        datasette,
        request,
        "carewatch_message.html",
        {
            "title": "Check your inbox",
            "text": f"If {form.email.strip()} can receive alerts, an email is on its way to it with a link to "
            f"confirm the address. Nothing is sent to it until the link is followed. The link works for "
            f"{CONFIRM_DAYS} days; if nothing arrives, look in the spam folder.",
            "links": [],
            "kind": "done",
        },
        private=False,
    )


async def check(datasette: Any, request: Any) -> Response:
    """A rule (with the keywords and topics chosen) checked as it is typed: what is wrong with it,
    where, and how many articles of the last 30 days it would have sent, the five latest."""
    config_dir, db_path = _where(datasette)  # the manage page uses it too, whatever the sign-up mode
    rule = request.args.get("rule") or ""
    keywords = request.args.get("keywords") or ""
    topics = tuple(request.args.getlist("topics"))[:50]
    async with _checks:
        result = await asyncio.to_thread(subs.check_rule, config_dir, db_path, rule[:1000], keywords[:5000], topics)
    return Response.json(
        {
            "error": result.error,
            "column": result.column,
            "count": result.count,
            "days": result.days,
            "latest": [asdict(t) for t in result.latest],
        },
        headers={"Cache-Control": "no-store"},
    )


async def script(request: Any) -> Response:
    return Response(
        SCRIPT.read_text(encoding="utf-8"),
        content_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "max-age=3600"},
    )


# ---------------------------------------------------------------- /confirm/<token>

CONFIRMED = {
    "confirmed": (200, "Your address is confirmed", "Your alerts start now: the next digest goes out when it is due."),
    "awaiting-approval": (
        200,
        "Your address is confirmed",
        "Whoever runs this archive approves new subscriptions by hand: your alerts start once they have.",
    ),
    "already": (200, "Already confirmed", "This address was confirmed already: nothing has changed."),
    "expired": (
        410,
        "This link has expired",
        f"Confirmation links work for {CONFIRM_DAYS} days. Sign up again to get a new one.",
    ),
}


async def confirm(datasette: Any, request: Any) -> Response:
    """GET: one button, confirming nothing (mail scanners open every link of a message, and a
    HEAD is a link checker's); POST (with the page's CSRF token): confirm the address."""
    token = _token(request)
    if token is None:
        return await _not_found(datasette, request)
    config_dir, db_path = _where(datasette)
    if request.method == "POST":
        posted = await _posted(datasette, request)
        if isinstance(posted, Response):
            return posted
        result = await asyncio.to_thread(subs.confirm, config_dir, db_path, token, _client(request))
    else:
        result = await asyncio.to_thread(subs.confirm_view, config_dir, db_path, token)
    if result.status == "ready":
        context = {
            "title": "Confirm your address",
            "question": f"Start sending carewatch alerts to {result.masked_email}?",
            "action": _path(datasette, f"/confirm/{token}"),
            "button": "Confirm",
            "button_id": "cw-confirm",
        }
        return await _page(datasette, request, "carewatch_one_button.html", context)
    if result.status not in CONFIRMED:
        return await _not_found(datasette, request)
    status, title, text = CONFIRMED[result.status]
    links = []
    if result.manage_token:
        links.append((_path(datasette, f"/manage/{result.manage_token}"), "Manage your alerts"))
    if result.status == "expired":
        links.append((_path(datasette, "/subscribe"), "Sign up again"))
    return await _message(
        datasette, request, title, text, status, links=links, kind="problem" if status != 200 else "done"
    )


# ---------------------------------------------------------------- /manage/<token>

DONE = {
    "saved": "Your changes are saved.",
    "paused": "Your alerts are paused: nothing is sent until you resume them.",
    "resumed": "Your alerts are on again.",
}


def _manage_values(view: subs.ManageView) -> dict:
    return {
        "name": view.name,
        "topics": set(view.topics),
        "keywords": "\n".join(view.keywords),
        "rule": view.rules[0] if view.rules else "",
        "frequency": view.frequency,
        "at": view.at,
        "day": view.day,
    }


async def _manage_page(
    datasette: Any,
    request: Any,
    token: str,
    view: subs.ManageView,
    form: SubscriptionForm | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    values = {**_values(form), "email": view.email} if form is not None else None
    labels = {c.id: c.label for c in view.topic_choices}
    context = {
        "view": view,
        "values": values or _manage_values(view),
        "errors": errors or {},
        "topic_labels": [labels.get(t, t) for t in view.topics],
        "topic_choices": view.topic_choices,
        "frequencies": FREQUENCIES,
        "days": DAYS,
        "action": _path(datasette, f"/manage/{token}"),
        "data_url": _path(datasette, f"/manage/{token}/data.json"),
        "check_url": _check_url(datasette),
        "script_url": _script_url(datasette),
        "done": DONE.get(request.args.get("done") or ""),
        "caret": await _caret(datasette, form, errors),
        "preview_days": subs.PREVIEW_DAYS,
    }
    return await _page(datasette, request, "carewatch_manage.html", context, status)


async def manage(datasette: Any, request: Any) -> Response:
    """GET: the subscriber's settings; POST: action=save (the form), pause, resume or delete."""
    token = _token(request)
    if token is None:
        return await _not_found(datasette, request)
    config_dir, db_path = _where(datasette)
    if request.method != "POST":
        view = await asyncio.to_thread(subs.manage_view, config_dir, db_path, token)
        if view is None:
            return await _not_found(datasette, request)
        return await _manage_page(datasette, request, token, view)
    posted = await _posted(datasette, request)
    if isinstance(posted, Response):
        return posted
    action = _one(posted, "action")
    client = _client(request)
    form = None
    if action == "save":
        form = _subscription_form(posted)
        result = await asyncio.to_thread(subs.manage_update, config_dir, db_path, token, form, client)
    elif action in ("pause", "resume", "delete"):
        result = await asyncio.to_thread(subs.manage_action, config_dir, db_path, token, action, client)
    else:
        return await _message(datasette, request, "Nothing was done", "That is not something this page does.", 400)
    if result.status == "gone":
        return await _not_found(datasette, request)
    if result.status == "deleted":
        return await _message(
            datasette,
            request,
            "You are deleted",
            "Your subscription and what was kept about you are deleted; no digest will be sent to you again. "
            "(A record that a digest went out, on the day it went, is kept without your address.)",
            links=[(_path(datasette, "/"), "The archive")],
        )
    if result.status in DONE:
        return Response.redirect(
            _path(datasette, f"/manage/{token}") + "?" + urlencode({"done": result.status}),
            status=303,
            headers={**PRIVATE},
        )
    view = await asyncio.to_thread(subs.manage_view, config_dir, db_path, token)
    if view is None:
        return await _not_found(datasette, request)
    status = 400 if result.status == "invalid" else 403
    return await _manage_page(datasette, request, token, view, form, result.errors, status)


async def manage_data(datasette: Any, request: Any) -> Response:
    """Download my data: everything kept about the subscriber, as JSON."""
    token = _token(request)
    if token is None:
        return await _not_found(datasette, request)
    config_dir, db_path = _where(datasette)
    data = await asyncio.to_thread(subs.export_data, config_dir, db_path, token)
    if data is None:
        return await _not_found(datasette, request)
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2, default=str),
        content_type="application/json; charset=utf-8",
        headers={**PRIVATE, "Content-Disposition": 'attachment; filename="carewatch-my-data.json"'},
    )


# ---------------------------------------------------------------- /unsubscribe/<token>


def _is_one_click(form: dict[str, list[str]]) -> bool:
    """The RFC 8058 POST: its body is ``List-Unsubscribe=One-Click``, nothing else."""
    return set(form) == {"List-Unsubscribe"} and [v.strip() for v in form["List-Unsubscribe"]] == ["One-Click"]


async def _unsubscribed(datasette: Any, request: Any) -> Response:
    return await _message(
        datasette,
        request,
        "You are unsubscribed",
        "No digest will be sent to you again, and any waiting to go are cancelled.",
        links=[(_path(datasette, "/"), "The archive")],
    )


async def _unsubscribe_page(datasette: Any, request: Any, token: str) -> Response:
    """The address (masked) and one button; opening it changes nothing."""
    config_dir, db_path = _where(datasette)
    view = await asyncio.to_thread(subs.unsubscribe_view, config_dir, db_path, token)
    if view is None:
        return await _not_found(datasette, request)
    context = {
        "title": "Unsubscribe",
        "question": f"Stop every carewatch digest to {view.masked_email}?",
        "nothing_to_do": f"{view.masked_email} is unsubscribed already: no digest is sent to it."
        if view.unsubscribed
        else None,
        "action": _path(datasette, f"/unsubscribe/{token}"),
        "button": "Unsubscribe",
        "button_id": "cw-unsubscribe",
    }
    return await _page(datasette, request, "carewatch_one_button.html", context)


async def unsubscribe(datasette: Any, request: Any) -> Response:
    """GET: the page with one button; POST (its button, or a mail client's one-click): unsubscribe at once."""
    token = _token(request)
    if token is None:
        return await _not_found(datasette, request)
    if request.method != "POST":
        return await _unsubscribe_page(datasette, request, token)
    config_dir, db_path = _where(datasette)
    posted = await _posted(datasette, request, csrf=False)  # a mail client's one-click has no token
    if isinstance(posted, Response):
        return posted
    one_click = _is_one_click(posted)
    if not one_click and not _csrf_ok(datasette, request, posted):
        return await _csrf_refused(datasette, request)
    done = await asyncio.to_thread(subs.unsubscribe, config_dir, db_path, token, _client(request), one_click=one_click)
    if not done:
        return await _not_found(datasette, request)
    return await _unsubscribed(datasette, request)


ROUTES = [
    (r"^/-/subscribe\.js$", script),
    (r"^/subscribe$", subscribe),
    (r"^/subscribe/check$", check),
    (r"^/confirm/(?P<token>[^/]+)$", confirm),
    (r"^/manage/(?P<token>[^/]+)/data\.json$", manage_data),
    (r"^/manage/(?P<token>[^/]+)$", manage),
    (r"^/unsubscribe/(?P<token>[^/]+)$", unsubscribe),
]
