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
    "bscp_child_a_2022_23_04",
    "bscp_child_d_2021_22_02",
    "cmis_scf_agenda_2024_03_13",
    "cmis_scf_trust_report_2024_03_13",
    "ofsted_focused_visit_2021",
    "ofsted_ilacs_2023",
    "ofsted_monitoring_visit_2018",
]

_CREATOR = "carewatch demo fixtures"
_OFSTED_FOOTER_ADDRESS = "Ofsted, Piccadilly Gate, Store Street, Manchester M1 2WD"


# --------------------------------------------------------------------------- styles


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName="Helvetica", fontSize=11, leading=15, spaceAfter=8, alignment=TA_LEFT)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=9, leading=12, spaceAfter=4),
        "council": ParagraphStyle(
            "council", parent=base, fontName="Helvetica-Bold", fontSize=13, leading=17, spaceAfter=4
        ),
        "title": ParagraphStyle(
            "title", parent=base, fontName="Helvetica-Bold", fontSize=18, leading=23, spaceAfter=10
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName="Helvetica-Bold",
            keepWithNext=1,
            fontSize=13,
            leading=17,
            spaceBefore=8,
            spaceAfter=6,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=base,
            fontName="Helvetica-Bold",
            keepWithNext=1,
            fontSize=11,
            leading=15,
            spaceBefore=4,
            spaceAfter=4,
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=10.5, leading=13, spaceAfter=0),
        "cellb": ParagraphStyle(
            "cellb", parent=base, fontName="Helvetica-Bold", fontSize=10.5, leading=13, spaceAfter=0
        ),
        "letterhead": ParagraphStyle("letterhead", parent=base, fontSize=9, leading=11.5, spaceAfter=0),
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


def _build(
    story,
    *,
    title: str,
    subject: str,
    footer: str,
    author: str = "Ofsted",
    keywords: str = "Ofsted, Birmingham, children's services, URN 80429",
) -> bytes:
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
        keywords=keywords,
        invariant=1,
        pageCompression=1,
    )
    draw = _footer(footer)
    doc.build(story, onFirstPage=draw, onLaterPages=draw)
    return buf.getvalue()


def _bullets(items, st):
    return ListFlowable(
        [ListItem(Paragraph(t, st["body"]), leftIndent=12) for t in items],
        bulletType="bullet",
        start="\u2022",
        leftIndent=12,
        bulletFontSize=9,
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
    "Management oversight of assessments for children in need when their cases transfer between teams.",
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


@functools.cache
def ofsted_ilacs_2023() -> bytes:
    """3\u20134 page ILACS-style report published 18 April 2023 (grades: overall Good)."""
    st = _styles()
    table_rows = [[Paragraph("Judgement", st["cellb"]), Paragraph("Grade", st["cellb"])]]
    for judgement, grade in _ILACS_JUDGEMENTS:
        table_rows.append([Paragraph(judgement, st["cell"]), Paragraph(grade, st["cell"])])
    table = Table(table_rows, colWidths=[120 * mm, 44 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#7f7f7f")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )

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
    story.append(Paragraph("The experiences and progress of children who need help and protection: good", st["h2"]))
    story += _paras(_ILACS_HELP, st)
    story.append(Paragraph("The experiences and progress of children in care: good", st["h2"]))
    story += _paras(_ILACS_CARE, st)
    story.append(Paragraph("The experiences and progress of care leavers: requires improvement to be good", st["h2"]))
    story += _paras(_ILACS_LEAVERS, st)
    story.append(Paragraph("The impact of leaders on social work practice with children and families: good", st["h2"]))
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
    (
        "p",
        "This letter summarises the findings of the focused visit to Birmingham children\u2019s "
        "services on 2 and 3 November 2021. Her Majesty\u2019s Inspectors for this visit were "
        "Catherine Ashworth and Imran Qureshi.",
    ),
    (
        "p",
        "Inspectors looked at the local authority\u2019s arrangements for children in need and "
        "children who are subject to a child protection plan. Children\u2019s services in "
        "Birmingham are delivered by Birmingham Children\u2019s Trust on behalf of the council.",
    ),
    (
        "p",
        "This visit was carried out in line with the inspection of local authority "
        "children\u2019s services (ILACS) framework. Inspectors used a range of methods, "
        "including discussions with social workers and managers, and looked at "
        "children\u2019s case records.",
    ),
    ("h", "Headline findings"),
    (
        "p",
        "Most children in need of help and protection in Birmingham receive a timely "
        "response. Social workers know their children well, visit them regularly and see "
        "them alone when it is appropriate. The trust has maintained a stable workforce "
        "through the COVID-19 (coronavirus) pandemic, and staff say that they feel well "
        "supported by their managers.",
    ),
    (
        "p",
        "The quality of plans and of management oversight is not yet consistent. Some "
        "child-in-need and child protection plans do not set out clearly what needs to "
        "change for the child, or by when, and this contributes to drift for a small "
        "number of children.",
    ),
    ("h", "What needs to improve in this area of social work practice?"),
    (
        "ul",
        [
            "The quality of child-in-need and child protection plans, so that they are specific, "
            "measurable and written in a way that families understand.",
            "Management oversight and supervision, so that drift and delay are identified and addressed promptly.",
            "The timeliness of transfers between the assessment teams and the long-term teams.",
        ],
    ),
    ("h", "Main findings"),
    (
        "p",
        "Child protection enquiries are timely, and thresholds are applied appropriately. "
        "Strategy discussions are well attended by police and health colleagues, and "
        "decisions are clearly recorded.",
    ),
    (
        "p",
        "Most assessments are thorough and consider the child\u2019s history and the "
        "family\u2019s strengths. Direct work with children is a strength, and the "
        "child\u2019s voice is evident in most records.",
    ),
    (
        "p",
        "Core groups and child-in-need meetings take place regularly, but they do not "
        "always review progress against the plan. When plans are not working, managers "
        "do not always step in quickly enough.",
    ),
    (
        "p",
        "Leaders have an accurate understanding of the strengths and weaknesses of practice, "
        "and their plans for improvement are well founded. Ofsted will take the findings "
        "from this focused visit into account when planning your next inspection or visit.",
    ),
    ("p", "Yours sincerely"),
    ("p", "Catherine Ashworth<br/>Her Majesty\u2019s Inspector"),
    (
        "small",
        "This letter is written for a demonstration of the carewatch tool. Its findings "
        "are invented and do not describe a real visit. \u00a9 Crown copyright 2021",
    ),
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


@functools.cache
def ofsted_focused_visit_2021() -> bytes:
    """2-page focused visit letter, visit 2 and 3 November 2021, published 07 December 2021."""
    st = _styles()
    story = _letter(
        st,
        "7 December 2021",
        [
            "Andrew Kershaw",
            "Chief Executive",
            "Birmingham Children\u2019s Trust",
            "1 Lancaster Circus",
            "Birmingham",
            "B4 7DJ",
        ],
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
    (
        "p",
        "This letter summarises the findings of the fourth monitoring visit to Birmingham "
        "children\u2019s services since the local authority was judged inadequate in "
        "November 2016. The visit was carried out on 30 and 31 January 2018 by Her "
        "Majesty\u2019s Inspectors Graham Pell and Catherine Ashworth.",
    ),
    (
        "p",
        "Inspectors reviewed the progress made in the quality of planning for children in "
        "care, with a particular focus on permanence planning for children who have been "
        "in care for more than 12 months.",
    ),
    ("h", "Overview"),
    (
        "p",
        "The local authority is making steady progress in improving services for children in "
        "care. Senior managers have a realistic understanding of the remaining weaknesses, "
        "and the arrangements for the transfer of services to the new children\u2019s trust "
        "in April 2018 have not distracted from the focus on practice.",
    ),
    (
        "p",
        "Most children in care are visited regularly and their needs are understood. "
        "Permanence is now considered at the second review for most children, and the "
        "number of children waiting too long for a permanent home has reduced. However, "
        "the quality of care plans remains variable, and independent reviewing officers "
        "do not always escalate concerns when plans drift.",
    ),
    ("h", "Areas for continued focus"),
    (
        "ul",
        [
            "The quality and specificity of care plans.",
            "The effectiveness of challenge by independent reviewing officers.",
            "The sufficiency of local foster placements for older children and sibling groups.",
        ],
    ),
    (
        "p",
        "I am copying this letter to the Department for Education. This letter will be "
        "published on the Ofsted website.",
    ),
    ("p", "Yours sincerely"),
    ("p", "Graham Pell<br/>Her Majesty\u2019s Inspector"),
    (
        "small",
        "This letter is written for a demonstration of the carewatch tool. Its findings "
        "are invented and do not describe a real visit. \u00a9 Crown copyright 2018",
    ),
]


@functools.cache
def ofsted_monitoring_visit_2018() -> bytes:
    """1\u20132 page monitoring visit letter, visit 30 and 31 January 2018, published 06 March 2018."""
    st = _styles()
    story = _letter(
        st,
        "6 March 2018",
        [
            "Director of Children\u2019s Services",
            "Birmingham City Council",
            "Council House",
            "Victoria Square",
            "Birmingham",
            "B1 1BB",
        ],
        "Dear Director",
        _MV_TITLE,
    )
    story += _letter_body(st, _MV_BODY)
    return _build(
        story,
        title=_MV_TITLE,
        subject="Monitoring visit 30 and 31 January 2018. Published 6 March 2018. URN 80429.",
        footer="Monitoring visit of Birmingham local authority children\u2019s services  30 and 31 January 2018",
    )


# --------------------------------------------------------------------------- BSCP learning summaries

_BSCP = "Birmingham Safeguarding Children Partnership"
_BSCP_KEYWORDS = "Birmingham Safeguarding Children Partnership, child safeguarding practice review, learning summary"

_BSCP_CHILD_A = {
    "ref": "BSCP 2022-23/04",
    "child": "Child A",
    "published": "14 March 2024",
    "reviewer": "Joanne Pritchard, independent reviewer",
    "about": [
        "Child A was a seven-week-old baby who was taken to hospital in October 2022 with a serious "
        "head injury and healing rib fractures. Medical staff considered that the injuries were "
        "unlikely to have been caused accidentally. Child A survived and now lives with members of "
        "the extended family. The police investigation has concluded.",
        "The partnership\u2019s case review group agreed that the criteria for a local child "
        "safeguarding practice review were met, and the National Child Safeguarding Practice Review "
        "Panel was notified. The review looked at the involvement of agencies from the beginning of "
        "the pregnancy until Child A\u2019s admission to hospital.",
        "Child A lived with their mother, who was 19 and a care leaver, and her partner, who was "
        "not Child A\u2019s father. Both adults were spoken to as part of the review, and their "
        "views are reflected in this summary.",
    ],
    "learning": [
        (
            "Seeing the men in the household",
            "Mother\u2019s partner was present at several midwifery and health visiting contacts, but "
            "no agency asked who he was, checked whether he was known to services or spoke to him about "
            "his role in caring for the baby. Information held by the police and by adult services "
            "about him was never requested. Practitioners should find out who lives in, and regularly "
            "visits, the household, and should include fathers and male carers in assessments.",
        ),
        (
            "Pre-birth assessment when a parent is a care leaver",
            "Mother had a personal adviser from Birmingham Children\u2019s Trust until shortly before "
            "the pregnancy. Her history was known to children\u2019s services, but no pre-birth "
            "referral was made because agencies assumed that support was already in place. Being a "
            "care leaver is not in itself a reason for a referral, but practitioners should consider "
            "what support a young parent has and should ask, rather than assume.",
        ),
        (
            "Bruising in babies who are not yet mobile",
            "At five weeks, a small bruise on Child A\u2019s cheek was noted by a health professional "
            "and accepted as caused by a dummy clip. The partnership\u2019s protocol for bruising in "
            "non-mobile babies was not followed. Any bruise on a baby who is not yet mobile must lead "
            "to a referral to children\u2019s social care and a paediatric assessment, whatever "
            "explanation is given.",
        ),
        (
            "Sharing information between midwifery, health visiting and general practice",
            "Each health service held part of the picture, including Mother\u2019s low mood after the "
            "birth and two missed appointments, but the information was not brought together. The new "
            "maternity and health visiting handover form, introduced in 2023, is intended to address "
            "this.",
        ),
    ],
    "actions": [
        "A briefing on the bruising protocol has been issued to all health visitors, midwives and "
        "GP practices in Birmingham, and compliance will be audited in 2024.",
        "Birmingham Children\u2019s Trust has reviewed its guidance for personal advisers on "
        "supporting care leavers who become parents.",
        "The partnership\u2019s multi-agency training now includes a module on working with fathers and male carers.",
    ],
    "questions": [
        "Do you know who the adults are in the households you work with?",
        "When did you last check the bruising protocol?",
        "How do you find out what support a young parent really has?",
    ],
}

_BSCP_CHILD_D = {
    "ref": "BSCP 2021-22/02",
    "child": "Child D",
    "published": "7 November 2022",
    "reviewer": "Martin Okonjo, independent reviewer",
    "about": [
        "Child D was a 15-year-old boy who was seriously injured in a stabbing in the south of the "
        "city in January 2022. He has since recovered from his physical injuries. Agencies had been "
        "concerned for some months that he was being criminally exploited.",
        "The review looked at the 18 months before the incident. Child D, his mother and his older "
        "sister contributed to the review, and the partnership is grateful to them for their "
        "openness.",
        "Child D had been excluded from his secondary school in the autumn of 2020 and moved to an "
        "alternative provision. He was reported missing from home 11 times in the following year.",
    ],
    "learning": [
        (
            "Exclusion from school as a moment of risk",
            "Child D\u2019s exclusion removed him from the adults who knew him best and from a daily "
            "routine. His attendance at the alternative provision was low from the start. Schools and "
            "partners should treat a permanent exclusion as a safeguarding risk point and should "
            "consider a multi-agency meeting before, not after, the decision is taken.",
        ),
        (
            "Making return home interviews count",
            "Child D was offered a return home interview after most missing episodes, but he took part "
            "in only three. The information he gave, including the names of older young people he "
            "spent time with, was not consistently shared with the police or added to his safety "
            "plan.",
        ),
        (
            "Listening to parents who ask for help",
            "Child D\u2019s mother contacted children\u2019s services twice to say that she was "
            "frightened for her son. On both occasions the contact was closed with advice. Parents "
            "are often the first to recognise exploitation, and their concerns should be treated as "
            "evidence.",
        ),
        (
            "Seeing exploitation, not choices",
            "Some records described Child D as \u201cputting himself at risk\u201d and \u201cchoosing\u201d "
            "to go missing. This language can hide exploitation and shift responsibility on to the "
            "child. Practitioners should describe what is happening to the child.",
        ),
    ],
    "actions": [
        "The partnership has published guidance on the language used to describe children at risk of exploitation.",
        "Return home interview information is now shared with the exploitation hub within 72 hours.",
        "Head teachers have agreed a protocol for multi-agency discussion before a permanent "
        "exclusion of a child known to children\u2019s social care.",
    ],
    "questions": [
        "What language do you use in your records when a child is being exploited?",
        "What happens to the information a child gives in a return home interview?",
        "How do you respond when a parent tells you they are frightened for their child?",
    ],
}


def _bscp_summary(case: dict) -> bytes:
    st = _styles()
    title = f"Child Safeguarding Practice Review: {case['child']} ({case['ref']}) \u2013 Learning Summary"
    meta = Table(
        [
            [Paragraph("Review reference", st["cellb"]), Paragraph(case["ref"], st["cell"])],
            [Paragraph("Published", st["cellb"]), Paragraph(case["published"], st["cell"])],
            [Paragraph("Reviewer", st["cellb"]), Paragraph(case["reviewer"], st["cell"])],
        ],
        colWidths=[45 * mm, 119 * mm],
        hAlign="LEFT",
    )
    meta.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#7f7f7f")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#e6e6e6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story = [
        Paragraph(_BSCP, st["council"]),
        Paragraph(f"Child Safeguarding Practice Review<br/>{case['child']}: Learning Summary", st["title"]),
        meta,
        Spacer(1, 5 * mm),
        Paragraph("About this review", st["h2"]),
    ]
    story += _paras(case["about"], st)
    story.append(Paragraph("What we learned", st["h2"]))
    for n, (heading, text) in enumerate(case["learning"], 1):
        story.append(Paragraph(f"{n}. {heading}", st["h3"]))
        story.append(Paragraph(text, st["body"]))
    story.append(Paragraph("What the partnership is doing", st["h2"]))
    story.append(_bullets(case["actions"], st))
    story.append(Paragraph("Questions for practitioners and managers", st["h2"]))
    story.append(_bullets(case["questions"], st))
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            "This learning summary was written for a demonstration of the carewatch tool. The child, "
            "the family, the events and the reviewer are invented.",
            st["small"],
        )
    )
    return _build(
        story,
        title=title,
        subject=f"{case['ref']}. Published {case['published']}.",
        footer=f"{_BSCP}  {case['ref']} Learning Summary",
        author=_BSCP,
        keywords=_BSCP_KEYWORDS,
    )


@functools.cache
def bscp_child_a_2022_23_04() -> bytes:
    """2-page BSCP learning summary for Child A (BSCP 2022-23/04), published 14 March 2024."""
    return _bscp_summary(_BSCP_CHILD_A)


@functools.cache
def bscp_child_d_2021_22_02() -> bytes:
    """2-page BSCP learning summary for Child D (BSCP 2021-22/02), published 7 November 2022."""
    return _bscp_summary(_BSCP_CHILD_D)


# --------------------------------------------------------------------------- CMIS committee papers

_SCF = "Schools, Children and Families Overview and Scrutiny Committee"
_CMIS_KEYWORDS = "Birmingham City Council, overview and scrutiny, schools, children and families"

_SCF_AGENDA_ITEMS = [
    (
        "1",
        "NOTICE OF RECORDING/WEBCAST",
        "The Chair to advise/meeting to note that this meeting will be webcast for live or subsequent "
        "broadcast via the Council\u2019s meeting YouTube site and that members of the press/public "
        "may record and take photographs except where there are confidential or exempt items.",
        "",
    ),
    ("2", "APOLOGIES", "To receive any apologies.", ""),
    (
        "3",
        "DECLARATIONS OF INTERESTS",
        "Members are reminded that they must declare all relevant pecuniary and other registrable "
        "interests arising from any business to be discussed at this meeting.",
        "",
    ),
    ("4", "ACTION NOTES", "To confirm the action notes of the meeting held on 24 January 2024.", "3 - 8"),
    (
        "5",
        "BIRMINGHAM CHILDREN\u2019S TRUST: PERFORMANCE AND BUDGET UPDATE 2023/24",
        "Rachel Whitmore, Chief Executive, Birmingham Children\u2019s Trust, and Cllr Sophie Ellington, "
        "Cabinet Member for Children, Young People and Families, in attendance.",
        "9 - 24",
    ),
    (
        "6",
        "HOME TO SCHOOL TRAVEL ASSISTANCE: PROPOSED CHANGES",
        "Director of Children and Families in attendance.",
        "25 - 40",
    ),
    ("7", "WORK PROGRAMME 2023/24", "For discussion.", "41 - 48"),
    ("8", "REQUEST(S) TO CALL IN A CABINET DECISION", "To consider any request to call in a Cabinet decision.", ""),
    (
        "9",
        "OTHER URGENT BUSINESS",
        "To consider any items of business by reason of special circumstances (to be specified) that "
        "in the opinion of the Chair are matters of urgency.",
        "",
    ),
    (
        "10",
        "AUTHORITY TO CHAIR AND OFFICERS",
        "Chair to move:- \u2018In an urgent situation between meetings, the Chair jointly with the "
        "relevant Chief Officer has authority to act on behalf of the Committee\u2019.",
        "",
    ),
]


@functools.cache
def cmis_scf_agenda_2024_03_13() -> bytes:
    """1-2 page CMIS agenda frontsheet, Schools, Children and Families O&S Committee, 13 March 2024."""
    st = _styles()
    rows = []
    for num, head, text, pages in _SCF_AGENDA_ITEMS:
        rows.append(
            [
                Paragraph(num, st["cellb"]),
                Paragraph(f"<b>{head}</b><br/>{text}", st["cell"]),
                Paragraph(pages, st["cell"]),
            ]
        )
    table = Table(rows, colWidths=[12 * mm, 130 * mm, 22 * mm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    story = [
        Paragraph("BIRMINGHAM CITY COUNCIL", st["title"]),
        Paragraph("SCHOOLS, CHILDREN AND FAMILIES OVERVIEW AND SCRUTINY COMMITTEE", st["council"]),
        Spacer(1, 3 * mm),
        Paragraph(
            "WEDNESDAY, 13 MARCH 2024 AT 10:00 HOURS IN COMMITTEE ROOMS 3 &amp; 4, COUNCIL "
            "HOUSE, VICTORIA SQUARE, BIRMINGHAM, B1 1BB",
            st["body"],
        ),
        Spacer(1, 3 * mm),
        Paragraph("A G E N D A", st["title"]),
        table,
        Spacer(1, 6 * mm),
        Paragraph("Published: 5 March 2024. Contact: Scrutiny Office, Council House, Birmingham.", st["small"]),
        Paragraph(
            "This agenda was written for a demonstration of the carewatch tool; the items are "
            "modelled on real agendas but the meeting is invented.",
            st["small"],
        ),
    ]
    return _build(
        story,
        title=f"Agenda frontsheet 13/03/2024 {_SCF}",
        subject="Agenda for the meeting of 13 March 2024. Published 5 March 2024.",
        footer=f"{_SCF}  13 March 2024  Agenda",
        author="Birmingham City Council",
        keywords=_CMIS_KEYWORDS,
    )


_TRUST_KPIS = [
    ("Referrals to children\u2019s social care (year to date)", "11,842", "9,310", "\u2013"),
    ("Re-referrals within 12 months", "17%", "19%", "18%"),
    ("Assessments completed within 45 working days", "88%", "84%", "85%"),
    ("Children subject to a child protection plan", "1,036", "1,112", "\u2013"),
    ("Children in care", "2,020", "2,087", "\u2013"),
    ("Average caseload, locality social workers", "16.4", "17.2", "18"),
    ("Social work posts filled by agency staff", "11%", "9%", "10%"),
    ("Care leavers (19\u201321) in education, employment or training", "54%", "57%", "60%"),
]

_TRUST_REPORT = {
    "purpose": [
        "This report updates the Committee on the performance of Birmingham Children\u2019s Trust "
        "in 2023/24, the trust\u2019s forecast financial position for the year and the savings "
        "required of the trust in 2024/25.",
    ],
    "recommendations": [
        "2.1 That the Committee notes the trust\u2019s performance against its key indicators.",
        "2.2 That the Committee notes the forecast overspend of \u00a36.2m on placements in "
        "2023/24 and the actions being taken to reduce it.",
        "2.3 That the Committee agrees to receive a further report on the delivery of the "
        "2024/25 savings in September 2024.",
    ],
    "background": [
        "3.1 The trust has delivered children\u2019s social care on behalf of the Council since "
        "April 2018 under a contract that sets out the services to be provided and the key "
        "performance indicators against which the trust is held to account. In April 2023 Ofsted "
        "judged the Council\u2019s children\u2019s services to be good overall.",
        "3.2 Following the issue of a section 114 notice in September 2023, the Council has asked "
        "the trust to deliver savings of \u00a318m in 2024/25, in addition to managing demand "
        "pressures within its existing budget.",
    ],
    "performance": [
        "4.1 Demand remains high. The number of children subject to a child protection plan has "
        "risen by 7% since March 2023, and the number of children in care by 3%. Re-referral rates "
        "have risen slightly and are above target.",
        "4.2 Workforce stability has continued to improve. Agency use is below target and average "
        "caseloads remain within the trust\u2019s standard, although caseloads in some child "
        "protection teams are higher than average.",
    ],
    "finance": [
        "5.1 The trust is forecasting an overspend of \u00a36.2m in 2023/24, almost entirely on "
        "placements for children in care. The average weekly cost of a residential placement "
        "has risen by 14% in a year.",
        "5.2 The 2024/25 savings programme includes a review of the trust\u2019s in-house "
        "residential homes, reductions in management and business support posts, the recommissioning "
        "of supported accommodation for care leavers and a reduction in early help grants to "
        "community organisations.",
        "5.3 The trust\u2019s board has advised the Council that savings of this scale carry a "
        "risk to performance, in particular to early help and to the stability of the workforce.",
    ],
    "risks": [
        "6.1 The main risks are continued growth in demand, further increases in placement costs, "
        "and the loss of experienced staff. These risks are recorded on the trust\u2019s and the "
        "Council\u2019s corporate risk registers.",
        "7.1 Equality impact assessments have been completed for each savings proposal and are available on request.",
    ],
}


@functools.cache
def cmis_scf_trust_report_2024_03_13() -> bytes:
    """2-3 page report: Birmingham Children's Trust performance and budget update, O&S Committee 13 March 2024."""
    st = _styles()
    header = Table(
        [
            [Paragraph("Report to:", st["cellb"]), Paragraph(_SCF, st["cell"])],
            [Paragraph("Date:", st["cellb"]), Paragraph("13 March 2024", st["cell"])],
            [
                Paragraph("Title:", st["cellb"]),
                Paragraph("Birmingham Children\u2019s Trust: Performance and Budget Update 2023/24", st["cell"]),
            ],
            [
                Paragraph("Report of:", st["cellb"]),
                Paragraph("Rachel Whitmore, Chief Executive, Birmingham Children\u2019s Trust", st["cell"]),
            ],
            [
                Paragraph("Relevant Cabinet Member:", st["cellb"]),
                Paragraph("Cllr Sophie Ellington, Children, Young People and Families", st["cell"]),
            ],
            [Paragraph("Is this a key decision?", st["cellb"]), Paragraph("No", st["cell"])],
            [
                Paragraph("Does the report contain confidential or exempt information?", st["cellb"]),
                Paragraph("No", st["cell"]),
            ],
        ],
        colWidths=[58 * mm, 106 * mm],
        hAlign="LEFT",
    )
    header.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#7f7f7f")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    kpi_rows = [[Paragraph(h, st["cellb"]) for h in ("Indicator", "Mar 2023", "Dec 2023", "Target")]]
    kpi_rows += [[Paragraph(c, st["cell"]) for c in row] for row in _TRUST_KPIS]
    kpis = Table(kpi_rows, colWidths=[94 * mm, 24 * mm, 24 * mm, 22 * mm], hAlign="LEFT")
    kpis.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#7f7f7f")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    r = _TRUST_REPORT
    story = [
        Paragraph("Birmingham City Council", st["council"]),
        Paragraph("Report to " + _SCF, st["title"]),
        header,
        Spacer(1, 5 * mm),
        Paragraph("1 Purpose of report", st["h2"]),
    ]
    story += _paras(r["purpose"], st)
    story.append(Paragraph("2 Recommendations", st["h2"]))
    story += _paras(r["recommendations"], st)
    story.append(Paragraph("3 Background", st["h2"]))
    story += _paras(r["background"], st)
    story.append(Paragraph("4 Performance", st["h2"]))
    story.append(kpis)
    story.append(Spacer(1, 4 * mm))
    story += _paras(r["performance"], st)
    story.append(Paragraph("5 Financial position", st["h2"]))
    story += _paras(r["finance"], st)
    story.append(Paragraph("6 Risks and 7 Public Sector Equality Duty", st["h2"]))
    story += _paras(r["risks"], st)
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            "This report was written for a demonstration of the carewatch tool. Its figures are invented.", st["small"]
        )
    )
    return _build(
        story,
        title="Birmingham Children\u2019s Trust: Performance and Budget Update 2023/24",
        subject=f"Report to the {_SCF}, 13 March 2024. Published 5 March 2024.",
        footer=f"{_SCF}  13 March 2024  Item 5",
        author="Birmingham City Council",
        keywords=_CMIS_KEYWORDS,
    )


PDFS = {
    "ofsted_ilacs_2023": ofsted_ilacs_2023,
    "ofsted_focused_visit_2021": ofsted_focused_visit_2021,
    "ofsted_monitoring_visit_2018": ofsted_monitoring_visit_2018,
    "bscp_child_a_2022_23_04": bscp_child_a_2022_23_04,
    "bscp_child_d_2021_22_02": bscp_child_d_2021_22_02,
    "cmis_scf_agenda_2024_03_13": cmis_scf_agenda_2024_03_13,
    "cmis_scf_trust_report_2024_03_13": cmis_scf_trust_report_2024_03_13,
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
