"""The notice DOCX, read back with python-docx."""

from __future__ import annotations

import docx
import pytest

from api.notices import PREVIEW_BANNER
from tests.api.notices.conftest import Rendered


def _read(rendered: Rendered) -> tuple[str, list[list[list[str]]], str]:
    """Paragraph text, tables as rows of cell text, and the page header text."""
    document = docx.Document(str(rendered.notice.paths["docx"]))
    text = "\n".join(p.text for p in document.paragraphs)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in document.tables]
    header = "\n".join(p.text for p in document.sections[0].header.paragraphs)
    return text, tables, header


def test_docx_has_sections_and_violations(final_notice: Rendered) -> None:
    text, tables, header = _read(final_notice)
    for section in (
        "整改通知书",
        "城东支行：",
        "一、检查发现的问题",
        "三、整改要求",
        "四、证据截图",
    ):
        assert section in text
    assert final_notice.notice.content.number in text
    violations = tables[0]
    assert violations[0][:4] == ["序号", "时间", "摄像机", "检查项目"]
    assert [row[3] for row in violations[1:-1]] == ["员工睡觉", "保安坐姿不端正", "员工睡觉"]
    assert violations[-1][0] == "合计 3项" and violations[-1][-1] == "600.00"
    assert header == ""


def test_docx_totals_match_the_pdf(final_notice: Rendered) -> None:
    _, tables, _ = _read(final_notice)
    totals = dict((row[0], row[1]) for row in tables[2])
    assert totals["本期得分"] == "97" and totals["扣分合计"] == "3"
    assert totals["考核金额合计（元）"] == "600.00"
    assert totals["本期排名"] == "第2名（共2个网点）"
    items = {row[0]: row for row in tables[1][1:]}
    assert items["员工睡觉"][2:6] == ["2", "0", "2", "400.00"]
    assert items["员工睡觉"][7] == "运营主管"


def test_docx_embeds_the_stills(final_notice: Rendered) -> None:
    document = docx.Document(str(final_notice.notice.paths["docx"]))
    assert len(document.inline_shapes) == 3


@pytest.mark.parametrize("needle", [PREVIEW_BANNER, "客户视线内杂物（待审核）"])
def test_docx_preview_is_labelled(preview_notice: Rendered, needle: str) -> None:
    text, tables, header = _read(preview_notice)
    assert needle in header + text + str(tables)
    assert PREVIEW_BANNER in header  # the header repeats on every page
