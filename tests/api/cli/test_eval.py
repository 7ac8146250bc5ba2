"""``branchwatch eval`` on the committed labelled set, and its refusals."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli.main import app

runner = CliRunner(env={"COLUMNS": "400"})
LABELS = Path(__file__).resolve().parents[3] / "eval" / "labels.yaml"


def test_eval_on_the_set_prints_and_writes_both_methods(eval_run: tuple[Path, str]) -> None:
    path, output = eval_run
    assert "branchwatch eval — public-indoor-v1" in output
    assert "targets" in output
    result = json.loads(path.read_text(encoding="utf-8"))
    assert len(result["items"]) == 25
    assert result["settings"]["detector"]["model"] == "yolo11n-pose"
    for item in result["items"]:
        assert item["pipeline"]["failed"] is None, item["id"]
        assert item["baseline"]["failed"] is None, item["id"]
    # regression floors on this set (figures of the README table)
    desk = [i for i in result["items"] if i["id"].startswith("desk_visit_")]
    assert len(desk) == 6
    for item in desk:
        assert item["pipeline"]["events_all"]["f1"] >= 0.9, item["id"]
        assert item["pipeline"]["events_all"]["boundary_err_s"] <= 2.0, item["id"]
    total = result["totals"]["all"]
    assert total["pipeline"]["count_exact"]["rate"] >= 0.9
    assert total["pipeline"]["count_exact"]["n"] == total["baseline"]["count_exact"]["n"] > 90
    names = {t["name"] for t in result["targets"]}
    assert names == {
        "per-item presence event F1 (lowest item)",
        "person count exact",
        "seated people decided",
    }


def test_a_broken_label_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "labels.yaml"
    bad.write_text("name: x\nitems: [{id: a}]\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:2: items[0] (a).kind" in result.output
    assert "Traceback" not in result.output


def test_unknown_items_and_settings_are_refused() -> None:
    result = runner.invoke(app, ["eval", str(LABELS), "--only", "nope"])
    assert result.exit_code == 2
    assert "--only: no item nope" in result.output
    result = runner.invoke(app, ["eval", str(LABELS), "--sweep", "detector.size=1,2"])
    assert result.exit_code == 2
    assert "detector has no setting 'size'" in result.output
    result = runner.invoke(app, ["eval", str(LABELS), "--sweep", "detector.imgsz=100"])
    assert result.exit_code == 2
    assert "detector.imgsz=100" in result.output


def test_a_sweep_prints_one_row_per_value(tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    result = runner.invoke(
        app,
        [
            "eval",
            str(LABELS),
            "--only",
            "still_classroom_a",
            "--sweep",
            "detector.imgsz=320,640",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "sweep of detector.imgsz" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [r["value"] for r in data["runs"]] == ["320", "640"]
    assert [r["settings"]["detector"]["imgsz"] for r in data["runs"]] == [320, 640]
