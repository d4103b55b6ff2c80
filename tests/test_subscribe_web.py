"""The subscription pages of the real `carewatch serve` (archive/plugin/subscribe.py), over HTTP, on
a copy of the demo archive, with a config of its own (sign-up open, ``public_url`` the served
address, SMTP a real aiosmtpd sink on loopback, whose messages hold the links the pages are reached
by).

Checked: a POST without the form's CSRF token is refused 403 (also from a client with no cookies at
all, which Datasette's own CSRF check lets through); a forged token is answered 404 on every token
page; a name and a rule holding ``<script>`` come back escaped on the re-rendered form and the manage
page; the RFC 8058 one-click POST works with no cookies; opening an unsubscribe page changes
nothing; every other POST is still answered 405 by the read-only guard; the token pages' headers;
confirm, manage, pause, resume, save, download my data, delete; the operator's subscribers;
approval, rate limit and closed sign-up on servers configured so.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
import yaml

from carewatch.demo.mailsink import MailSink, free_port
from carewatch.demo.run import DEMO_CONFIG
from carewatch.ops import subscriptions as subs
from tests.test_archive import Served, copy_archive, demo_archive

EVIL = "<script>alert(1)</script>"
ORGANISERS = "organisers@example.org"  # a subscriber of the demo's alerts.yaml


class SubscriptionSite(Served):
    """`carewatch --config DIR --db DB serve --port N` running, as the operator starts it, with DIR
    a copy of the demo config: ``signup`` as given, ``public_url`` this server's address, SMTP the
    sink's port, and any other ``settings``."""

    def __init__(self, work: Path, db: Path, sink: MailSink, signup: str = "open", **settings):
        self.sink, port = sink, free_port()
        self.config = work / "config"
        shutil.copytree(DEMO_CONFIG, self.config)
        data = yaml.safe_load((self.config / "settings.yaml").read_text())
        data["smtp"]["port"] = sink.port
        data.update({"signup": signup, "public_url": f"http://127.0.0.1:{port}/", **settings})
        (self.config / "settings.yaml").write_text(yaml.safe_dump(data))
        super().__init__(db, work, config=self.config, port=port)

    def browser(self) -> httpx.Client:
        """A client that keeps cookies, as a browser does (not following redirects)."""
        return httpx.Client(base_url=self.base, timeout=20)

    def links(self, since: int = 0) -> dict[str, str]:
        """The tokens of the links in the messages the sink received (from message ``since`` on),
        by purpose: the latest of each."""
        found = {}
        pattern = re.compile(re.escape(self.base) + r"/(confirm|manage|unsubscribe)/([A-Za-z0-9_-]+)")
        for msg in self.sink.messages[since:]:
            body = msg.get_body(("plain",))
            for purpose, token in pattern.findall(body.get_content() if body else ""):
                found[purpose] = token
        return found


def csrf(page: str) -> str:
    """The CSRF token a page's form carries (Datasette's ``csrftoken()``)."""
    m = re.search(r'name="csrftoken" value="([^"]+)"', page)
    assert m, page[:2000]
    return m.group(1)


def form_fields(email: str, name: str = "Ada", **more) -> dict:
    return {"email": email, "name": name, "topics": ["privatisation"], "frequency": "daily", "at": "08:00", **more}


def sign_up(site: SubscriptionSite, email: str, **more) -> tuple[httpx.Client, httpx.Response]:
    """Fill the form as a browser does (GET for its token and cookie, then POST); the client and the answer."""
    client = site.browser()
    page = client.get("/subscribe")
    assert page.status_code == 200, page.text[:500]
    r = client.post("/subscribe", data={"csrftoken": csrf(page.text), **form_fields(email, **more)})
    return client, r


def follow_confirmation(site: SubscriptionSite, token: str) -> httpx.Response:
    """Open a confirmation link (a page with one button, which confirms nothing) and press its button."""
    client = site.browser()
    page = client.get(f"/confirm/{token}")
    assert page.status_code == 200 and "Confirm your address" in page.text, page.text[:1000]
    assert 'id="cw-confirm"' in page.text
    return client.post(f"/confirm/{token}", data={"csrftoken": csrf(page.text)})


def confirmed(site: SubscriptionSite, email: str, **more) -> tuple[str, str]:
    """Sign up and follow the confirmation link: (the subscriber's manage token, its subscriber id)."""
    before = len(site.sink.messages)
    _, r = sign_up(site, email, **more)
    assert r.status_code == 200 and "Check your inbox" in r.text, r.text[:1000]
    r = follow_confirmation(site, site.links(before)["confirm"])
    assert r.status_code == 200 and "Your address is confirmed" in r.text, r.text[:1000]
    manage = re.search(r'href="/manage/([A-Za-z0-9_-]+)"', r.text).group(1)
    view = subs.manage_view(str(site.config), str(site.db), manage)
    assert view is not None and view.status == "active" and view.email == email
    return manage, view.subscriber


def status_of(site: SubscriptionSite, manage: str) -> str | None:
    view = subs.manage_view(str(site.config), str(site.db), manage)
    return view.status if view else None


@pytest.fixture(scope="module")
def sink():
    with MailSink() as s:
        yield s


@pytest.fixture(scope="module")
def site(tmp_path_factory, sink):
    work = tmp_path_factory.mktemp("subscribe-web")
    db = copy_archive(demo_archive(tmp_path_factory), work / "carewatch.db")
    server = SubscriptionSite(work, db, sink, signup_limit_per_client=100)
    yield server
    server.stop()


def assert_private(r: httpx.Response) -> None:
    """The headers of a page behind a token: not cached, not referred on, not indexed."""
    assert "no-store" in r.headers["cache-control"], r.headers
    assert r.headers["referrer-policy"] == "no-referrer", r.headers
    assert r.headers["x-robots-tag"] == "noindex", r.headers


def test_the_form_signs_up_and_the_link_confirms_once(site, sink):
    front = httpx.get(site.url("/"))
    assert re.search(r'<a href="subscribe">Get alerts by email</a>', front.text), front.text[:3000]
    client = site.browser()
    page = client.get("/subscribe")
    assert page.status_code == 200
    for label in ["Email address", "Your name", "Keywords", "A rule", "How often", "Privatisation and the Trust"]:
        assert label in page.text, label
    ids = set(re.findall(r'<input[^>]* id="([^"]+)"', page.text)) | set(
        re.findall(r'<(?:textarea|select)[^>]* id="([^"]+)"', page.text)
    )
    labelled = set(re.findall(r'<label for="([^"]+)"', page.text))
    assert ids and ids <= labelled, ids - labelled  # every input has its label
    assert "ds_csrftoken" in page.headers.get("set-cookie", "")

    before = len(sink.messages)
    r = client.post("/subscribe", data={"csrftoken": csrf(page.text), **form_fields("grace@example.org", "Grace")})
    assert r.status_code == 200 and "Check your inbox" in r.text
    (msg,) = sink.messages[before:]
    assert msg["To"] == "grace@example.org" and "Confirm" in msg["Subject"]
    token = site.links(before)["confirm"]
    # a link checker's HEAD, a mail scanner's GET and a POST without the page's token confirm nothing
    assert httpx.head(site.url(f"/confirm/{token}")).status_code == 200
    for _ in range(2):
        opened = httpx.get(site.url(f"/confirm/{token}"))
        assert opened.status_code == 200 and "Confirm your address" in opened.text and "g***@example.org" in opened.text
    assert httpx.post(site.url(f"/confirm/{token}"), data={"csrftoken": "x"}).status_code == 403
    assert subs.confirm_view(str(site.config), str(site.db), token).status == "ready"
    first = follow_confirmation(site, token)
    assert first.status_code == 200 and "Your address is confirmed" in first.text
    assert_private(first)
    manage = re.search(r'href="/manage/([A-Za-z0-9_-]+)"', first.text).group(1)
    view = subs.manage_view(str(site.config), str(site.db), manage)
    assert view.status == "active" and view.name == "Grace" and view.topics == ("privatisation",)
    second = httpx.get(site.url(f"/confirm/{token}"))  # a second click is harmless
    assert second.status_code == 200 and "Already confirmed" in second.text and "cw-confirm" not in second.text
    assert subs.confirm(str(site.config), str(site.db), token, "127.0.0.1").status == "already"
    assert status_of(site, manage) == "active"

    # the same address again: the same answer (no enumeration); its owner is mailed the manage link
    before = len(sink.messages)
    _, again = sign_up(site, "grace@example.org", name="Someone else")
    assert again.status_code == 200 and again.text == r.text
    assert "manage" in site.links(before) and "confirm" not in site.links(before)


def test_the_rule_is_checked_as_it_is_typed(site):
    r = httpx.get(site.url("/subscribe/check"), params={"rule": "\"children's trust AND"})
    answer = r.json()
    assert r.status_code == 200 and "quotes" in answer["error"] and answer["column"] == 1 and answer["count"] == 0
    r = httpx.get(site.url("/subscribe/check"), params={"rule": "ofsted AND"})
    assert r.json()["column"] == 11, r.json()
    r = httpx.get(site.url("/subscribe/check"), params={"rule": "topic:nonsense"})
    assert "unknown topic" in r.json()["error"]
    r = httpx.get(site.url("/subscribe/check"), params=[("rule", '"children\'s trust"'), ("topics", "ofsted")])
    answer = r.json()
    assert answer["error"] is None and answer["count"] >= 5 and len(answer["latest"]) == 5, answer
    assert all(t["title"] for t in answer["latest"]) and answer["days"] == 30
    many = ", ".join(f"word{i}" for i in range(40))
    assert "at most" in httpx.get(site.url("/subscribe/check"), params={"keywords": many}).json()["error"]


def test_a_post_without_its_csrf_token_is_refused(site, sink):
    """Refused for /subscribe and /manage/<token> (and a form POST to /unsubscribe/<token>): without
    a cookie (which asgi-csrf alone would let through), with a cookie but no token, with a token but
    not its cookie, with a made-up pair. Nothing is signed up, mailed or changed."""
    manage, _ = confirmed(site, "csrf@example.org")
    page = site.browser().get("/subscribe")
    token, cookie = csrf(page.text), page.cookies["ds_csrftoken"]
    before = len(sink.messages)
    for path, data in [
        ("/subscribe", form_fields("nobody@example.org")),
        (f"/manage/{manage}", {"action": "pause"}),
        (f"/manage/{manage}", {"action": "delete"}),
        (f"/manage/{manage}", {"action": "save", **form_fields("", frequency="weekly")}),
    ]:
        attempts = [
            ({}, data),  # no cookie, no token
            ({}, {**data, "csrftoken": token}),  # a token from a page, without its cookie
            ({}, {**data, "csrftoken": "x" * 40}),
            ({"ds_csrftoken": cookie}, data),  # the cookie, without the token
            ({"ds_csrftoken": "x"}, {**data, "csrftoken": "x"}),  # a made-up pair
        ]
        for cookies, body in attempts:
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())} if cookies else {}
            r = httpx.post(site.url(path), data=body, headers=headers)
            assert r.status_code == 403, (path, cookies, body, r.status_code, r.text[:300])
        r = httpx.post(site.url(path), content=json.dumps(data), headers={"Content-Type": "application/json"})
        assert r.status_code == 403, (path, "json", r.status_code)
    assert len(sink.messages) == before  # nothing was mailed
    assert status_of(site, manage) == "active"  # nor paused, nor deleted
    assert subs.manage_view(str(site.config), str(site.db), manage).frequency == "daily"

    # an unsubscribe link's form POST without its token (and not the one-click body) changes nothing
    unsubscribe = unsubscribe_token(site, manage)
    for body in ({}, {"List-Unsubscribe": "One-Click", "other": "x"}, {"csrftoken": token}):
        r = httpx.post(site.url(f"/unsubscribe/{unsubscribe}"), data=body)
        assert r.status_code == 403, (body, r.status_code)
    assert status_of(site, manage) == "active"


def unsubscribe_token(site: SubscriptionSite, manage: str) -> str:
    """An unsubscribe link for the manage token's subscriber, as a digest carries (fresh from the store)."""
    from datetime import UTC, datetime

    from carewatch.alerts.subscribers import new_link
    from carewatch.store.db import open_db

    sid = subs.manage_view(str(site.config), str(site.db), manage).subscriber
    db = open_db(site.db)
    try:
        token, url = new_link(db, site.base, sid, "unsubscribe", datetime.now(UTC))
    finally:
        db.close()
    assert url == site.url(f"/unsubscribe/{token}")
    return token


def test_a_forged_token_is_answered_404(site):
    manage, _ = confirmed(site, "forged@example.org")
    wrong = manage[:-1] + ("A" if manage[-1] != "A" else "B")
    for token in [wrong, "x" * 43, "organisers" * 3, "short", "a" * 101, "x" * 20 + "%20"]:
        for path in [f"/manage/{token}", f"/manage/{token}/data.json", f"/unsubscribe/{token}", f"/confirm/{token}"]:
            r = httpx.get(site.url(path))
            assert r.status_code == 404, (path, r.status_code)
            assert token not in r.text  # the page does not echo it
            assert_private(r)
    client = site.browser()
    page = client.get(f"/manage/{manage}")
    r = client.post(f"/manage/{wrong}", data={"csrftoken": csrf(page.text), "action": "pause"})
    assert r.status_code == 404
    r = httpx.post(site.url(f"/unsubscribe/{wrong}"), content=b"List-Unsubscribe=One-Click",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert r.status_code == 404
    assert status_of(site, manage) == "active"


def test_script_in_a_name_and_a_rule_is_shown_escaped(site, sink):
    # the form shown again (the rule cannot be read): every value kept, escaped
    client, r = sign_up(site, f"x{EVIL}@example.org", name=EVIL, rule=f'"{EVIL}', keywords=EVIL)
    assert r.status_code == 400
    assert EVIL not in r.text and "<script>alert" not in r.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in r.text  # the name, kept
    assert "&#34;&lt;script&gt;alert(1)&lt;/script&gt;" in r.text  # the rule, kept
    assert ">&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in r.text  # the keywords, kept
    assert 'id="rule-error"' in r.text and 'id="email-error"' in r.text  # beside their fields
    assert re.search(r'<pre class="cw-caret"[^>]*><code>&#34;&lt;script&gt;.*\n\^</code>', r.text), r.text

    # a name and a rule that can be read, on the manage page
    manage, _ = confirmed(site, "evil@example.org", name=EVIL, rule=f'"{EVIL}"', keywords="trust")
    page = httpx.get(site.url(f"/manage/{manage}"))
    assert page.status_code == 200
    assert EVIL not in page.text and "<script>alert" not in page.text
    assert page.text.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # name (twice) and rule
    assert not re.search(r"\son[a-z]+=", page.text)  # no inline event handlers


def test_one_click_unsubscribes_with_no_cookies(site, sink):
    manage, _ = confirmed(site, "oneclick@example.org")
    token = unsubscribe_token(site, manage)
    r = httpx.post(
        site.url(f"/unsubscribe/{token}"),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and "You are unsubscribed" in r.text, r.text[:500]
    assert "set-cookie" not in r.headers and "cookie" not in r.request.headers
    assert_private(r)
    assert status_of(site, manage) == "unsubscribed"
    # as multipart/form-data, which RFC 8058 also allows, and a second time: harmless
    r = httpx.post(site.url(f"/unsubscribe/{token}"), files={"List-Unsubscribe": (None, "One-Click")})
    assert r.status_code == 200 and status_of(site, manage) == "unsubscribed"


def test_opening_an_unsubscribe_page_changes_nothing(site):
    manage, _ = confirmed(site, "lookonly@example.org")
    token = unsubscribe_token(site, manage)
    client = site.browser()
    for _ in range(2):
        page = client.get(f"/unsubscribe/{token}")
        assert page.status_code == 200 and "l***@example.org" in page.text and "lookonly@" not in page.text
        assert_private(page)
        assert httpx.head(site.url(f"/unsubscribe/{token}")).status_code == 200
    assert status_of(site, manage) == "active"
    # its button: the form POST with the page's token
    r = client.post(f"/unsubscribe/{token}", data={"csrftoken": csrf(page.text)})
    assert r.status_code == 200 and "You are unsubscribed" in r.text
    assert status_of(site, manage) == "unsubscribed"
    again = client.get(f"/unsubscribe/{token}")
    assert again.status_code == 200 and "unsubscribed already" in again.text


def test_the_manage_page_saves_pauses_resumes_downloads_and_deletes(site, sink):
    manage, sid = confirmed(site, "manage@example.org", name="Mia", keywords="fostering")
    client = site.browser()
    page = client.get(f"/manage/{manage}")
    assert page.status_code == 200 and "manage@example.org" in page.text and "Mia" in page.text
    assert_private(page)
    assert 'value="fostering"' not in page.text and ">fostering</textarea>" in page.text
    assert re.search(r'id="topic-privatisation" checked', page.text)
    assert re.search(r'id="frequency-daily" checked', page.text)
    token = csrf(page.text)

    def post(**data) -> httpx.Response:
        return client.post(f"/manage/{manage}", data={"csrftoken": token, **data})

    r = post(action="pause")
    assert r.status_code == 303 and r.headers["location"] == f"/manage/{manage}?done=paused"
    assert status_of(site, manage) == "paused"
    assert "Your alerts are paused" in client.get(r.headers["location"]).text
    assert post(action="resume").status_code == 303 and status_of(site, manage) == "active"

    fields = {"name": "Mia", "topics": ["ofsted", "funding"], "keywords": "fostering\nagency", "rule": "",
              "frequency": "weekly", "at": "07:30", "day": "friday"}  # fmt: skip
    r = post(action="save", **fields)
    assert r.status_code == 303 and "done=saved" in r.headers["location"]
    view = subs.manage_view(str(site.config), str(site.db), manage)
    assert (view.frequency, view.at, view.day, view.topics, view.keywords) == (
        "weekly",
        "07:30",
        "friday",
        ("ofsted", "funding"),
        ("fostering", "agency"),
    )
    bad = post(action="save", **{**fields, "name": "", "rule": "ofsted AND"})
    assert bad.status_code == 400 and 'id="name-error"' in bad.text and 'id="rule-error"' in bad.text
    assert 'value="ofsted AND"' in bad.text  # what was typed, kept
    assert re.search(r'<pre class="cw-caret"[^>]*><code>ofsted AND\n {10}\^</code>', bad.text)
    assert subs.manage_view(str(site.config), str(site.db), manage).name == "Mia"  # nothing saved
    assert post(action="explode").status_code == 400

    data = client.get(f"/manage/{manage}/data.json")
    assert data.status_code == 200 and data.headers["content-type"].startswith("application/json")
    assert data.headers["content-disposition"].startswith("attachment;")
    assert_private(data)
    kept = data.json()
    assert kept["subscriber"] == sid and kept["subscription"]["email"] == "manage@example.org"
    assert [e["event"] for e in kept["history"]][:2] == ["signed up", "confirmed"]

    r = post(action="delete")
    assert r.status_code == 200 and "You are deleted" in r.text
    assert client.get(f"/manage/{manage}").status_code == 404
    assert client.get(f"/manage/{manage}/data.json").status_code == 404


def test_an_operator_subscriber_sees_its_settings_read_only(site, sink):
    before = len(sink.messages)
    _, r = sign_up(site, ORGANISERS, name="Organisers")
    assert r.status_code == 200 and "Check your inbox" in r.text  # the answer a new address gets
    manage = site.links(before)["manage"]  # mailed its manage link instead
    client = site.browser()
    page = client.get(f"/manage/{manage}")
    assert page.status_code == 200 and "managed by the operator" in page.text
    assert 'name="keywords"' not in page.text and 'value="save"' not in page.text and 'value="delete"' not in page.text
    assert "children&#39;s trust" in page.text and "Privatisation and the Trust" in page.text
    r = client.post(f"/manage/{manage}", data={"csrftoken": csrf(page.text), "action": "pause"})
    assert r.status_code == 303 and status_of(site, manage) == "paused"
    r = client.post(f"/manage/{manage}", data={"csrftoken": csrf(page.text), "action": "save", "name": "x"})
    assert r.status_code == 403 and "managed by the operator" in r.text
    r = client.post(f"/manage/{manage}", data={"csrftoken": csrf(page.text), "action": "resume"})
    assert r.status_code == 303 and status_of(site, manage) == "active"


def test_other_posts_are_still_refused_405(site):
    manage, _ = confirmed(site, "readonly@example.org")
    client = site.browser()
    token = csrf(client.get("/subscribe").text)
    for method, path in [
        ("POST", f"/confirm/{manage}/"),
        ("POST", f"/manage/{manage}/data.json"),
        ("POST", "/subscribe/check"),
        ("POST", "/subscribe/"),
        ("POST", "/-/subscribe.js"),
        ("POST", f"/{site.public}/articles"),
        ("POST", f"/{site.public}/subscriptions"),
        ("POST", f"/{site.public}/subscribe"),
        ("POST", f"/x/unsubscribe/{manage}"),
        ("POST", f"/manage/{manage}/"),
        ("POST", "/-/messages"),
        ("PUT", "/subscribe"),
        ("DELETE", f"/manage/{manage}"),
        ("PATCH", f"/unsubscribe/{manage}"),
    ]:
        r = client.request(method, path, data={"csrftoken": token, "action": "delete"})
        assert r.status_code == 405, (method, path, r.status_code)
    assert status_of(site, manage) == "active"


@pytest.fixture(scope="module")
def approval_site(tmp_path_factory, sink):
    work = tmp_path_factory.mktemp("subscribe-approval")
    db = copy_archive(demo_archive(tmp_path_factory), work / "carewatch.db")
    server = SubscriptionSite(work, db, sink, signup="approval", signup_limit_per_client=2)
    yield server
    server.stop()


def test_under_approval_a_confirmed_address_waits_and_sign_ups_are_rate_limited(approval_site):
    site = approval_site
    before = len(site.sink.messages)
    _, r = sign_up(site, "wait@example.org")
    assert r.status_code == 200
    r = follow_confirmation(site, site.links(before)["confirm"])
    assert r.status_code == 200 and "approves new subscriptions" in r.text
    _, r = sign_up(site, "second@example.org")
    assert r.status_code == 200
    _, r = sign_up(site, "third@example.org")
    assert r.status_code == 429 and "try again later" in r.text and r.headers["retry-after"] == "3600"


def test_closed_sign_up_shows_no_form_and_refuses_the_post(tmp_path_factory, sink):
    work = tmp_path_factory.mktemp("subscribe-closed")
    db = copy_archive(demo_archive(tmp_path_factory), work / "carewatch.db")
    site = SubscriptionSite(work, db, sink, signup="closed")
    try:
        page = httpx.get(site.url("/subscribe"))
        assert (
            page.status_code == 200
            and "Sign-up is closed" in page.text
            and "<form" not in page.text.split('<section class="content">')[1]
        )
        assert "Get alerts by email" not in httpx.get(site.url("/")).text  # the front page does not offer it
        client = site.browser()
        before = len(sink.messages)
        r = client.post("/subscribe", data=form_fields("closed@example.org"))
        assert r.status_code == 403 and "Sign-up is closed" in r.text
        assert len(sink.messages) == before
    finally:
        site.stop()
