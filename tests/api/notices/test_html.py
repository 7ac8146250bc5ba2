"""The HTML preview."""

from __future__ import annotations

import pytest

from api.notices import PREVIEW_BANNER
from tests.api.notices.conftest import Rendered


def _html(rendered: Rendered) -> str:
    return rendered.notice.paths["html"].read_text(encoding="utf-8")


def test_html_lists_violations_and_embeds_stills(final_notice: Rendered) -> None:
    html = _html(final_notice)
    assert "<h1>整改通知书</h1>" in html
    assert html.count("data:image/jpeg;base64,") == 3
    assert html.count("<td>员工睡觉</td>") == 3  # two violations and the item summary
    assert "600.00" in html and PREVIEW_BANNER not in html
    assert "<style>" in html  # standalone file


@pytest.mark.parametrize("needle", [PREVIEW_BANNER, "客户视线内杂物（待审核）", "700.00"])
def test_html_preview_is_labelled(preview_notice: Rendered, needle: str) -> None:
    assert needle in _html(preview_notice)
