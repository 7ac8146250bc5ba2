"""The notice PDF, read back with pdftotext, pdftoppm and pdffonts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from api.notices import PREVIEW_BANNER
from tests.api.notices.conftest import ISSUER, Rendered

SECTIONS = (
    "整改通知书",
    "城东支行：",
    "一、检查发现的问题",
    "二、扣分及考核汇总",
    "三、整改要求",
    "四、证据截图",
    "检查人",
    "复核人",
    "签发人",
    "（盖章）",
    "网点签收",
)


def _text(rendered: Rendered) -> str:
    return "\n".join(rendered.pages)


def _squeezed(rendered: Rendered) -> str:
    """Text without spaces and line breaks (table cells wrap)."""
    return re.sub(r"\s+", "", _text(rendered))


@pytest.mark.parametrize("section", SECTIONS)
def test_final_notice_has_every_section(final_notice: Rendered, section: str) -> None:
    assert section in _squeezed(final_notice)


def test_final_notice_lists_confirmed_events_with_totals(final_notice: Rendered) -> None:
    text = _squeezed(final_notice)
    assert final_notice.notice.content.number in text
    assert ISSUER in text
    assert text.count("员工睡觉") >= 2 and "保安坐姿不端正" in text
    assert "2号机柜台" in text and "1号机营业大厅" in text
    assert "11-2009:41:05" in text  # local time (Asia/Shanghai), not UTC
    # 问题描述 says what was seen: when, how long, who, how many times this period.
    assert "09:41:05至09:45:05（持续4分钟）" in text and "柜员#3" in text
    assert "本期该项第1次（共2次）" in text and "本期该项第2次（共2次）" in text
    # 检查人 is who confirmed the findings, 复核人 who else reviewed them.
    assert "检查人：张三" in text and "复核人：李四" in text
    # Captions give the time stamped on the still (the evidence moment, not the start).
    assert "图1第1项员工睡觉2号机柜台2026-11-2009:42:05" in text
    assert "合计3项" in text and "600.00" in text
    assert "本期得分97" in text and "扣分合计3" in text
    assert "第2名（共2个网点）" in text
    assert "扣100元" not in text and "考核100" not in text  # 标准要求 without penalties
    assert "," not in text  # full-width punctuation in Chinese text
    assert "由运营主管负责" in text and "2026年11月26日前完成整改" in text


@pytest.mark.parametrize("absent", ["客户视线内杂物", "大堂经理不在岗", "待审核", PREVIEW_BANNER])
def test_final_notice_leaves_out_pending_and_dismissed(final_notice: Rendered, absent: str) -> None:
    assert absent not in _squeezed(final_notice)


def test_preview_is_labelled_on_every_page(preview_notice: Rendered) -> None:
    assert len(preview_notice.pages) >= 2
    for page in preview_notice.pages:
        assert PREVIEW_BANNER in re.sub(r"\s+", "", page)


def test_preview_counts_pending_events(preview_notice: Rendered) -> None:
    text = _squeezed(preview_notice)
    # The cell wraps, so the mark may come on the next line of the layout text.
    assert "客户视线内杂物" in text and "（待审核）" in text
    assert "合计4项" in text and "700.00" in text
    assert "大堂经理不在岗" not in text  # dismissed stays out of previews too


def test_pdf_embeds_the_cjk_font(final_notice: Rendered) -> None:
    fonts = subprocess.run(
        ["pdffonts", str(final_notice.notice.paths["pdf"])],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    cjk = [line for line in fonts.splitlines() if "NotoSansCJKsc" in line]
    assert cjk and all(" yes " in line for line in cjk)


def _pages_as_images(pdf: Path, folder: Path) -> list[np.ndarray]:
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(folder / "p")], check=True)
    images = []
    for page in sorted(folder.glob("p-*.png")):
        image = cv2.imread(str(page))
        assert image is not None, page
        images.append(np.asarray(image, np.uint8))
    return images


def test_pages_render_with_stills(final_notice: Rendered, tmp_path: Path) -> None:
    images = _pages_as_images(final_notice.notice.paths["pdf"], tmp_path)
    assert len(images) == len(final_notice.pages)
    # The stills are photos: some page has many distinct colours, unlike a text-only page.
    colourful = [len(np.unique(im.reshape(-1, 3) // 32, axis=0)) for im in images]
    assert max(colourful) > 100


def test_preview_pages_carry_the_red_watermark(preview_notice: Rendered, tmp_path: Path) -> None:
    for image in _pages_as_images(preview_notice.notice.paths["pdf"], tmp_path):
        b, g, r = (image[..., i].astype(int) for i in range(3))
        assert ((r - g > 60) & (r - b > 60)).sum() > 50
