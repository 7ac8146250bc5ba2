"""``branchwatch notices`` and ``branchwatch report``."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from api.cli.notices import notices, report
from api.cli.score import score

app = typer.Typer()
app.command()(notices)
app.command()(report)
app.command()(score)


def test_notices_command_writes_files(store_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "notices",
            "--period",
            "2026-11-20",
            "--branch",
            "b1",
            "--out",
            str(tmp_path),
            "--db",
            store_url,
        ],
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / "b1" / "2026-11-20" / "v1"
    assert sorted(p.suffix for p in folder.iterdir()) == [".docx", ".html", ".pdf"]
    assert "整改〔" in result.output


def test_bad_period_is_a_usage_error(store_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["report", "--period", "2026-13", "--out", str(tmp_path), "--db", store_url]
    )
    assert result.exit_code == 2 and "2026-13" in result.output


def test_unknown_branch_is_a_usage_error(store_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "notices",
            "--period",
            "2026-11",
            "--branch",
            "nope",
            "--out",
            str(tmp_path),
            "--db",
            store_url,
        ],
    )
    assert result.exit_code == 2 and "nope" in result.output


def test_score_of_an_unknown_branch_names_the_stored_ones(store_url: str) -> None:
    """Like ``events export --branch``: an unknown branch is an error, not an empty table."""
    result = CliRunner().invoke(
        app, ["score", "--period", "2026-11", "--branch", "nosuch", "--db", store_url]
    )
    assert result.exit_code == 2
    assert "no branch 'nosuch' in the database (branches: b1, b2)" in result.output


def test_score_shows_no_minus_zero(store_url: str) -> None:
    result = CliRunner().invoke(
        app, ["score", "--period", "2026-11-20", "--preview", "--db", store_url]
    )
    assert result.exit_code == 0, result.output
    assert "-0 " not in result.output and "-0\n" not in result.output
