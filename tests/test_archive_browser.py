"""A campaigner's minute in the archive, in headless Chromium against the real `carewatch serve`:
search the demo archive from the front page, narrow the results by a topic facet, open an article,
open its versions and read what changed, and chart topics over time (datasette-vega).

The demo archive comes from the real `carewatch demo`; one of its articles is then edited through
the store (store.articles.save_article, as a crawl that saw the edit would), so it has a second
version whose diff the test reads. Each step is checked in the page's DOM and photographed: the
screenshots are kept for a human as /tmp/carewatch-archive-<step>.png, and checked to be real
pictures (not blank).
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from carewatch.config import load_config
from carewatch.core.items import Article
from carewatch.pipelines.dedupe import content_hash, signature
from carewatch.pipelines.tag import Tagger, tag
from carewatch.store.articles import save_article
from carewatch.store.db import open_db
from tests.conftest import ROOT
from tests.test_archive import Served, copy_archive, demo_archive

CHROMIUM = "/usr/bin/chromium"
if shutil.which(CHROMIUM) is None:
    pytest.skip(f"{CHROMIUM} is not installed (Debian's chromium package)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

WIDTH, HEIGHT = 1280, 900
PHONE = {"width": 390, "height": 844}  # a phone's first screen
STATEMENT = "Media statement: Child Safeguarding Practice Review – Child L (updated 26 May 2023)"  # edited once
SEARCH = "voluntary trust"
TOPIC = "Privatisation and the Trust"
EDITED_URL = "%to-be-placed-in-a-trust%"  # the Chamberlain Files' report of the trust decision
ADDED = "The Department for Education confirmed that the new trust would take over in April 2018."
SCREENSHOTS = Path("/tmp")


def _edit_an_article(db_path: Path) -> tuple[str, str]:
    """Store an edited text of one demo article, as a crawl that saw the edit would: the article
    gets a second version, the first kept with its diff. Returns (article_id, title)."""
    config = load_config(ROOT / "config")
    db = open_db(db_path)
    try:
        [row] = list(db["articles"].rows_where("url_key LIKE ?", [EDITED_URL]))
        assert "troubled" in row["text"], row["text"][:300]
        text = row["text"].replace("troubled", "failing", 1) + "\n" + ADDED
        sig, shingles = signature(text)
        edited = Article(
            source_id=row["source_id"],
            url=row["url"],
            canonical_url=row["canonical_url"],
            url_key=row["url_key"],
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            title=row["title"],
            author=row["author"],
            published=row["published"],
            text=text,
            kind=row["kind"],
            content_hash=content_hash(text),
            minhash=sig.hashvalues.astype(np.uint64).tobytes(),
            shingles=shingles,
        )
        edited = tag(edited, Tagger(config.topics, config.entities))
        assert save_article(db, edited) == "updated"
        assert (
            db.execute("SELECT count(*) FROM article_versions WHERE article_id = ?", [row["article_id"]]).fetchone()[0]
            == 1
        )
        return row["article_id"], row["title"]
    finally:
        db.close()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    work = tmp_path_factory.mktemp("archive-browser")
    demo = demo_archive(tmp_path_factory)
    db = copy_archive(demo, work / "carewatch.db")
    (work / "carewatch.db-raw").symlink_to(demo.with_name("carewatch.db-raw"))  # its WARC files, for evidence packs
    article_id, title = _edit_an_article(db)
    server = Served(db, work)
    yield server, article_id, title
    server.stop()


@contextmanager
def watched_page(base: str, **context_options):
    """A page of headless Chromium (a context of its own, ``context_options`` as Playwright takes
    them) that notes in ``page.outside`` every request it makes outside ``base``."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        context = browser.new_context(**context_options)
        pg = context.new_page()
        outside: list[str] = []
        pg.on("request", lambda r: None if r.url.startswith((base, "data:")) else outside.append(r.url))
        pg.outside = outside
        try:
            yield pg
        finally:
            context.close()
            browser.close()


@pytest.fixture(scope="module")
def page(archive):
    with watched_page(archive[0].base, viewport={"width": WIDTH, "height": HEIGHT}) as pg:
        yield pg


def photograph(page, name: str, tmp_path_factory, width: int = WIDTH) -> Path:
    """A full-page screenshot, checked to be a real picture of the page, kept in /tmp for a human."""
    from PIL import Image, ImageStat

    path = tmp_path_factory.mktemp("screens") / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.width == width and im.height >= HEIGHT // 2, im.size
        rgb = im.convert("RGB")
        colours = rgb.getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 100, f"{name}: {len(colours or [])} colours, blank?"
        assert max(ImageStat.Stat(rgb).stddev) > 20, f"{name}: {ImageStat.Stat(rgb).stddev}"
        top = rgb.crop((0, 0, rgb.width, min(rgb.height, HEIGHT)))
        assert max(ImageStat.Stat(top).stddev) > 20, f"{name}: the first screen is blank"
    shutil.copyfile(path, SCREENSHOTS / f"carewatch-archive-{name}.png")
    return path


def words(text: str) -> str:
    return " ".join(text.split())


def test_a_campaigner_finds_reads_and_cites_an_article(archive, page, tmp_path_factory):
    server, article_id, title = archive
    db = server.public

    # 1. Search from the front page: results with the search words highlighted in snippets.
    page.goto(server.url("/"))
    page.fill("#cw-q", SEARCH)
    with page.expect_navigation():
        page.press("#cw-q", "Enter")
    assert "_search=voluntary+trust" in page.url
    results = page.locator(".cw-result")
    n_results = results.count()
    assert n_results >= 2
    heading = words(page.locator("#cw-count").inner_text())
    assert heading == f"{n_results} articles matching “{SEARCH}”, newest first", heading
    marks = {m.lower() for m in page.locator(".cw-result mark").all_inner_texts()}
    assert marks == {"voluntary", "trust"}, marks
    for i in range(n_results):
        result = results.nth(i)
        assert result.locator(".cw-result-title a").is_visible()
        assert result.locator(".cw-snippet mark").count() >= 1, words(result.inner_text())
    dates = page.locator(".cw-result .cw-meta").all_inner_texts()
    years = [int(m.group()) for d in dates for m in [re.search(r"\b(19|20)\d\d\b", d)] if m]
    assert years == sorted(years, reverse=True), dates  # newest first
    photograph(page, "search", tmp_path_factory)

    # 2. Narrow by a topic facet.
    facet = page.locator("#facet-topic")
    assert facet.is_visible() and facet.locator(".facet-info-name").inner_text().strip() == "Topic"  # open beside
    link = facet.locator("a", has_text=TOPIC)
    expected = int(words(link.locator("xpath=..").inner_text()).rsplit(" ", 1)[1])
    with page.expect_navigation():
        link.click()
    assert "_through=" in page.url and "_search=voluntary+trust" in page.url
    heading = words(page.locator("#cw-count").inner_text())
    assert heading.startswith(f"{expected} article") and heading.endswith("narrowed to:"), heading
    assert words(page.locator(".cw-chip-chosen").inner_text()) == f"Topic: {TOPIC} ✖"
    results = page.locator(".cw-result")
    assert results.count() == expected >= 1
    for i in range(expected):
        chips = results.nth(i).locator(".cw-chip").all_inner_texts()
        assert TOPIC in chips, chips
    selected = page.locator("#facet-topic li", has_text=TOPIC)
    assert "✖" in selected.inner_text() and selected.locator("a.cross").count() == 1  # selected, can be removed
    assert page.locator(".export-links a, p:has-text('This data as') a", has_text="CSV").count() >= 1
    photograph(page, "facet", tmp_path_factory)

    # 3. Open the article: its text, its links, a citation.
    with page.expect_navigation():
        page.locator(".cw-result-title a", has_text=title).click()
    assert page.url == server.url(f"/{db}/articles/{article_id}")
    assert words(page.locator("h1").first.inner_text()) == words(title)
    assert ADDED in page.locator(".cw-text").inner_text()
    versions = page.locator(".cw-link-versions")
    assert "2 versions, with what changed" in versions.inner_text()
    assert page.locator(".cw-link-story a").get_attribute("href").startswith("/-/story/")
    assert "The Chamberlain Files" in page.locator(".cw-link-source").inner_text()
    assert re.search(
        r"Raw capture: \S+\.warc\.gz, byte \d+, SHA-256 [0-9a-f]{16}",
        words(page.locator(".cw-link-capture").inner_text()),
    )
    citation = page.locator("#cw-citation").input_value()
    assert (
        title in citation
        and server.url(f"/{db}/articles/{article_id}") in citation
        and "The Chamberlain Files" in citation
    )
    assert page.locator("details.cw-record").count() == 1
    photograph(page, "article", tmp_path_factory)

    # 4. Its versions, and what changed.
    with page.expect_navigation():
        versions.locator("a", has_text="2 versions").click()
    assert f"statement_versions?article_id={article_id}" in page.url
    assert words(page.locator("h1").inner_text()) == "Every version of a statement, with diffs"
    rows = page.locator("table.rows-and-columns tbody tr")
    assert rows.count() == 2
    assert [words(t) for t in page.locator("td.col-state").all_inner_texts()] == ["earlier", "current"]
    added = words(" ".join(page.locator("ins.cw-ins").all_inner_texts()))
    removed = words(" ".join(page.locator("del.cw-del").all_inner_texts()))
    assert "failing" in added and "April 2018" in added and "Department for Education confirmed" in added, added
    assert "troubled" in removed, removed
    photograph(page, "diff", tmp_path_factory)

    assert page.outside == [], f"pages asked for outside resources: {page.outside[:5]}"


def test_topics_over_time_are_charted(archive, page, tmp_path_factory):
    server = archive[0]
    page.goto(
        server.url(
            f"/{server.public}/topics_over_time#g.mark=bar&g.x_column=period&g.x_type=ordinal"
            "&g.y_column=articles&g.y_type=quantitative&g.color_column=topic"
        )
    )
    chart = page.locator(".vega-embed canvas, .vega-embed svg").first
    chart.wait_for(state="visible", timeout=15000)
    box = chart.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 100, box
    assert words(page.locator("h1").inner_text()) == "By topic over time"
    assert page.locator("table.rows-and-columns tbody tr").count() >= 5
    photograph(page, "chart", tmp_path_factory)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url}: {width}px wide"


def test_an_organiser_on_a_phone_searches_follows_a_story_and_downloads_evidence(archive, page, tmp_path_factory):
    """At 390 px: the first result for "ofsted" on the first screen, plain names, no SQL; the story
    page with its title and coverage; the evidence pack downloaded, a valid zip whose summary reads
    on the phone (no sideways scroll, the quoted text with its punctuation)."""
    server = archive[0]
    # the module's browser, a phone's context of its own
    context = page.context.browser.new_context(viewport=PHONE, accept_downloads=True, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        # 1. Search from the front page: the first result on the first screen.
        page.goto(server.url("/"))
        page.fill("#cw-q", "ofsted")
        with page.expect_navigation():
            page.press("#cw-q", "Enter")
        first = page.locator(".cw-result").first.locator(".cw-result-title")
        box = first.bounding_box()
        assert box and box["y"] + box["height"] <= PHONE["height"], box
        assert "ofsted" in first.inner_text().lower() or first.locator("xpath=../..").locator("mark").count()
        body = page.content()
        for sql_thing in ("CREATE TABLE", "View and edit SQL", "_filter_column"):
            assert sql_thing not in body, sql_thing
        _no_sideways_scroll(page)
        facets = page.locator("#cw-facets")
        assert facets.get_attribute("open") is None and not page.locator("#facet-source_id").is_visible()
        facets.locator("summary").click()
        names = [words(t) for t in page.locator("#cw-facets .facet-info-name").all_inner_texts()]
        assert sorted(names) == sorted(
            [
                "Source",
                "Topic",
                "People and organisations",
                "Year",
                "About Birmingham's children's services",
            ]
        )
        assert set(words(t).rsplit(" ", 1)[0] for t in page.locator("#facet-relevant li").all_inner_texts()) <= {
            "yes",
            "no",
        }
        assert page.locator("#facet-source_id a").first.evaluate("a => getComputedStyle(a).wordBreak") == "normal"
        photograph(page, "phone-search", tmp_path_factory, width=PHONE["width"])

        # 2. Datasette's own page, for SQL, is one link away.
        with page.expect_navigation():
            page.locator("a.cw-table-view").click()
        assert "CREATE TABLE" in page.content()
        page.go_back()

        # 3. An article, its evidence pack.
        page.goto(server.url(f"/{server.public}/articles?_search=%22child+L%22"))
        with page.expect_navigation():
            page.locator(".cw-result-title a", has_text="updated 26 May 2023").click()
        assert words(page.locator("h1").first.inner_text()) == STATEMENT
        assert "CREATE TABLE" not in page.content()
        _no_sideways_scroll(page)
        with page.expect_download() as download:
            page.locator("a.cw-evidence").click()
        pack = tmp_path_factory.mktemp("pack") / download.value.suggested_filename
        download.value.save_as(pack)
        assert pack.suffix == ".zip"
        with zipfile.ZipFile(pack) as z:
            assert z.testzip() is None
            [summary] = [n for n in z.namelist() if n.endswith("/summary.html")]
            manifest = json.loads(z.read(summary.replace("summary.html", "manifest.json")))
            assert manifest["captures"] and all(c["verified"] for c in manifest["captures"])
            unpacked = tmp_path_factory.mktemp("unpacked")
            z.extractall(unpacked)
        article_url = page.url

        # 4. The pack's summary reads on the phone and on a desktop.
        for viewport in (PHONE, {"width": WIDTH, "height": HEIGHT}):
            page.set_viewport_size(viewport)
            page.goto((unpacked / summary).as_uri())
            _no_sideways_scroll(page)
        diff = words(page.locator("div.text").first.inner_text())
        assert diff.startswith("Media statement: Child Safeguarding Practice Review – Child L (updated 26 May 2023)"), (
            diff
        )
        page.set_viewport_size(PHONE)

        # 5. Its story: the first headline as the title, the coverage in time order, who was first.
        page.goto(article_url)
        with page.expect_navigation():
            page.locator(".cw-link-story a").click()
        assert page.url.startswith(server.url("/-/story/"))
        items = page.locator(".cw-coverage > li")
        assert items.count() >= 2
        times = [
            datetime.fromisoformat(t)
            for t in page.locator(".cw-coverage time").evaluate_all("ts => ts.map(t => t.getAttribute('datetime'))")
        ]
        times = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in times]
        assert times == sorted(times)
        first_title = words(items.first.locator(".cw-result-title").inner_text())
        assert words(page.locator("h1").inner_text()) == first_title
        assert "First" in items.first.locator(".cw-badge").inner_text()
        assert STATEMENT in [words(t) for t in page.locator(".cw-coverage .cw-result-title").all_inner_texts()]
        assert "CREATE TABLE" not in page.content()
        _no_sideways_scroll(page)
        photograph(page, "phone-story", tmp_path_factory, width=PHONE["width"])
    finally:
        context.close()
