"""CJK font subsets for reportlab."""

from __future__ import annotations

import subprocess
from pathlib import Path

from reportlab.pdfgen.canvas import Canvas

from api.notices.fonts import CjkFonts


def test_documents_in_one_process_each_get_their_glyphs(tmp_path: Path) -> None:
    texts = ["预览含待审核事件", "整改通知书", "督导尚未确认"]
    for n, text in enumerate(texts):
        fonts = CjkFonts()
        fonts.text(text)
        fonts.register()
        path = tmp_path / f"{n}.pdf"
        canvas = Canvas(str(path))
        canvas.setFont(fonts.regular, 20)
        canvas.drawString(50, 700, text)
        canvas.save()
        out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True)
        assert out.stdout.strip() == text
