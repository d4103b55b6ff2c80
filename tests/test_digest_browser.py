"""The HTML digest as a reader sees it on a phone: the real `carewatch demo` mail in headless Chromium.

`carewatch demo` crawls the bundled demo sites and mails its digests to a local sink as .eml files.
Each digest's text/html part is loaded, with every network request blocked, into the system's
Chromium at a phone's size (390x844 CSS px, device scale 2); the assertions are about what shows:
the heading, each item's title link, source line, snippet and topic chips, the footer, nothing
wider than the screen, no tiny text. A full-page screenshot is kept for a human to look at
(/tmp/carewatch-digest-screenshot.png), and checked to be a real picture of the page.
"""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from pathlib import Path

import pytest

from carewatch.config import load_config
from carewatch.demo.run import DEMO_CONFIG
from tests.conftest import carewatch

CHROMIUM = "/usr/bin/chromium"
if shutil.which(CHROMIUM) is None:
    pytest.skip(f"{CHROMIUM} is not installed (Debian's chromium package)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

WIDTH, HEIGHT, SCALE = 390, 844, 2  # a phone: iPhone 12-15 in CSS pixels
MIN_TEXT_PX = 12
TITLE = ":is(h2, h3, h4)"  # an item's title: a heading holding its link, then the source line, then the snippet
SCREENSHOT_COPY = Path("/tmp/carewatch-digest-screenshot.png")  # the first digest's, for a human to look at

CONFIG = load_config(DEMO_CONFIG)
SUBSCRIBERS = {s.id: s for s in CONFIG.alerts.subscribers}
TOPIC_LABELS = {tid: t.label for tid, t in CONFIG.topics.topics.items()}
SOURCE_NAMES = [s.name for s in CONFIG.sources]
DATE = re.compile(
    r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) \d{4}\b"
)


@pytest.fixture(scope="module")
def digests(tmp_path_factory) -> dict[str, email.message.EmailMessage]:
    """The digests the real command mails, by recipient address."""
    work = tmp_path_factory.mktemp("demo")
    result = carewatch("--db", str(work / "demo.db"), "demo", "--out", str(work / "mail"), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = {}
    for path in sorted((work / "mail").glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        out[msg["To"]] = msg
    assert sorted(out) == sorted(s.email for s in SUBSCRIBERS.values()), result.stdout
    return out


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield b
        b.close()


class Shown:
    """One digest, loaded into a phone-sized page and photographed."""

    def __init__(self, sub, msg, page, requests, screenshot):
        self.sub, self.msg, self.page, self.requests, self.screenshot = sub, msg, page, requests, screenshot


@pytest.fixture(scope="module", params=list(SUBSCRIBERS))
def shown(request, digests, browser, tmp_path_factory) -> Shown:
    sub = SUBSCRIBERS[request.param]
    msg = digests[sub.email]
    html_part = msg.get_body(preferencelist=("html",))
    assert html_part is not None and html_part.get_content_type() == "text/html"
    context = browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=SCALE, is_mobile=True, has_touch=True
    )  # mobile: the page's meta viewport counts
    page = context.new_page()
    requests: list[str] = []

    def block(route):  # a mail client shows the HTML without fetching anything; so do we
        requests.append(route.request.url)
        route.abort()

    page.route("**/*", block)
    page.set_content(html_part.get_content(), wait_until="load")
    screenshot = tmp_path_factory.mktemp("screens") / f"digest-{sub.id}.png"
    page.screenshot(path=str(screenshot), full_page=True)
    if request.param == next(iter(SUBSCRIBERS)):
        shutil.copyfile(screenshot, SCREENSHOT_COPY)
    else:
        shutil.copyfile(screenshot, SCREENSHOT_COPY.with_stem(f"{SCREENSHOT_COPY.stem}-{sub.id}"))
    yield Shown(sub, msg, page, requests, screenshot)
    context.close()


def _inside_width(box: dict | None) -> bool:
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 0.5


def test_heading_says_how_many_articles(shown):
    page = shown.page
    h1 = page.locator("h1")
    assert h1.count() == 1 and h1.is_visible()
    text = " ".join(h1.inner_text().split())
    # "36 new articles in 31 stories for …": every article counted, one item per story
    m = re.match(r"([\d,]+) new articles?(?: in ([\d,]+) stor(?:y|ies))? for (.+)$", text)
    assert m, text
    n = int(m.group(1).replace(",", ""))
    stories = int(m.group(2).replace(",", "")) if m.group(2) else n
    assert stories == page.locator(".item").count() > 0, f"{text!r} but {page.locator('.item').count()} items"
    assert n >= stories
    assert m.group(3) == shown.sub.name
    box = h1.bounding_box()
    assert _inside_width(box) and box["y"] + box["height"] <= HEIGHT, f"h1 not on the first screen: {box}"
    if n > 1:  # the subject line agrees with the heading
        assert re.match(rf"carewatch: {n:,} new\b", shown.msg["Subject"]), shown.msg["Subject"]


def test_every_item_has_a_visible_title_link_source_line_and_snippet(shown):
    items = shown.page.locator(".item")
    assert items.count() > 0
    for i in range(items.count()):
        item = items.nth(i)
        assert item.is_visible() and _inside_width(item.bounding_box()), f"item {i} off screen"
        link = item.locator(f"{TITLE} a").first
        title = " ".join(link.inner_text().split())
        where = f"item {i} ({title!r})"
        assert link.is_visible() and title, where
        assert re.match(r"https?://[^\s/]+\.[^\s/]+", link.get_attribute("href") or ""), where
        assert _inside_width(link.bounding_box()), f"{where}: title link wider than the screen"

        source_line = item.locator(f"{TITLE} + p")
        assert source_line.is_visible() and _inside_width(source_line.bounding_box()), where
        line = " ".join(source_line.inner_text().split())
        assert any(line.startswith(name) for name in SOURCE_NAMES), f"{where}: source line {line!r}"
        assert DATE.search(line), f"{where}: no date in {line!r}"  # every demo article has one

        snippet = item.locator(f"{TITLE} + p + p")
        assert snippet.is_visible() and _inside_width(snippet.bounding_box()), where
        assert len(snippet.inner_text().strip()) >= 40, f"{where}: snippet {snippet.inner_text()!r}"
        assert snippet.bounding_box()["y"] > source_line.bounding_box()["y"] > link.bounding_box()["y"], where


def test_coming_up_and_not_yet_covered_are_readable_on_the_phone(shown):
    """The calendar sections (alerts.calendar) after the stories: each entry visible within the
    screen, a meeting with its day and time, committee and the item linked to the meeting page; a
    document linked, with where it is from; the summary at the top links each section."""
    page = shown.page
    meetings, documents = page.locator(".calendar-item.meeting"), page.locator(".calendar-item.uncovered")
    assert meetings.count() + documents.count() > 0  # the demo has both (tests/test_demo_calendar.py)
    for block, heading in ((meetings, "#coming-up"), (documents, "#not-covered")):
        if not block.count():
            continue
        assert page.locator(heading).is_visible()
        assert page.locator(f'.summary a[href="{heading}"]').count() == 1
        assert page.locator(heading).bounding_box()["y"] > page.locator(".item").last.bounding_box()["y"]
        for i in range(block.count()):
            entry = block.nth(i)
            assert entry.is_visible() and _inside_width(entry.bounding_box()), f"{heading} {i} off screen"
            link = entry.locator("h3 a")
            assert link.is_visible() and _inside_width(link.bounding_box()) and link.inner_text().strip()
            assert re.match(r"https?://", link.get_attribute("href") or "")
    for i in range(meetings.count()):
        when = " ".join(meetings.nth(i).locator("p").first.inner_text().split())
        assert re.match(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2}, \d{2}:\d{2} · \S", when), when


def test_topic_chips_are_shown_with_the_configured_labels(shown):
    chips = shown.page.locator(".item span")
    assert chips.count() > 0
    labels = set(TOPIC_LABELS.values())
    for i in range(chips.count()):
        chip = chips.nth(i)
        text = chip.inner_text().strip()
        assert text in labels, f"chip {text!r} is not a topic label"
        assert chip.is_visible() and _inside_width(chip.bounding_box()), f"chip {text!r} off screen"
    with_chips = shown.page.locator(".item:has(span)").count()
    assert with_chips >= shown.page.locator(".item").count() // 2, "most items should carry topic chips"


def test_footer_says_why_the_reader_got_it(shown):
    page = shown.page
    footer = page.locator(".item ~ *").last  # what follows the last item
    assert footer.is_visible() and _inside_width(footer.bounding_box())
    text = " ".join(footer.inner_text().split())
    assert re.search(r"\bbecause\b", text, re.I) and re.search(r"subscri", text, re.I), text
    for kw in shown.sub.keywords:
        assert kw in text, f"footer does not name keyword {kw!r}: {text}"
    for topic in shown.sub.topics:
        assert topic in text or TOPIC_LABELS[topic] in text, f"footer does not name topic {topic!r}: {text}"
    last_item = page.locator(".item").last.bounding_box()
    assert footer.bounding_box()["y"] >= last_item["y"] + last_item["height"]


def test_nothing_is_wider_than_the_phone(shown):
    widths = shown.page.evaluate("""() => ({
        doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, inner: window.innerWidth})""")
    assert widths["inner"] == WIDTH, widths  # the meta viewport took: laid out at the phone's width
    assert widths["doc"] <= WIDTH and widths["body"] <= WIDTH, widths
    # every run of text, line by line, lies within the screen (catches text clipped by overflow:hidden too)
    outside = shown.page.evaluate(
        """(w) => {
        const out = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n; (n = walk.nextNode());) {
            if (!n.textContent.trim()) continue;
            const r = document.createRange(); r.selectNodeContents(n);
            for (const rect of r.getClientRects())
                if (rect.width && (rect.left < -0.5 || rect.right > w + 0.5))
                    out.push([n.textContent.trim().slice(0, 60), rect.left, rect.right]);
        }
        return out;
    }""",
        WIDTH,
    )
    assert outside == [], outside[:5]


def test_text_is_at_least_12px(shown):
    small = shown.page.evaluate(
        """(min) => {
        const out = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n; (n = walk.nextNode());) {
            if (!n.textContent.trim() || !n.parentElement.checkVisibility()) continue;
            const size = parseFloat(getComputedStyle(n.parentElement).fontSize);
            if (size < min) out.push([n.parentElement.tagName, size, n.textContent.trim().slice(0, 60)]);
        }
        return out;
    }""",
        MIN_TEXT_PX,
    )
    assert small == [], small[:5]


def test_the_email_fetches_nothing(shown):
    assert shown.requests == [], f"the HTML asks for remote resources (blocked): {shown.requests[:5]}"


def test_screenshot_is_a_real_picture_of_the_page(shown):
    from PIL import Image, ImageStat

    page_height = shown.page.evaluate("document.documentElement.scrollHeight")
    with Image.open(shown.screenshot) as im:
        assert im.format == "PNG"
        assert im.width == WIDTH * SCALE, im.size
        assert abs(im.height - page_height * SCALE) <= SCALE, (im.size, page_height)
        rgb = im.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 200, f"{len(colours or [])} colours: blank?"
        assert max(ImageStat.Stat(rgb).stddev) > 20, ImageStat.Stat(rgb).stddev
        top = rgb.crop((0, 0, rgb.width, HEIGHT * SCALE))  # the first screen is not blank either
        assert max(ImageStat.Stat(top).stddev) > 20
