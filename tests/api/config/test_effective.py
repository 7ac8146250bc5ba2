"""Site rules: settings per branch and camera over the site's, and `branchwatch check` showing
the rules that apply to one camera."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli.main import app
from api.config import ConfigError, parse_config
from api.config.effective import effective_rules

CONFIG = """
version: 1
rules:
  LOBBY_MANAGER_ABSENT: {grace_s: 600}
  STAFF_PHONE_USE: {min_duration_s: 20}
branches:
  - id: east
    name: 城东支行
    rules:
      LOBBY_MANAGER_ABSENT:
        exempt: [{start: "12:00", end: "13:00"}]
    cameras:
      - id: lobby
        zones:
          - {id: tv, kind: screen, polygon: [[0, 0], [0.2, 0], [0.2, 0.2]]}
      - id: corridor
        rules:
          LOBBY_MANAGER_ABSENT: {enabled: false}
          STAFF_PHONE_USE: {min_duration_s: 60}
  - id: west
    name: 城西支行
    cameras: [{id: lobby}]
"""


def _rows(branch: str, camera: str) -> dict[str, tuple[str, dict[str, tuple[object, str]]]]:
    site = parse_config(CONFIG, "site.yaml")
    return {
        r.item: (r.status, {k: (v, layer) for k, v, layer in r.settings})
        for r in effective_rules(site, branch, camera)
    }


def test_branch_and_camera_settings_override_the_site() -> None:
    lobby = _rows("east", "lobby")
    status, settings = lobby["LOBBY_MANAGER_ABSENT"]
    assert status == "视频检查"
    assert settings["grace_s"] == (600.0, "站点")
    assert settings["exempt"] == ([{"start": "12:00:00", "end": "13:00:00"}], "网点")
    assert lobby["STAFF_PHONE_USE"][1]["min_duration_s"] == (20.0, "站点")
    assert lobby["SCREENS_OFF"][0] == "视频检查"
    assert lobby["UNIFORM"][0] == "人工检查项(未校准制服)"

    corridor = _rows("east", "corridor")
    assert corridor["LOBBY_MANAGER_ABSENT"][0] == "已停用(人工检查项)"
    assert corridor["STAFF_PHONE_USE"][1]["min_duration_s"] == (60.0, "摄像机")

    west = _rows("west", "lobby")
    assert "exempt" not in west["LOBBY_MANAGER_ABSENT"][1]
    assert west["SCREENS_OFF"][0] == "人工检查项(未划定多媒体屏区域)"


def test_branch_video_items_follow_its_cameras() -> None:
    site = parse_config(CONFIG, "site.yaml")
    east, west = site.branches
    assert "SCREENS_OFF" in site.branch_video_items(east)
    assert "LOBBY_MANAGER_ABSENT" in site.branch_video_items(east)  # on at the lobby camera
    assert "SCREENS_OFF" not in site.branch_video_items(west)


def test_a_bad_camera_setting_names_the_branch_and_camera() -> None:
    text = CONFIG.replace("{min_duration_s: 60}", "{min_duration_s: -1}")
    with pytest.raises(ConfigError, match=r"branch 'east' camera 'corridor'.*STAFF_PHONE_USE"):
        parse_config(text, "site.yaml")


def test_check_prints_the_effective_rules(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        app, ["check", "-c", str(path), "--branch", "east", "--camera", "corridor"]
    )
    assert result.exit_code == 0, result.output
    assert "east / corridor 生效规则" in result.output
    assert "min_duration_s=60.0 (摄像机)" in result.output
    assert "已停用(人工检查项)" in result.output
    missing = runner.invoke(app, ["check", "-c", str(path), "--branch", "east", "--camera", "x"])
    assert missing.exit_code == 2
    assert "has no camera 'x'; cameras: lobby, corridor" in missing.output
