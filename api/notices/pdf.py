"""The notice as a PDF (reportlab), with the Noto Sans CJK SC font embedded.

A preview carries :data:`~api.notices.model.PREVIEW_BANNER` as a banner at the top and a
diagonal watermark on every page.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from api.notices import sections
from api.notices.fonts import CjkFonts
from api.notices.model import PREVIEW_BANNER, NoticeContent
from api.outputs import complete_file

logger = logging.getLogger(__name__)

MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
GRID = colors.HexColor("#555555")
HEAD_FILL = colors.HexColor("#e8e8e8")
PREVIEW_RED = colors.HexColor("#c0392b")
LINE_WIDTHS = (8 * mm, 27 * mm, 14 * mm, 20 * mm, 61 * mm, 14 * mm, 10 * mm, 20 * mm)
STILL_MAX_HEIGHT = 120 * mm
ITEM_WIDTHS = (30 * mm, 12 * mm, 11 * mm, 14 * mm, 12 * mm, 22 * mm, 46 * mm - 2, 27 * mm)


class PdfStyles:
    """Paragraph styles of one document, on its own CJK fonts."""

    def __init__(self, fonts: CjkFonts) -> None:
        base: dict[str, Any] = {"fontName": fonts.regular, "wordWrap": "CJK", "leading": 15}
        self.fonts = fonts
        self.title = ParagraphStyle(
            "title", fontName=fonts.bold, fontSize=22, leading=30, alignment=TA_CENTER
        )
        self.issuer = ParagraphStyle("issuer", **base, fontSize=13, alignment=TA_CENTER)
        self.number = ParagraphStyle("number", **base, fontSize=10.5, alignment=TA_RIGHT)
        self.body = ParagraphStyle("body", **base, fontSize=10.5, firstLineIndent=21)
        self.plain = ParagraphStyle("plain", **base, fontSize=10.5)
        self.heading = ParagraphStyle(
            "heading", fontName=fonts.bold, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4
        )
        self.cell = ParagraphStyle("cell", **{**base, "leading": 11}, fontSize=8.5)
        self.head_cell = ParagraphStyle(
            "head", fontName=fonts.bold, fontSize=8.5, leading=11, wordWrap="CJK"
        )
        self.caption = ParagraphStyle("caption", **{**base, "leading": 11}, fontSize=8)
        self.banner = ParagraphStyle(
            "banner",
            fontName=fonts.bold,
            fontSize=11,
            leading=16,
            alignment=TA_CENTER,
            textColor=PREVIEW_RED,
            borderColor=PREVIEW_RED,
            borderWidth=1,
            borderPadding=4,
        )
        self.right = ParagraphStyle("right", **base, fontSize=10.5, alignment=TA_RIGHT)

    def p(self, text: str, style: ParagraphStyle) -> Paragraph:
        """A paragraph whose characters are noted for the font subset."""
        return Paragraph(escape(self.fonts.text(text)), style)


def grid_table(
    styles: PdfStyles,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: tuple[float, ...],
    total_row: bool,
) -> Table:
    data = [[styles.p(h, styles.head_cell) for h in headers]]
    data += [[styles.p(v, styles.cell) for v in row] for row in rows]
    table = Table(data, colWidths=list(widths), repeatRows=1)
    commands: list[Any] = [
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if total_row:
        commands += [("BACKGROUND", (0, -1), (-1, -1), HEAD_FILL), ("SPAN", (0, -1), (1, -1))]
    table.setStyle(TableStyle(commands))
    return table


def _still(path: Path, width: float) -> Image:
    """The still scaled to ``width``, or less where it would be taller than the limit."""
    with PILImage.open(path) as img:
        w, h = img.size
    scale = min(width / w, STILL_MAX_HEIGHT / h)
    return Image(str(path), width=w * scale, height=h * scale, hAlign="LEFT")


def _stills(styles: PdfStyles, content: NoticeContent) -> list[Flowable]:
    """One still per row at the full text width, so the labels on it can be read."""
    out: list[Flowable] = []
    for n, line in enumerate(content.stills, start=1):
        assert line.still is not None
        caption = styles.p(sections.still_caption(n, line), styles.caption)
        heading = [styles.p(sections.HEADINGS[3], styles.heading)] if n == 1 else []
        out.append(KeepTogether([*heading, _still(line.still, WIDTH), caption, Spacer(1, 4 * mm)]))
    out.append(styles.p(sections.stills_note(content), styles.caption))
    return out


def _story(styles: PdfStyles, content: NoticeContent) -> list[Flowable]:
    issuer, number = sections.header_lines(content)
    story: list[Flowable] = []
    if content.preview:
        story += [styles.p(content.preview_note, styles.banner), Spacer(1, 4 * mm)]
    if issuer:
        story.append(styles.p(issuer, styles.issuer))
    story += [
        styles.p(content.title, styles.title),
        styles.p(number, styles.number),
        Spacer(1, 3 * mm),
        styles.p(content.addressee, styles.plain),
        styles.p(content.basis, styles.body),
        styles.p(sections.HEADINGS[0], styles.heading),
    ]
    if content.lines:
        story.append(
            grid_table(
                styles, sections.LINE_HEADERS, sections.line_rows(content), LINE_WIDTHS, True
            )
        )
    else:
        story.append(styles.p("本期未发现问题。", styles.plain))
    story.append(styles.p(sections.HEADINGS[1], styles.heading))
    if content.items:
        story += [
            grid_table(
                styles, sections.ITEM_HEADERS, sections.item_rows(content), ITEM_WIDTHS, False
            ),
            Spacer(1, 2 * mm),
        ]
    totals = sections.total_rows(content)
    totals_table = grid_table(styles, ("项目", "数值"), totals, (60 * mm, 60 * mm), False)
    totals_table.hAlign = "LEFT"
    story.append(totals_table)
    first, *rest = sections.requirements(content)
    heading = styles.p(sections.HEADINGS[2], styles.heading)
    story.append(KeepTogether([heading, styles.p(first, styles.body)]))
    story += [styles.p(text, styles.body) for text in rest]
    if content.stills:
        story += _stills(styles, content)
    if content.history:
        story.append(styles.p(sections.HISTORY_HEADING, styles.heading))
        story += [styles.p(text, styles.plain) for text in content.history]
    signs, seal, day = sections.signoff(content)
    block: list[Flowable] = [Spacer(1, 8 * mm)]
    block += [styles.p("\u3000\u3000".join(signs), styles.plain), Spacer(1, 8 * mm)]
    block += [styles.p(seal, styles.right), styles.p(day, styles.right), Spacer(1, 6 * mm)]
    if content.copies:
        block += [styles.p(content.copies, styles.plain), Spacer(1, 4 * mm)]
    block += [styles.p("网点签收", styles.heading), styles.p(sections.RECEIPT, styles.plain)]
    story.append(KeepTogether(block))
    return story


def page_decorator(fonts: CjkFonts, footer: str, preview: bool) -> Any:
    """A page callback drawing the footer with the page number and, for a preview, the
    banner at the top and a diagonal watermark (on every page)."""
    fonts.text(footer + "第页共0123456789 ")
    banner = fonts.text(PREVIEW_BANNER) if preview else ""

    def decorate(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(fonts.regular, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(MARGIN, 10 * mm, footer)
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, f"第 {doc.page} 页")
        if banner:
            canvas.setFont(fonts.bold, 10)
            canvas.setFillColor(PREVIEW_RED)
            canvas.drawCentredString(A4[0] / 2, A4[1] - 10 * mm, banner)
            canvas.setFont(fonts.bold, 44)
            canvas.setFillColor(PREVIEW_RED, alpha=0.12)
            canvas.translate(A4[0] / 2, A4[1] / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, 0, banner)
        canvas.restoreState()

    return decorate


def write_pdf(content: NoticeContent, path: Path) -> Path:
    """Write the notice as a PDF.

    Args:
        content: The notice.
        path: Target file (its folder is created).

    Returns:
        ``path``.

    Raises:
        vision.fonts.FontMissing: No verified Noto Sans CJK file is installed.

    Example:
        >>> write_pdf(build_notice(session, "b001", "2026-11"), Path("out/notice.pdf"))
    """
    fonts = CjkFonts()
    styles = PdfStyles(fonts)
    story = _story(styles, content)
    decorate = page_decorator(fonts, sections.footer(content), content.preview)
    fonts.register()
    with complete_file(path) as tmp:
        _build(tmp, content, story, decorate)
    logger.debug("wrote %s (%d violations)", path, len(content.lines))
    return path


def _build(path: Path, content: NoticeContent, story: list[Any], decorate: Any) -> None:
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"{content.title} {content.number}",
        author=content.issuer or "branchwatch",
        subject=f"{content.branch_name} {content.period_text}",
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
