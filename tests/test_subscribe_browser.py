"""An organiser signs up for alerts on a phone, in headless Chromium against the real `carewatch
serve` (on a copy of the demo archive, with sign-up open and a real aiosmtpd sink on loopback), and
later leaves as a mail client does it:

the rule is checked as it is typed (an unbalanced quote is pointed at; a good rule previews what it
would have sent), the form is filled and sent from the keyboard, the confirmation email arrives and
its link is followed; a real crawl of the demo sites and a real send bring a digest, whose footer
links to the manage page, where the frequency is changed; the digest's List-Unsubscribe link is
then POSTed ``List-Unsubscribe=One-Click`` (RFC 8058, no cookies), and after a new article matching
the rule is published and crawled, the next send mails the others and not this address.

At 390 px wide every page is checked for sideways scrolling and every input for its label, and
photographed: /tmp/carewatch-subscribe-<step>.png, checked to be real pictures (not blank).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import httpx
import pytest

from carewatch.demo.mailsink import MailSink
from carewatch.demo.run import demo_config
from carewatch.demo.server import DemoServer
from carewatch.ops import subscriptions as subs
from carewatch.ops.alerts import send_alerts
from carewatch.ops.crawl import run_crawl
from carewatch.ops.database import open_archive
from tests.test_archive import copy_archive, demo_archive
from tests.test_archive_browser import watched_page
from tests.test_demo_site import FEED, HTML, ITEM, PAGE, TITLE
from tests.test_subscribe_web import SubscriptionSite

CHROMIUM = "/usr/bin/chromium"
if shutil.which(CHROMIUM) is None:
    pytest.skip(f"{CHROMIUM} is not installed (Debian's chromium package)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

PHONE = {"width": 390, "height": 844}
EMAIL = "rosa@example.org"
BAD_RULE = "\"children's trust AND"
RULE = '"children\'s trust"'
SCREENSHOTS = Path("/tmp")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The demo sites (a server of this module's own: an article is published on it), the mail
    sink, and `carewatch serve` on a copy of the demo archive."""
    work = tmp_path_factory.mktemp("subscribe-browser")
    db = copy_archive(demo_archive(tmp_path_factory), work / "carewatch.db")
    with DemoServer() as sites, MailSink(work / "mail") as sink:
        site = SubscriptionSite(work, db, sink, signup_limit_per_client=100)
        try:
            yield site, sites
        finally:
            site.stop()


@pytest.fixture(scope="module")
def page(world):
    with watched_page(world[0].base, viewport=PHONE, is_mobile=True, has_touch=True) as pg:
        yield pg


def photograph(page, name: str, tmp_path_factory) -> None:
    """A full-page screenshot, checked to be a real picture of the page, kept in /tmp for a human."""
    from PIL import Image, ImageStat

    path = tmp_path_factory.mktemp("screens") / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.width == PHONE["width"] and im.height >= PHONE["height"] // 2, im.size
        rgb = im.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50, f"{name}: {len(colours or [])} colours, blank?"
        assert max(ImageStat.Stat(rgb).stddev) > 20, f"{name}: {ImageStat.Stat(rgb).stddev}"
    shutil.copyfile(path, SCREENSHOTS / f"carewatch-subscribe-{name}.png")


def fits_the_phone(page) -> None:
    """No sideways scroll, and every input, select and text box has a label."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url}: {width}px wide"
    unlabelled = page.evaluate(
        """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
             .filter(e => !e.labels || e.labels.length === 0 || !e.labels[0].textContent.trim())
             .map(e => e.name || e.id || e.outerHTML)"""
    )
    assert unlabelled == [], unlabelled


def crawl_and_send(site: SubscriptionSite, sites: DemoServer) -> list:
    """A real crawl of the demo sites into the served archive, then a real send of what is due."""
    config = demo_config(sites.proxy_url, site.sink.port, config_dir=site.config)
    run_crawl(config, site.db, log_level="CRITICAL")
    db = open_archive(site.db)
    try:
        return send_alerts(config, db)
    finally:
        db.close()


def to(site: SubscriptionSite, email: str) -> list:
    return [m for m in site.sink.messages if m["To"] == email]


@pytest.mark.timeout(300)
def test_an_organiser_signs_up_gets_a_digest_changes_it_and_one_click_unsubscribes(world, page, tmp_path_factory):
    site, sites = world

    # 1. The form, on a phone.
    page.goto(site.url("/subscribe"))
    assert page.locator("h1").inner_text().startswith("Get alerts")
    fits_the_phone(page)
    assert page.locator('input[name="topics"]').count() == len(subs.topic_choices(str(site.config)))
    assert page.locator("label", has_text="Privatisation and the Trust").count() == 1
    photograph(page, "form", tmp_path_factory)

    # 2. A rule that cannot be read: the error, in words, with a caret under the place.
    page.fill("#rule", BAD_RULE)
    error = page.locator("#cw-preview .cw-error")
    error.wait_for(state="visible", timeout=10000)
    assert "quotes" in error.inner_text() and "at character 1" in error.inner_text()
    caret = page.locator("#cw-preview .cw-caret").inner_text()
    assert caret.splitlines() == [BAD_RULE, "^"], caret
    assert page.get_attribute("#rule", "aria-invalid") == "true"
    assert page.get_attribute("#cw-preview", "aria-live") == "polite"
    fits_the_phone(page)
    photograph(page, "rule-error", tmp_path_factory)

    # 3. A good rule: how many articles it would have sent, the five latest.
    page.fill("#rule", RULE)
    count = page.locator("#cw-preview .cw-preview-count")
    count.wait_for(state="visible", timeout=10000)
    said = count.inner_text()
    m = re.fullmatch(r"(\d+) articles in the last 30 days would have been sent\. The latest:", said)
    assert m and int(m.group(1)) >= 5, said
    assert page.locator("#cw-preview .cw-error").count() == 0
    titles = page.locator("#cw-preview .cw-preview-title").all_inner_texts()
    assert len(titles) == 5 and all(titles), titles
    check = subs.check_rule(str(site.config), str(site.db), RULE)
    assert int(m.group(1)) == check.count and titles == [t.title for t in check.latest]
    photograph(page, "rule-preview", tmp_path_factory)

    # 4. The rest of the form, from the keyboard; sent with Enter on the focused button.
    page.focus("#email")
    page.keyboard.type(EMAIL)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.type("Rosa")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    assert page.evaluate("document.activeElement.textContent.trim()") == "Sign up"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), outline  # the focus is visible
    assert page.is_checked("#frequency-daily") and page.input_value("#at") == "08:00"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h1").inner_text() == "Check your inbox"
    fits_the_phone(page)
    photograph(page, "check-your-inbox", tmp_path_factory)

    # 5. The confirmation email, and its link.
    (confirmation,) = to(site, EMAIL)
    assert "Confirm" in confirmation["Subject"]
    link = re.search(re.escape(site.base) + r"/confirm/[A-Za-z0-9_-]+", confirmation.get_content()).group()
    page.goto(link)  # one button: opening the link (as a mail scanner does) confirms nothing
    assert page.locator("h1").inner_text() == "Confirm your address"
    assert "r***@example.org" in page.locator(".cw-form-page").inner_text()
    fits_the_phone(page)
    with page.expect_navigation():
        page.click("button#cw-confirm")
    assert page.locator("h1").inner_text() == "Your address is confirmed"
    fits_the_phone(page)
    photograph(page, "confirmed", tmp_path_factory)

    # 6. A crawl of the demo sites and a send: a digest for the new subscriber.
    sent = crawl_and_send(site, sites)
    mine = [r for r in sent if r.address == EMAIL]
    assert [r.status for r in mine] == ["sent"], sent
    (digest,) = to(site, EMAIL)[1:]
    https, mailto = re.findall(r"<([^>]+)>", digest["List-Unsubscribe"])
    assert https.startswith(site.url("/unsubscribe/")) and mailto.startswith("mailto:")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = digest.get_body(("html",)).get_content()
    manage = re.search(r'class="manage" href="([^"]+)"', html).group(1)
    assert manage.startswith(site.url("/manage/"))

    # 7. The manage page from the digest's footer: the frequency changed and saved.
    page.goto(manage)
    assert page.locator("h1").inner_text() == "Your alerts"
    assert EMAIL in page.locator("#cw-status").inner_text()
    assert page.input_value("#rule") == RULE and page.is_checked("#frequency-daily")
    fits_the_phone(page)
    page.locator("#cw-preview .cw-preview-count").wait_for(state="visible", timeout=10000)  # its preview too
    photograph(page, "manage", tmp_path_factory)
    page.check("#frequency-immediate")
    with page.expect_navigation():
        page.click("button[value=save]")
    assert page.url.endswith("?done=saved")
    assert page.locator("#cw-done").inner_text() == "Your changes are saved."
    assert page.is_checked("#frequency-immediate")
    page.locator("#cw-preview .cw-preview-count").wait_for(state="visible", timeout=10000)
    fits_the_phone(page)
    photograph(page, "manage-saved", tmp_path_factory)
    view = subs.manage_view(str(site.config), str(site.db), manage.rsplit("/", 1)[1])
    assert view.frequency == "immediate" and view.status == "active"

    # 8. The footer's unsubscribe link opens a page with one button; opening it changes nothing.
    footer_unsubscribe = re.search(r'class="unsubscribe" href="([^"]+)"', html).group(1)
    page.goto(footer_unsubscribe)
    assert page.locator("h1").inner_text() == "Unsubscribe"
    assert "r***@example.org" in page.locator(".cw-form-page").inner_text()
    assert page.locator("button#cw-unsubscribe").is_visible()
    fits_the_phone(page)
    photograph(page, "unsubscribe", tmp_path_factory)
    assert subs.manage_view(str(site.config), str(site.db), manage.rsplit("/", 1)[1]).status == "active"

    # 9. The mail client's one-click unsubscribe: a POST to the https link, no cookies, no token.
    r = httpx.post(
        https,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, (r.status_code, r.text[:500])
    assert subs.manage_view(str(site.config), str(site.db), manage.rsplit("/", 1)[1]).status == "unsubscribed"

    # 10. A new article matching the rule is published and crawled: the others get it, this address does not.
    sites.sites.publish(FEED, ITEM, PAGE, HTML)
    sent = crawl_and_send(site, sites)
    assert any(TITLE in r.articles for r in sent if r.status == "sent"), sent  # it was sent to someone
    assert [r for r in sent if r.address == EMAIL] == []
    assert len(to(site, EMAIL)) == 2  # the confirmation and the one digest

    # the manage page says so; the page asked for nothing outside the archive
    page.goto(manage)
    assert "unsubscribed" in page.locator("#cw-status").inner_text()
    page.locator("#cw-preview .cw-preview-count").wait_for(state="visible", timeout=10000)
    assert page.locator("button[value=resume]").count() == 1
    photograph(page, "manage-unsubscribed", tmp_path_factory)
    assert page.outside == [], page.outside[:5]


def test_without_javascript_the_server_checks_the_form_and_keeps_what_was_typed(world, page, tmp_path_factory):
    """The form sent with mistakes, in a browser with JavaScript off: shown again with each error
    beside its field (the rule's with a caret under the place), everything typed kept; then sent right."""
    site = world[0]
    context = page.context.browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=False
    )
    pg = context.new_page()
    try:
        pg.goto(site.url("/subscribe"))
        pg.fill("#email", "not an address")
        pg.fill("#name", "Nadia <b>N</b>")
        pg.check("#topic-ofsted")
        pg.fill("#keywords", "fostering, agency")
        pg.fill("#rule", "ofsted AND")
        pg.check("#frequency-weekly")
        pg.select_option("#day", "friday")
        with pg.expect_navigation():
            pg.click("button[type=submit]")
        assert pg.locator(".cw-error-summary").is_visible()
        email_error = pg.locator("#email-error")
        assert "email address" in email_error.inner_text()
        assert email_error.evaluate("e => e.nextElementSibling.id") == "email"  # beside its field
        assert "column 11" in pg.locator("#rule-error").inner_text()
        assert pg.locator(".cw-caret").inner_text().splitlines() == ["ofsted AND", " " * 10 + "^"]
        assert pg.get_attribute("#rule", "aria-invalid") == "true"
        assert "rule-error" in pg.get_attribute("#rule", "aria-describedby")
        assert pg.input_value("#email") == "not an address" and pg.input_value("#name") == "Nadia <b>N</b>"
        assert pg.input_value("#keywords") == "fostering, agency" and pg.input_value("#rule") == "ofsted AND"
        assert pg.is_checked("#topic-ofsted") and pg.is_checked("#frequency-weekly")
        assert pg.input_value("#day") == "friday"
        fits_the_phone(pg)
        photograph(pg, "no-js-errors", tmp_path_factory)

        pg.fill("#email", "nadia@example.org")
        pg.fill("#rule", "ofsted AND trust")
        with pg.expect_navigation():
            pg.click("button[type=submit]")
        assert pg.locator("h1").inner_text() == "Check your inbox"
        assert [m["Subject"] for m in to(site, "nadia@example.org")] == ["Confirm your carewatch alerts"]
    finally:
        context.close()
