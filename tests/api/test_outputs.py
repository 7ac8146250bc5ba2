"""Output files appear only when complete; a failure leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.outputs import _umask, complete_file, complete_folder


def test_a_file_appears_only_when_its_block_completes(tmp_path: Path) -> None:
    target = tmp_path / "out" / "notice.pdf"
    with complete_file(target) as tmp:
        tmp.write_bytes(b"%PDF-1.4")
        assert not target.exists() and tmp.parent == target.parent
    assert target.read_bytes() == b"%PDF-1.4"
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()  # as open() would have made it
    assert [p.name for p in target.parent.iterdir()] == ["notice.pdf"]


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "notice.pdf"
    with pytest.raises(RuntimeError), complete_file(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("font missing")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_of_files_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    version = tmp_path / "b001" / "v1"
    with pytest.raises(RuntimeError), complete_folder(version) as staging:
        (staging / "notice.docx").write_bytes(b"docx")
        raise RuntimeError("the PDF failed")
    assert list(version.parent.iterdir()) == []
    with complete_folder(version) as staging:  # the re-run is not blocked by leftovers
        (staging / "notice.docx").write_bytes(b"docx")
        (staging / "notice.pdf").write_bytes(b"pdf")
    assert sorted(p.name for p in version.iterdir()) == ["notice.docx", "notice.pdf"]
