"""``branchwatch doctor``: what is installed and usable, a line for each missing piece."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import api.doctor
from api.cli.main import app
from api.doctor import Status, examine
from vision.fonts import FontMissing, ResolvedFont


def _by_name(db: str | None = None) -> dict[str, api.doctor.Finding]:
    return {f.name: f for f in examine(db)}


def test_installed_pieces_are_reported_with_their_checksums() -> None:
    found = _by_name()
    assert found["yolo11n-pose"].status is Status.OK
    assert "869e83fcdffdc7371fa4e34cd8e51c838cc729571d1635e5141e3075e9319dc0" in (
        found["yolo11n-pose"].detail
    )
    assert found["noto-sans-cjk-regular"].status is Status.OK
    assert "Noto Sans CJK SC" in found["noto-sans-cjk-regular"].detail
    for backend in ("PyTorch", "ONNX Runtime", "OpenVINO"):
        assert found[backend].status is Status.OK, found[backend]
    assert found["CUDA"].status in (Status.OK, Status.OPTIONAL)
    assert found["Ray"].status is Status.OK
    # The COCO object detector has no pinned hash: opt-in, not a fault of the install.
    assert found["yolo11n"].status is Status.OPTIONAL


def test_database_is_checked_only_when_given(tmp_path: Path) -> None:
    assert not [f for f in examine(None) if f.area == "database"]
    fresh = _by_name(f"sqlite:///{tmp_path}/new/bw.db")[f"sqlite:///{tmp_path}/new/bw.db"]
    assert fresh.status is Status.OK and "first scan creates it" in fresh.detail
    assert not (tmp_path / "new").exists()  # looking creates nothing
    down = [f for f in examine("postgresql+psycopg://nobody@127.0.0.1:9/x") if f.area == "database"]
    assert down[0].status is Status.MISSING and "Connection refused" in down[0].detail


def test_missing_pieces_exit_1_with_a_line_each(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_font(name: str) -> ResolvedFont:
        raise FontMissing(f"font {name} not found; reinstall branchwatch")

    monkeypatch.setattr(api.doctor, "locate_font", no_font)
    result = CliRunner().invoke(app, ["doctor", "--db", "notaurl"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any("missing" in line and "noto-sans-cjk-regular" in line for line in lines)
    assert any("missing" in line and "invalid database URL 'notaurl'" in line for line in lines)
    assert lines[-1].startswith("missing: noto-sans-cjk-regular, noto-sans-cjk-bold, notaurl")


def test_install_hints_are_printed_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    real = api.doctor._version
    monkeypatch.setattr(api.doctor, "_version", lambda d: None if d == "ray" else real(d))
    result = CliRunner().invoke(app, ["doctor"])
    assert "pip install 'branchwatch[ray]'" in result.stdout
