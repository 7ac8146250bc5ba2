"""The CJK font: found through its sources in order, verified by SHA-256, with a fallback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from models import FONTS_PATH
from vision.fonts import BOLD, REGULAR, FontMissing, load_fonts, locate_font

REGULAR_SHA256 = "b76b0433203017ca80401b2ee0dd69350349871c4b19d504c34dbdd80541690a"


def _manifest(tmp_path: Path, regular: dict[str, Any], bold: dict[str, Any] | None = None) -> Path:
    data = yaml.safe_load(FONTS_PATH.read_text(encoding="utf-8"))
    data["fonts"][REGULAR].update(regular)
    if bold is not None:
        data["fonts"][BOLD].update(bold)
    path = tmp_path / "fonts.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_simplified_chinese_face_of_the_verified_file_is_used() -> None:
    face = locate_font(REGULAR)
    assert face.sha256 == REGULAR_SHA256 and face.face == "Noto Sans CJK SC"
    assert face.index == 2  # JP, KR, SC, TC, HK in Noto's collection


def test_the_installed_package_alone_gives_the_font(tmp_path: Path) -> None:
    """Without a system font (only the wheel's source), the same verified file is found."""
    only_package = [{"package": "noto_cjk_sans_otc", "resource": "NotoSansCJK-Regular.ttc"}]
    face = locate_font(REGULAR, _manifest(tmp_path, {"sources": only_package}))
    assert "noto_cjk_sans_otc" in str(face.path) and face.source.startswith("package ")
    assert face.sha256 == REGULAR_SHA256 and face.index == 2


def test_a_file_with_another_hash_is_refused_and_the_next_source_used(tmp_path: Path) -> None:
    impostor = tmp_path / "NotoSansCJK-Regular.ttc"
    impostor.write_bytes(b"not the font")
    sources = [
        {"local": str(impostor)},
        {"package": "noto_cjk_sans_otc", "resource": "NotoSansCJK-Regular.ttc"},
    ]
    face = locate_font(REGULAR, _manifest(tmp_path, {"sources": sources}))
    assert face.path != impostor and face.sha256 == REGULAR_SHA256


def test_no_usable_source_names_each_and_what_to_do(tmp_path: Path) -> None:
    impostor = tmp_path / "x.ttc"
    impostor.write_bytes(b"x")
    sources = [
        {"local": str(tmp_path / "none.ttc")},
        {"local": str(impostor)},
        {"package": "no_such_font_package", "resource": "x.ttc"},
    ]
    with pytest.raises(FontMissing) as caught:
        locate_font(REGULAR, _manifest(tmp_path, {"sources": sources}))
    message = str(caught.value)
    assert "none.ttc" in message and "sha256 mismatch" in message
    assert "no_such_font_package" in message and "reinstall branchwatch" in message


def test_bold_falls_back_to_the_regular_weight(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, {}, {"sources": [{"local": str(tmp_path / "no-bold.ttc")}]})
    face = locate_font(BOLD, manifest)
    assert face.name == REGULAR and face.sha256 == REGULAR_SHA256


def test_the_manifest_documents_every_font() -> None:
    notes = FONTS_PATH.with_name("fonts.md").read_text(encoding="utf-8")
    for name, entry in load_fonts().fonts.items():
        assert f"`{name}`" in notes and entry.license == "OFL-1.1"
