"""Generating notices: versions, kept files, the demo's preview."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from api.db.models import Notice
from api.db.session import make_engine, session_scope
from api.notices import (
    NoticeFilesExist,
    NoticeFormat,
    NoticePolicy,
    generate_notice,
    write_demo_notice,
)
from tests.api.notices.conftest import ISSUED, pdf_pages
from tests.api.notices.seed import DAY


def _generate(url: str, out: Path, preview: bool = False) -> Path:
    engine = make_engine(url)
    with session_scope(engine) as session:
        made = generate_notice(
            session, "b1", DAY, out, preview=preview, formats=(NoticeFormat.HTML,), issued=ISSUED
        )
    engine.dispose()
    return made.paths["html"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_regenerating_adds_a_version_and_keeps_old_files(store_url: str, tmp_path: Path) -> None:
    first = _generate(store_url, tmp_path / "out")
    digest = _sha(first)
    second = _generate(store_url, tmp_path / "out", preview=True)
    assert first != second and first.parent.name == "v1" and second.parent.name == "v2"
    assert _sha(first) == digest
    engine = make_engine(store_url)
    with session_scope(engine) as session:
        rows = list(session.scalars(select(Notice).order_by(Notice.version)))
        assert [(r.version, r.preview, r.period) for r in rows] == [(1, False, DAY), (2, True, DAY)]
        assert rows[0].number.endswith("-01号") and rows[1].number.endswith("-02号")
        assert rows[0].paths == {"html": str(first)}
        assert (rows[0].total_points, rows[0].total_money) == (3.0, 600.0)
        assert rows[1].total_money == 700.0
    engine.dispose()


def test_existing_files_are_never_overwritten(store_url: str, tmp_path: Path) -> None:
    stale = tmp_path / "out" / "b1" / DAY / "v1" / "old.pdf"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"older notice")
    with pytest.raises(NoticeFilesExist, match="v1 already holds files"):
        _generate(store_url, tmp_path / "out")
    assert stale.read_bytes() == b"older notice"


def test_demo_notice_lists_confirmed_events(store_url: str, tmp_path: Path) -> None:
    policy = NoticePolicy(issuer="示例银行", cc=["示例银行个人金融部"])
    paths = write_demo_notice(store_url, tmp_path, "b1", DAY, policy=policy)
    assert [p.suffix for p in paths] == [".docx", ".pdf"]
    assert all(p.is_file() and p.is_relative_to(tmp_path / "notices") for p in paths)
    text = re.sub(r"\s+", "", "".join(pdf_pages(paths[1])))
    assert "预览" not in text and "待审核" not in text
    assert "示例银行" in text and "抄送：示例银行个人金融部。" in text
