"""The 规则质量 page and `branchwatch rules quality` over reviewed and missed events."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.cli.main import app
from api.service.app import create_app
from tests.api.service.conftest import login, make_settings
from tests.api.service.seed import Seeded


def test_quality_page_and_command(store: Seeded, tmp_path: Path) -> None:
    service = create_app(make_settings(store.url, evidence_dir=tmp_path / "ev"))
    with TestClient(service) as client:
        csrf = login(client, "sup1")
        guard, absent, phone = store.own
        headers = {"X-CSRF-Token": csrf}
        client.post(f"/api/events/{guard}/review", json={"action": "confirm"}, headers=headers)
        client.post(
            f"/api/events/{absent}/review",
            json={"action": "dismiss", "reason": "午休轮岗"},
            headers=headers,
        )
        missed = client.post(
            "/manual",
            data={
                "branch": "b1",
                "camera": "c1",
                "item": "GUARD_POSTURE",
                "at": "2026-11-20T09:30:20",
                "note": "规则漏报",
                "csrf_token": csrf,
            },
            follow_redirects=False,
        )
        assert missed.status_code == 303
        page = client.get("/quality").text
    service.state.engine.dispose()
    assert "规则质量" in page
    assert "100% (21%–100%)" in page  # GUARD_POSTURE: 1 of 1 confirmed
    assert "0% (0%–79%)" in page and "午休轮岗 ×1" in page
    result = CliRunner().invoke(app, ["rules", "quality", "--json", "--db", store.url])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["suggestions"] == []  # without --config there is nothing to re-run
    rows = {(r["item"], r["camera"]): r for r in body["rules"]}
    guard_row = rows[("GUARD_POSTURE", "c1")]
    assert (guard_row["confirmed"], guard_row["missed"], guard_row["precision"]) == (1, 1, 1.0)
    assert rows[("LOBBY_MANAGER_ABSENT", "c1")]["reasons"] == {"午休轮岗": 1}
    assert rows[("STAFF_PHONE_USE", "c1")]["pending"] == 1
