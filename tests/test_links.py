"""Story <-> document links (pipelines/links.py): each rule, each kind of non-link, and the labelled
set of bench/links_set/ (precision and recall of at least 0.95 on both parts, as bench/links.py
prints them)."""

from __future__ import annotations

from carewatch.pipelines.links import Link, OfficialDoc, find_links

CMIS = "https://birmingham.cmis.uk.com/birmingham"
MEETING_PAGE = f"{CMIS}/Meetings/tabid/70/ctl/ViewMeetingPublic/mid/397/Meeting/21904/Committee/2/Default.aspx"
PACK = f"{CMIS}/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo=Pk%2fa1%3d%3d"


def doc(doc_id: str, **fields) -> OfficialDoc:
    values = {
        "kind": "document",
        "title": "Birmingham Children's Trust – Contract Review 2025",
        "url": f"{CMIS}/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo=Tr%2bA1%3d%3d",
        "urls": (MEETING_PAGE, PACK),
        "committee": "Cabinet",
        "date": "2025-11-11",
        "authority": "Birmingham City Council",
        "text": "",
        "doc_type": "cabinet report",
    }
    values.update(fields)
    return OfficialDoc(doc_id=doc_id, **values)  # type: ignore[arg-type]


CONTRACT = doc("contract")
FINANCE = doc(
    "finance",
    title="Quarter Two 2025/26 Financial Monitoring Report – General Fund Budget",
    url=f"{CMIS}/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo=Fn%2bQ2%3d%3d",
)
MEETING = doc("cabinet-11-nov", kind="meeting", title="Cabinet – 11 November 2025", url=MEETING_PAGE, urls=(PACK,))
DECEMBER = doc(
    "cabinet-9-dec",
    kind="meeting",
    title="Cabinet – 9 December 2025",
    url=MEETING_PAGE.replace("21904", "21905"),
    urls=(),
    date="2025-12-09",
)
SANDWELL = doc(
    "sandwell",
    title="Sandwell Children's Trust – Contract Review 2025",
    url="https://sandwell.moderngov.co.uk/documents/s21944/Contract.pdf",
    urls=("https://sandwell.moderngov.co.uk/ieListDocuments.aspx?CId=126&MId=7412",),
    date="2025-11-12",
    authority="Sandwell Metropolitan Borough Council",
)
OFSTED_2023 = OfficialDoc(
    doc_id="ofsted-2023",
    kind="document",
    title="Inspection of Birmingham City Council local authority children's services",
    url="https://files.ofsted.gov.uk/v1/file/50214110",
    urls=("https://reports.ofsted.gov.uk/provider/44/80429",),
    committee=None,
    date="2023-04-18",
    authority="Ofsted",
    text="Inspection of Birmingham City Council local authority children's services. Inspection dates: "
    "20 February to 3 March 2023. Overall effectiveness Good.",
    doc_type="ofsted inspection report",
)
OFSTED_2019 = OfficialDoc(
    doc_id="ofsted-2019",
    kind="document",
    title="Birmingham City Council: Inspection of children's social care services",
    url="https://files.ofsted.gov.uk/v1/file/50049582",
    urls=("https://reports.ofsted.gov.uk/provider/44/80429",),
    committee=None,
    date="2019-01-17",
    authority="Ofsted",
    text="Inspection dates: 3 December 2018 to 14 December 2018. "
    "Overall effectiveness Requires improvement to be good.",
    doc_type="ofsted inspection report",
)
STATEMENT = OfficialDoc(
    doc_id="statement",
    kind="document",
    title="Statement on agency social worker spending",
    url="https://www.birminghamchildrenstrust.co.uk/news/article/231/statement_on_agency_social_worker_spending",
    urls=(),
    committee=None,
    date="2025-09-12",
    authority="Birmingham Children's Trust",
    text="",
    doc_type="statement",
)
ALL = [CONTRACT, FINANCE, MEETING, DECEMBER, SANDWELL, OFSTED_2023, OFSTED_2019, STATEMENT]


def links(text: str, published: str | None, hrefs: tuple[str, ...] = ()) -> dict[str, Link]:
    return {link.doc_id: link for link in find_links(text, hrefs, published, ALL)}


# -- each rule ----------------------------------------------------------------------------------


def test_a_hyperlink_to_the_document_links_it_whatever_the_escapes_case_and_fragment():
    href = f"{CMIS}/document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo=Tr%2BA1%3D%3D#page=4"
    found = links("Read the report before they sign it off.", "2025-11-08", (href,))
    assert set(found) == {"contract"}
    assert found["contract"].how == "hyperlink" and found["contract"].evidence == href


def test_a_shared_address_is_no_documents_own_but_names_committee_and_date():
    """The agenda pack is the meeting's; for a report on it, it counts as naming the committee and
    date, and the article must be about that report."""
    found = links("Birmingham: the trust contract review is in next week's papers.", "2025-11-05", (PACK,))
    assert found["cabinet-11-nov"].how == "hyperlink"
    assert found["contract"].how == "committee and date"
    assert "finance" not in found


def test_a_quoted_title_links_and_numbers_must_be_the_same():
    found = links('Campaigners read the "Birmingham Childrens Trust Contract Review 2025" closely.', "2025-11-20")
    assert found["contract"].how == "title quoted" and "Contract Review 2025" in found["contract"].evidence
    older = links('Last year\'s "Contract Review 2024" promised savings in Birmingham.', "2025-11-20")
    assert "contract" not in older


def test_committee_and_relative_date_link_the_meeting_and_the_report_it_is_about():
    text = (
        "Birmingham City Council's cabinet will be asked on Tuesday to approve a review of its contract "
        "with Birmingham Children's Trust."
    )
    found = links(text, "2025-11-06")
    assert found["cabinet-11-nov"].how == "committee and date"
    assert found["contract"].how == "committee and date"
    assert "Tuesday" in found["contract"].evidence
    assert "finance" not in found  # same meeting, another item
    assert "cabinet-9-dec" not in found  # same committee, another meeting


def test_dates_as_the_press_writes_them():
    for text, published in [
        ("Birmingham's cabinet meets on 11/11/2025.", "2025-11-01"),
        ("Birmingham's cabinet meets on November 11th.", "2025-11-01"),
        ("Birmingham's cabinet met last Tuesday.", "2025-11-13"),
        ("Birmingham's cabinet meets next week.", "2025-11-06"),
        ("Bydd cabinet Cyngor Dinas Birmingham yn cwrdd ar 11 Tachwedd.", "2025-11-04"),
    ]:
        assert "cabinet-11-nov" in links(text, published), text


def test_committee_and_subject_without_a_date_inside_the_meeting_window():
    text = "A report to Birmingham's cabinet sets out a review of the contract with the trust."
    assert links(text, "2025-11-05")["contract"].how == "committee and subject"
    assert "contract" not in links(text, "2025-12-20")  # weeks after the meeting: background


def test_an_ofsted_report_by_judgement_date_and_authority():
    text = "Birmingham's children's services have been rated good by Ofsted in a report published today."
    found = links(text, "2023-04-18")
    assert found["ofsted-2023"].how == "ofsted report by date"
    assert "ofsted-2019" not in found


def test_a_statement_by_authority_and_day():
    text = "In a statement published on Friday, Birmingham Children's Trust said agency social workers now make up 12%."
    assert links(text, "2025-09-15")["statement"].how == "authority and date"


# -- each kind of non-link ----------------------------------------------------------------------


def test_cabinet_member_is_a_person_not_the_meeting():
    assert "cabinet-11-nov" not in links("Birmingham's cabinet member for children spoke on Tuesday.", "2025-11-12")


def test_an_article_about_another_meeting_of_the_same_committee():
    found = links("Birmingham City Council's cabinet yesterday agreed the trust's contract sum.", "2025-12-10")
    assert "cabinet-9-dec" in found and "cabinet-11-nov" not in found and "contract" not in found


def test_a_schools_ofsted_rating_is_not_the_childrens_services_report():
    text = "A Birmingham primary school has been rated good by Ofsted. Pupils are happy and safe, inspectors said."
    assert "ofsted-2023" not in links(text, "2023-04-20")


def test_another_councils_childrens_services():
    sandwell = (
        "Sandwell Council's cabinet yesterday agreed the contract review for Sandwell Children's Trust. "
        "Birmingham did too."
    )
    found = links(sandwell, "2025-11-13")
    assert "sandwell" in found and "contract" not in found and "cabinet-11-nov" not in found
    ofsted = (
        "Ofsted rated Solihull's children's services inadequate. Solihull Council said it would improve. "
        "Neighbouring Birmingham was rated good."
    )
    assert "ofsted-2023" not in links(ofsted, "2023-04-20")


def test_an_article_published_before_the_document():
    text = "Ofsted inspectors are expected in Birmingham soon; children's services are still inadequate."
    assert "ofsted-2023" not in links(text, "2023-01-10")
    assert "contract" not in links('The "Birmingham Children\'s Trust – Contract Review 2025"', "2025-09-01")


def test_the_same_subject_citing_an_older_report():
    text = (
        "Birmingham Children's Trust's social workers say caseloads are rising. Ofsted rated the city's "
        "children's services requires improvement to be good in 2018 and good in 2023."
    )
    assert not {"ofsted-2019", "ofsted-2023"} & set(links(text, "2024-03-01"))


def test_under_scrutiny_is_not_a_scrutiny_committee():
    scrutiny = doc(
        "scrutiny",
        kind="meeting",
        title="Education, Children and Young People Overview and Scrutiny Committee – 19 November 2025",
        committee="Education, Children and Young People Overview and Scrutiny Committee",
        date="2025-11-19",
        url=f"{CMIS}/Meetings/Meeting/21950/Default.aspx",
        urls=(),
    )
    found = find_links("Birmingham's children's trust was under scrutiny on Wednesday.", (), "2025-11-20", [scrutiny])
    assert not found
    found = find_links("Birmingham's scrutiny committee heard on Wednesday...", (), "2025-11-20", [scrutiny])
    assert [link.how for link in found] == ["committee and date"]


# -- the labelled set ---------------------------------------------------------------------------


def test_labelled_set_precision_and_recall_at_least_095_on_both_parts():
    from bench.links import run_all

    results = run_all()
    total = sum(r["carewatch"]["n"] + r["skipped"] for r in results.values())
    assert total >= 80 and results["heldout"]["carewatch"]["n"] + results["heldout"]["skipped"] >= 25
    for name, r in results.items():
        a = r["carewatch"]
        wrong = [(p["id"], what) for p, what, _ in a["wrong"]]
        assert a["precision"] >= 0.95 and a["recall"] >= 0.95, (name, wrong)
        assert a["f1"] > r["baseline"]["f1"], name
