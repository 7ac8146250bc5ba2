"""The notice as an editable Word document (python-docx).

Body text is set in 宋体 and headings in 黑体 (the East Asian font slots), the fonts a bank's
Windows desktops have; a preview carries :data:`~api.notices.model.PREVIEW_BANNER` in the
page header, so it shows on every page.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from PIL import Image as PILImage

from api.notices import sections
from api.notices.model import PREVIEW_BANNER, NoticeContent
from api.outputs import complete_file

logger = logging.getLogger(__name__)

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"
PREVIEW_RED = RGBColor(0xC0, 0x39, 0x2B)
STILL_WIDTH = Mm(170)
STILL_MAX_HEIGHT = Mm(120)


def _font(run: Run, size: float, east_asia: str = BODY_FONT, bold: bool = False) -> Run:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = LATIN_FONT
    r_pr = run._element.get_or_add_rPr()
    r_fonts = r_pr.get_or_add_rFonts()
    r_fonts.set(qn("w:eastAsia"), east_asia)
    return run


def _para(
    doc: DocxDocument,
    text: str,
    size: float = 12,
    *,
    heading: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    indent: bool = False,
) -> Paragraph:
    para = doc.add_paragraph()
    if align is not None:
        para.alignment = align
    if indent:
        para.paragraph_format.first_line_indent = Pt(size * 2)
    _font(para.add_run(text), size, HEADING_FONT if heading else BODY_FONT, bold=heading)
    return para


def _table(
    doc: DocxDocument,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        _font(cell.paragraphs[0].add_run(text), 9, HEADING_FONT, bold=True)
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            _font(cell.paragraphs[0].add_run(text), 9)
    for col, width in zip(table.columns, widths, strict=True):
        for cell in col.cells:
            cell.width = Mm(width)


def _stills(doc: DocxDocument, content: NoticeContent) -> None:
    for n, line in enumerate(content.stills, start=1):
        assert line.still is not None
        with PILImage.open(line.still) as img:
            w, h = img.size
        para = doc.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if h / w > STILL_MAX_HEIGHT / STILL_WIDTH:
            para.add_run().add_picture(str(line.still), height=STILL_MAX_HEIGHT)
        else:
            para.add_run().add_picture(str(line.still), width=STILL_WIDTH)
        _para(doc, sections.still_caption(n, line), 9, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, sections.stills_note(content), 9)


def _page(doc: DocxDocument, content: NoticeContent) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin, section.bottom_margin = Mm(20), Mm(18)
    if content.preview:
        banner = section.header.paragraphs[0]
        banner.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = _font(banner.add_run(PREVIEW_BANNER), 11, HEADING_FONT, bold=True)
        run.font.color.rgb = PREVIEW_RED
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(footer.add_run(sections.footer(content)), 8)


def write_docx(content: NoticeContent, path: Path) -> Path:
    """Write the notice as a DOCX file.

    Args:
        content: The notice.
        path: Target file (its folder is created).

    Returns:
        ``path``.

    Example:
        >>> write_docx(build_notice(session, "b001", "2026-11"), Path("out/notice.docx"))
    """
    doc = Document()
    _page(doc, content)
    issuer, number = sections.header_lines(content)
    if content.preview:
        note = _para(doc, content.preview_note, 11, heading=True)
        for run in note.runs:
            run.font.color.rgb = PREVIEW_RED
    if issuer:
        _para(doc, issuer, 14, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, content.title, 22, heading=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _para(doc, number, 11, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, content.addressee, 12)
    _para(doc, content.basis, 12, indent=True)
    _para(doc, sections.HEADINGS[0], 13, heading=True)
    if content.lines:
        _table(
            doc,
            sections.LINE_HEADERS,
            sections.line_rows(content),
            (8, 27, 14, 20, 59, 14, 10, 20),
        )
    else:
        _para(doc, "本期未发现问题。", 12)
    _para(doc, sections.HEADINGS[1], 13, heading=True)
    if content.items:
        _table(
            doc,
            sections.ITEM_HEADERS,
            sections.item_rows(content),
            (28, 12, 11, 14, 12, 22, 44, 27),
        )
        doc.add_paragraph()
    _table(doc, ("项目", "数值"), sections.total_rows(content), (60, 60))
    _para(doc, sections.HEADINGS[2], 13, heading=True)
    for text in sections.requirements(content):
        _para(doc, text, 12, indent=True)
    if content.stills:
        _para(doc, sections.HEADINGS[3], 13, heading=True)
        _stills(doc, content)
    if content.history:
        _para(doc, sections.HISTORY_HEADING, 13, heading=True)
        for text in content.history:
            _para(doc, text, 11)
    signs, seal, day = sections.signoff(content)
    doc.add_paragraph()
    _para(doc, "\u3000\u3000".join(signs), 12)
    doc.add_paragraph()
    _para(doc, seal, 12, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, day, 12, align=WD_ALIGN_PARAGRAPH.RIGHT)
    if content.copies:
        _para(doc, content.copies, 12)
    _para(doc, "网点签收", 13, heading=True)
    _para(doc, sections.RECEIPT, 12)
    doc.core_properties.title = f"{content.title} {content.number}"
    doc.core_properties.author = content.issuer or "branchwatch"
    doc.core_properties.subject = f"{content.branch_name} {content.period_text}"
    with complete_file(path) as tmp:
        doc.save(str(tmp))
    logger.debug("wrote %s (%d violations)", path, len(content.lines))
    return path
