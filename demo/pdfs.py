"""PDF fixtures for the carewatch demo site.

Each public function takes no arguments and returns the bytes of a small PDF.
The demo server maps manifest routes such as ``pdf: ofsted_ilacs_2023`` to
these functions (see demo/site/manifest.yaml).

The reports are written for the demo: they imitate the layout and register of
Ofsted's published letters and reports, but every finding, name and figure in
them is invented. They are built with reportlab's platypus using the standard
Helvetica fonts (nothing is embedded, so the files stay small), with
``invariant=1`` so that the same bytes come out on every run and on every
machine. Text is real, extractable text; title, author and subject are set in
the document information dictionary.

Run ``python demo/pdfs.py OUTDIR`` to write every PDF to OUTDIR for a look.
"""

from __future__ import annotations

import functools
import io
import os
import sys

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

__all__ = [
    "PDFS",
    "ofsted_focused_visit_2021",
    "ofsted_ilacs_2023",
    "ofsted_monitoring_visit_2018",
]

_CREATOR = "carewatch demo fixtures"
_OFSTED_FOOTER_ADDRESS = "Ofsted, Piccadilly Gate, Store Street, Manchester M1 2WD"


# --------------------------------------------------------------------------- styles

def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName="Helvetica", fontSize=11, leading=15,
                          spaceAfter=8, alignment=TA_LEFT)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=12, spaceAfter=4),
        "council": ParagraphStyle("council", parent=base, fontName="Helvetica-Bold", fontSize=13,
                                  leading=17, spaceAfter=4),
        "title": ParagraphStyle("title", parent=base, fontName="Helvetica-Bold", fontSize=18,
                                leading=23, spaceAfter=10),
        "h2": ParagraphStyle("h2", parent=base, fontName="Helvetica-Bold", keepWithNext=1, fontSize=13,
                             leading=17, spaceBefore=8, spaceAfter=6),
        "h3": ParagraphStyle("h3", parent=base, fontName="Helvetica-Bold", keepWithNext=1, fontSize=11,
                             leading=15, spaceBefore=4, spaceAfter=4),
        "cell": ParagraphStyle("cell", parent=base, fontSize=10.5, leading=13, spaceAfter=0),
        "cellb": ParagraphStyle("cellb", parent=base, fontName="Helvetica-Bold", fontSize=10.5,
                                leading=13, spaceAfter=0),
        "letterhead": ParagraphStyle("letterhead", parent=base, fontSize=9, leading=11.5,
                                     spaceAfter=0),
    }


def _footer(text: str):
    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 8.5)
        canvas.setFillColor(colors.HexColor("#444444"))
        canvas.drawString(20 * mm, 12 * mm, text)
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, str(doc.page))
        canvas.restoreState()
    return draw


def _build(story, *, title: str, subject: str, footer: str, author: str = "Ofsted") -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=22 * mm,
        title=title,
        author=author,
        subject=subject,
        creator=_CREATOR,
        keywords="Ofsted, Birmingham, children's services, URN 80429",
        invariant=1,
        pageCompression=1,
    )
    draw = _footer(footer)
    doc.build(story, onFirstPage=draw, onLaterPages=draw)
    return buf.getvalue()


def _bullets(items, st):
    return ListFlowable(
        [ListItem(Paragraph(t, st["body"]), leftIndent=12) for t in items],
        bulletType="bullet", start="\u2022", leftIndent=12, bulletFontSize=9,
    )


def _paras(texts, st, style="body"):
    return [Paragraph(t, st[style]) for t in texts]


# --------------------------------------------------------------------------- ILACS 2023

_ILACS_TITLE = "Inspection of Birmingham City Council local authority children\u2019s services"

_ILACS_JUDGEMENTS = [
    ("The impact of leaders on social work practice with children and families", "Good"),
    ("The experiences and progress of children who need help and protection", "Good"),
    ("The experiences and progress of children in care", "Good"),
    ("The experiences and progress of care leavers", "Requires improvement to be good"),
    ("Overall effectiveness", "Good"),
]

_ILACS_INTRO = [
    "Children\u2019s services in Birmingham are delivered on behalf of the council by Birmingham "
    "Children\u2019s Trust, a company wholly owned by the council, which began operating in April "
    "2018. Services have continued to improve since the last standard inspection in 2018, when "
    "they were judged to require improvement to be good. The large majority of children now "
    "receive a good service that makes a positive difference to their lives.",
    "Leaders in the trust and the council share an accurate understanding of the quality of "
    "practice and of the areas that still need to improve. A well-understood model of practice, "
    "a stable and increasingly permanent workforce and manageable caseloads have helped social "
    "workers to build meaningful relationships with children. Political and corporate support "
    "for children\u2019s services is strong, and partnership arrangements are effective.",
    "Services for care leavers have not improved at the same pace. Although care leavers speak "
    "warmly about their personal advisers, the quality of pathway planning is too variable and "
    "some young people live in accommodation that does not meet their needs.",
]

_ILACS_IMPROVE = [
    "The quality and timeliness of pathway plans for care leavers, so that plans are written "
    "with young people and are updated when their circumstances change.",
    "The range and availability of suitable accommodation for care leavers, including those "
    "aged 18 to 21 who are not yet ready to live independently.",
    "Management oversight of assessments for children in need when their cases transfer "
    "between teams.",
    "The consistency with which information from return home interviews is used to inform "
    "safety planning for children who go missing.",
]

_ILACS_HELP = [
    "Children and families who need help receive a timely and proportionate response from the "
    "Children\u2019s Advice and Support Service. Thresholds are well understood by partner "
    "agencies, and decisions about the level of support that children need are appropriate. "
    "Parental consent is sought and recorded, and is overridden only when this is justified.",
    "The early help offer is well established. Family support workers in the locality hubs "
    "help families to make changes before problems escalate, and step-up and step-down "
    "arrangements between early help and statutory services are effective. For a small number "
    "of children, delays in allocating an early help worker mean that support starts later "
    "than it should.",
    "When children are at risk of significant harm, strategy meetings are held promptly and "
    "are well attended by the police, health professionals and schools. Child protection "
    "enquiries are thorough, and children are seen quickly. Out-of-hours services respond "
    "effectively to emergencies.",
    "Most assessments are detailed and analytical. Social workers use direct work creatively "
    "to understand children\u2019s experiences and wishes, and the voice of the child is "
    "evident in records. Assessments take account of children\u2019s identity, culture and "
    "faith. A small number of assessments for children in need lose focus when the case "
    "transfers between teams, and managers do not always notice this.",
    "Children subject to child protection plans are visited regularly, and plans are "
    "reviewed at well-attended core groups. Most plans are specific about what needs to "
    "change. The Public Law Outline is used effectively, and pre-proceedings work helps "
    "many children to remain safely with their families.",
    "Children who go missing from home or care are offered return home interviews, and the "
    "response to exploitation is well coordinated through multi-agency panels. However, the "
    "information gathered in return home interviews is not consistently used to update "
    "children\u2019s safety plans.",
    "Disabled children receive a good service from a specialist team that knows them well. "
    "Allegations against adults who work with children are managed effectively by the "
    "designated officer.",
]

_ILACS_CARE = [
    "Decisions for children to come into care are timely and are based on a thorough "
    "understanding of their needs. Children in care are visited regularly by social workers "
    "who know them well and who advocate strongly for them. Most children live in stable "
    "homes with carers who meet their needs, and many are helped to keep in touch with "
    "brothers, sisters and other people who are important to them.",
    "Care plans are reviewed regularly, and independent reviewing officers provide effective "
    "challenge when plans drift. Permanence is considered early, and children who cannot "
    "return home benefit from long-term fostering, special guardianship and adoption, "
    "according to their needs. Life-story work helps children to understand their histories.",
    "Children\u2019s health needs are well met. The virtual school has a clear understanding "
    "of the progress that children in care make in education, and personal education plans "
    "are of a good quality. Attendance at school has improved.",
    "Leaders have increased the number of foster carers recruited by the trust, but the "
    "sufficiency of local homes remains a challenge. Too many children still live some "
    "distance from Birmingham, which can make it harder for them to keep in touch with "
    "their families and communities. Leaders monitor carefully the small number of children "
    "who live in unregistered children\u2019s homes.",
    "The children in care council is active and influential. Children told inspectors that "
    "their views had helped to shape the trust\u2019s pledge and the way that their reviews "
    "are run.",
]

_ILACS_LEAVERS = [
    "Care leavers are allocated a personal adviser at the right time, and most are in regular "
    "contact with them. Young people told inspectors that their advisers are reliable and "
    "that they go the extra mile. Care leavers\u2019 health histories are shared with them, and "
    "their entitlements are set out clearly in the local offer.",
    "The quality of pathway planning is too variable. Some pathway plans are not written with "
    "young people, are not updated when circumstances change and do not set out clearly what "
    "support young people will receive. This means that some care leavers are not well "
    "prepared for adult life.",
    "Most care leavers live in suitable accommodation, but the range of options is too "
    "limited. Some young people aged 18 to 21 have moved into accommodation that does not "
    "meet their needs because there was nowhere more suitable for them to live. Leaders are "
    "aware of this and have commissioned additional supported accommodation, but it is too "
    "soon to see the impact.",
    "The proportion of care leavers in education, employment or training has increased, and "
    "apprenticeships within the council and the trust have helped a number of young people "
    "into work.",
]

_ILACS_LEADERS = [
    "Since the last inspection, leaders have sustained a clear focus on improving the quality "
    "of practice. The chief executive of the trust and the director of children\u2019s services "
    "provide stable and visible leadership. The contractual arrangements between the council "
    "and the trust are mature and allow for constructive challenge on both sides.",
    "Quality assurance is well embedded. Audits are moderated, involve practitioners and "
    "families, and lead to improvements in practice. Performance information is accurate "
    "and is used well by managers at every level. Leaders know their services well and "
    "their self-assessment is accurate.",
    "Workforce stability has improved considerably. The use of agency social workers has "
    "reduced, and newly qualified social workers receive a protected caseload and good "
    "support through the academy. Social workers told inspectors that they enjoy working "
    "in Birmingham and that they feel well supported by their managers.",
    "Corporate parenting arrangements are effective, although leaders have not yet ensured "
    "that the council\u2019s housing services meet the needs of all care leavers. Partnership "
    "working across the city is strong, and the safeguarding partnership holds agencies to "
    "account for the quality of their work.",
]

_ILACS_NEXT = [
    "The local authority should prepare a written statement of proposed action responding to "
    "the findings outlined in this report. This should be sent to Ofsted within 70 working "
    "days of the date of this report. The statement will inform the next inspection or visit.",
]

_ILACS_CLOSING = [
    "Ofsted has published this report. The Office for Standards in Education, Children\u2019s "
    "Services and Skills (Ofsted) regulates and inspects to achieve excellence in the care of "
    "children and young people, and in education and skills for learners of all ages.",
    "This report is written for a demonstration of the carewatch tool. Its findings are "
    "invented and do not describe the real inspection.",
    "\u00a9 Crown copyright 2023",
]


@functools.lru_cache(maxsize=None)
def ofsted_ilacs_2023() -> bytes:
    """3\u20134 page ILACS-style report published 18 April 2023 (grades: overall Good)."""
    st = _styles()
    table_rows = [[Paragraph("Judgement", st["cellb"]), Paragraph("Grade", st["cellb"])]]
    for judgement, grade in _ILACS_JUDGEMENTS:
        table_rows.append([Paragraph(judgement, st["cell"]), Paragraph(grade, st["cell"])])
    table = Table(table_rows, colWidths=[120 * mm, 44 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#7f7f7f")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]))

    story = [
        Paragraph("Birmingham City Council", st["council"]),
        Paragraph(_ILACS_TITLE, st["title"]),
        Paragraph("Inspection dates: 20 February to 3 March 2023", st["body"]),
        Paragraph("Lead inspector: Catherine Ashworth, His Majesty\u2019s Inspector", st["body"]),
        Spacer(1, 4 * mm),
        table,
        Spacer(1, 6 * mm),
    ]
    story += _paras(_ILACS_INTRO, st)
    story.append(Paragraph("What needs to improve?", st["h2"]))
    story.append(_bullets(_ILACS_IMPROVE, st))
    story.append(Paragraph("The experiences and progress of children who need help and "
                           "protection: good", st["h2"]))
    story += _paras(_ILACS_HELP, st)
    story.append(Paragraph("The experiences and progress of children in care: good", st["h2"]))
    story += _paras(_ILACS_CARE, st)
    story.append(Paragraph("The experiences and progress of care leavers: requires improvement "
                           "to be good", st["h2"]))
    story += _paras(_ILACS_LEAVERS, st)
    story.append(Paragraph("The impact of leaders on social work practice with children and "
                           "families: good", st["h2"]))
    story += _paras(_ILACS_LEADERS, st)
    story.append(Paragraph("Next steps", st["h2"]))
    story += _paras(_ILACS_NEXT, st)
    story.append(Spacer(1, 4 * mm))
    story.append(KeepTogether(_paras(_ILACS_CLOSING, st, "small")))
    return _build(
        story,
        title=_ILACS_TITLE,
        subject="Inspection dates: 20 February to 3 March 2023. Published 18 April 2023. URN 80429.",
        footer="Inspection of Birmingham City Council local authority children\u2019s services  "
               "20 February to 3 March 2023",
    )


# --------------------------------------------------------------------------- focused visit 2021

_FV_TITLE = "Focused visit to Birmingham children\u2019s services"

_FV_BODY = [
    ("p", "This letter summarises the findings of the focused visit to Birmingham children\u2019s "
          "services on 2 and 3 November 2021. Her Majesty\u2019s Inspectors for this visit were "
          "Catherine Ashworth and Imran Qureshi."),
    ("p", "Inspectors looked at the local authority\u2019s arrangements for children in need and "
          "children who are subject to a child protection plan. Children\u2019s services in "
          "Birmingham are delivered by Birmingham Children\u2019s Trust on behalf of the council."),
    ("p", "This visit was carried out in line with the inspection of local authority "
          "children\u2019s services (ILACS) framework. Inspectors used a range of methods, "
          "including discussions with social workers and managers, and looked at "
          "children\u2019s case records."),
    ("h", "Headline findings"),
    ("p", "Most children in need of help and protection in Birmingham receive a timely "
          "response. Social workers know their children well, visit them regularly and see "
          "them alone when it is appropriate. The trust has maintained a stable workforce "
          "through the COVID-19 (coronavirus) pandemic, and staff say that they feel well "
          "supported by their managers."),
    ("p", "The quality of plans and of management oversight is not yet consistent. Some "
          "child-in-need and child protection plans do not set out clearly what needs to "
          "change for the child, or by when, and this contributes to drift for a small "
          "number of children."),
    ("h", "What needs to improve in this area of social work practice?"),
    ("ul", [
        "The quality of child-in-need and child protection plans, so that they are specific, "
        "measurable and written in a way that families understand.",
        "Management oversight and supervision, so that drift and delay are identified and "
        "addressed promptly.",
        "The timeliness of transfers between the assessment teams and the long-term teams.",
    ]),
    ("h", "Main findings"),
    ("p", "Child protection enquiries are timely, and thresholds are applied appropriately. "
          "Strategy discussions are well attended by police and health colleagues, and "
          "decisions are clearly recorded."),
    ("p", "Most assessments are thorough and consider the child\u2019s history and the "
          "family\u2019s strengths. Direct work with children is a strength, and the "
          "child\u2019s voice is evident in most records."),
    ("p", "Core groups and child-in-need meetings take place regularly, but they do not "
          "always review progress against the plan. When plans are not working, managers "
          "do not always step in quickly enough."),
    ("p", "Leaders have an accurate understanding of the strengths and weaknesses of practice, "
          "and their plans for improvement are well founded. Ofsted will take the findings "
          "from this focused visit into account when planning your next inspection or visit."),
    ("p", "Yours sincerely"),
    ("p", "Catherine Ashworth<br/>Her Majesty\u2019s Inspector"),
    ("small", "This letter is written for a demonstration of the carewatch tool. Its findings "
              "are invented and do not describe a real visit. \u00a9 Crown copyright 2021"),
]


def _letter(st, date_text, addressee_lines, salutation, subject_line):
    story = [
        Paragraph(_OFSTED_FOOTER_ADDRESS.replace(", ", "<br/>"), st["letterhead"]),
        Paragraph("T 0300 123 1231<br/>enquiries@ofsted.gov.uk", st["letterhead"]),
        Spacer(1, 6 * mm),
        Paragraph(date_text, st["body"]),
        Paragraph("<br/>".join(addressee_lines), st["body"]),
        Paragraph(salutation, st["body"]),
        Paragraph(subject_line, st["title"]),
    ]
    return story


def _letter_body(st, items):
    story = []
    for kind, val in items:
        if kind == "p":
            story.append(Paragraph(val, st["body"]))
        elif kind == "h":
            story.append(Paragraph(val, st["h3"]))
        elif kind == "ul":
            story.append(_bullets(val, st))
        elif kind == "small":
            story.append(Spacer(1, 4 * mm))
            story.append(Paragraph(val, st["small"]))
    return story


@functools.lru_cache(maxsize=None)
def ofsted_focused_visit_2021() -> bytes:
    """2-page focused visit letter, visit 2 and 3 November 2021, published 07 December 2021."""
    st = _styles()
    story = _letter(
        st,
        "7 December 2021",
        ["Andrew Kershaw", "Chief Executive", "Birmingham Children\u2019s Trust",
         "1 Lancaster Circus", "Birmingham", "B4 7DJ"],
        "Dear Andrew",
        _FV_TITLE,
    )
    story += _letter_body(st, _FV_BODY)
    return _build(
        story,
        title=_FV_TITLE,
        subject="Focused visit 2 and 3 November 2021. Published 7 December 2021. URN 80429.",
        footer="Focused visit to Birmingham children\u2019s services  2 and 3 November 2021",
    )


# --------------------------------------------------------------------------- monitoring visit 2018

_MV_TITLE = "Monitoring visit of Birmingham local authority children\u2019s services"

_MV_BODY = [
    ("p", "This letter summarises the findings of the fourth monitoring visit to Birmingham "
          "children\u2019s services since the local authority was judged inadequate in "
          "November 2016. The visit was carried out on 30 and 31 January 2018 by Her "
          "Majesty\u2019s Inspectors Graham Pell and Catherine Ashworth."),
    ("p", "Inspectors reviewed the progress made in the quality of planning for children in "
          "care, with a particular focus on permanence planning for children who have been "
          "in care for more than 12 months."),
    ("h", "Overview"),
    ("p", "The local authority is making steady progress in improving services for children in "
          "care. Senior managers have a realistic understanding of the remaining weaknesses, "
          "and the arrangements for the transfer of services to the new children\u2019s trust "
          "in April 2018 have not distracted from the focus on practice."),
    ("p", "Most children in care are visited regularly and their needs are understood. "
          "Permanence is now considered at the second review for most children, and the "
          "number of children waiting too long for a permanent home has reduced. However, "
          "the quality of care plans remains variable, and independent reviewing officers "
          "do not always escalate concerns when plans drift."),
    ("h", "Areas for continued focus"),
    ("ul", [
        "The quality and specificity of care plans.",
        "The effectiveness of challenge by independent reviewing officers.",
        "The sufficiency of local foster placements for older children and sibling groups.",
    ]),
    ("p", "I am copying this letter to the Department for Education. This letter will be "
          "published on the Ofsted website."),
    ("p", "Yours sincerely"),
    ("p", "Graham Pell<br/>Her Majesty\u2019s Inspector"),
    ("small", "This letter is written for a demonstration of the carewatch tool. Its findings "
              "are invented and do not describe a real visit. \u00a9 Crown copyright 2018"),
]


@functools.lru_cache(maxsize=None)
def ofsted_monitoring_visit_2018() -> bytes:
    """1\u20132 page monitoring visit letter, visit 30 and 31 January 2018, published 06 March 2018."""
    st = _styles()
    story = _letter(
        st,
        "6 March 2018",
        ["Director of Children\u2019s Services", "Birmingham City Council", "Council House",
         "Victoria Square", "Birmingham", "B1 1BB"],
        "Dear Director",
        _MV_TITLE,
    )
    story += _letter_body(st, _MV_BODY)
    return _build(
        story,
        title=_MV_TITLE,
        subject="Monitoring visit 30 and 31 January 2018. Published 6 March 2018. URN 80429.",
        footer="Monitoring visit of Birmingham local authority children\u2019s services  "
               "30 and 31 January 2018",
    )


PDFS = {
    "ofsted_ilacs_2023": ofsted_ilacs_2023,
    "ofsted_focused_visit_2021": ofsted_focused_visit_2021,
    "ofsted_monitoring_visit_2018": ofsted_monitoring_visit_2018,
}


def main(argv: list[str]) -> int:
    outdir = argv[1] if len(argv) > 1 else "."
    os.makedirs(outdir, exist_ok=True)
    for name, fn in PDFS.items():
        data = fn()
        path = os.path.join(outdir, name + ".pdf")
        with open(path, "wb") as fh:
            fh.write(data)
        print(f"{path}\t{len(data)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
