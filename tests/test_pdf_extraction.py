"""PDF text extraction on the four real Ofsted reports on Birmingham (../shared/data)."""

from __future__ import annotations

import dataclasses
import gzip
from datetime import datetime

import pytest

from carewatch.config import load_config
from carewatch.core.items import Article
from carewatch.pipelines.extract import extract, is_pdf
from carewatch.pipelines.runner import run_stages
from carewatch.scrapers.pdfs import date_from_text
from tests.conftest import ROOT, shared_data

JUDGEMENTS = {
    "2014-05-23": "Inadequate",
    "2016-11-25": "Inadequate",
    "2019-01-17": "Requires improvement to be good",
    "2023-04-18": "Good",
}
INSPECTED = {
    "2014-05-23": "18 March 2014 to 09 April 2014",
    "2016-11-25": "12 September 2016 to 6 October 2016",
    "2019-01-17": "3 December 2018 to 14 December 2018",
    "2023-04-18": "20 February to 3 March 2023",
}
TITLES = {
    "2014-05-23": "Birmingham City Council Inspection of services for children in need of help and protection, "
    "children looked after and care leavers and Review of the effectiveness of the local "
    "safeguarding children board",
    "2016-11-25": "Birmingham Re-inspection of services for children in need of help and protection, children "
    "looked after and care leavers",
    "2019-01-17": "Birmingham City Council Inspection of children's social care services",
    "2023-04-18": "Inspection of Birmingham City Council local authority children’s services",
}


@pytest.mark.parametrize("published", sorted(JUDGEMENTS))
def test_real_ofsted_report_text_and_tags(published):
    path = shared_data("ofsted-birmingham-reports", f"80429-childrens-services-inspection-{published}.pdf")
    body = path.read_bytes()
    assert is_pdf(body)
    # As the crawl gets it: no date from the link, so the date comes from the report itself
    # (or, where the report prints none, the PDF's creation date: the day before publication).
    article = Article(
        source_id="ofsted-reports", url="https://files.ofsted.gov.uk/v1/file/1", fetched_at="x", body=body
    )
    item = run_stages(article, load_config(ROOT / "config"))
    assert item.kind == "pdf"
    assert item.report["judgement"] == JUDGEMENTS[published]
    assert item.report["inspection_dates"] == INSPECTED[published]
    assert item.report["authority"].startswith("Birmingham")
    assert item.title == TITLES[published]
    day = item.published[:10]
    assert day == published or (item.extraction["date"] == "pdf metadata" and day < published)
    assert "Birmingham" in item.text and len(item.text) > 10_000
    assert item.relevant and "ofsted" in {t.topic for t in item.topics}
    # In a crawl the date comes from Ofsted's provider page, as its link text gives it; the
    # 2019 and 2023 reports print no publication date of their own.
    day = datetime.strptime(published, "%Y-%m-%d").strftime("%d %B %Y")
    link_date = date_from_text(f"Children's services inspection, pdf - {day}")
    crawled = run_stages(dataclasses.replace(article, feed_published=link_date), load_config(ROOT / "config"))
    assert crawled.published == published and crawled.report["judgement"] == JUDGEMENTS[published]


def test_report_not_found_page_is_not_mistaken_for_a_pdf():
    path = shared_data("ofsted-birmingham-reports", "80429-report-not-found-served-for-2012-link.html")
    raw = path.read_bytes()
    raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    assert not is_pdf(raw)
    item = extract(
        Article(
            source_id="x",
            url="https://files.ofsted.gov.uk/v1/file/2",
            fetched_at="x",
            html=raw.decode("utf-8", "replace"),
        )
    )
    assert item.kind == "html" and "not found" in (item.title + item.text).lower()
