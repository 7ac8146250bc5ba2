"""The notice lifecycle without a browser: who may take which step, due dates, overdue, history."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from docx import Document
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.auth import Principal, Role
from api.db.loop_models import NoticeCase
from api.db.models import Notice
from api.db.session import make_engine, session_scope
from api.notices import generate_notice
from api.notices.lifecycle import (
    RectificationSettings,
    StepConflict,
    StepInvalid,
    StepNotAllowed,
    acknowledge,
    answer_notice,
    branch_today,
    decide_answer,
    issue_notice,
)
from api.reports import report_data, write_report
from rules.calendar import add_working_days
from tests.api.notices.conftest import ISSUED, pdf_pages
from tests.api.rectification.conftest import PERIOD, Loop
from tests.api.service.conftest import login

SUP = Principal(
    user_id=2,
    username="sup1",
    display_name="王督导",
    role=Role.SUPERVISOR,
    branches=frozenset({"b1"}),
)
SUP2 = Principal(
    user_id=3,
    username="sup2",
    display_name="李督导",
    role=Role.SUPERVISOR,
    branches=frozenset({"b2"}),
)
BR1 = Principal(
    user_id=4, username="br1", display_name="城东网点", role=Role.BRANCH, branches=frozenset({"b1"})
)
BR2 = Principal(
    user_id=5, username="br2", display_name="城西网点", role=Role.BRANCH, branches=frozenset({"b2"})
)
SETTINGS = RectificationSettings(answer_working_days=5)


def _issue(db: Session, loop: Loop) -> NoticeCase:
    notice = db.get(Notice, loop.notice_id)
    assert notice is not None
    return issue_notice(db, SUP, notice, loop.event_ids, SETTINGS, "127.0.0.1")


def test_steps_are_taken_by_the_right_accounts(loop: Loop) -> None:
    engine = make_engine(loop.url)
    with session_scope(engine) as db:
        notice = db.get(Notice, loop.notice_id)
        assert notice is not None
        with pytest.raises(StepNotAllowed):
            issue_notice(db, SUP2, notice, loop.event_ids, SETTINGS, "")
        case = _issue(db, loop)
        assert case.due_date == add_working_days(branch_today(db, "b1"), 5)
        with pytest.raises(StepConflict):
            _issue(db, loop)
        with pytest.raises(StepNotAllowed):
            acknowledge(db, SUP, case, "")
        with pytest.raises(StepNotAllowed):
            acknowledge(db, BR2, case, "")
        texts = {e: "已整改" for e in loop.event_ids}
        with pytest.raises(StepInvalid):
            answer_notice(db, BR1, case, {**texts, loop.event_ids[0]: " "}, {}, "")
        with pytest.raises(StepInvalid):
            answer_notice(db, BR1, case, {**texts, 999: "x"}, {}, "")
        with pytest.raises(StepConflict):
            decide_answer(db, SUP, case, close=True, reason="", ip="")
        answer_notice(db, BR1, case, texts, {}, "")
        assert case.state == "answered" and case.acknowledged_at is not None
        with pytest.raises(StepConflict):
            answer_notice(db, BR1, case, texts, {}, "")
        with pytest.raises(StepInvalid):
            decide_answer(db, SUP, case, close=False, reason=" ", ip="")
        with pytest.raises(StepNotAllowed):
            decide_answer(db, SUP2, case, close=True, reason="", ip="")
        decide_answer(db, SUP, case, close=False, reason="未附照片", ip="")
        assert case.state == "returned"
    engine.dispose()


def test_overdue_is_counted_on_the_overview(loop: Loop, app: FastAPI) -> None:
    engine = make_engine(loop.url)
    with session_scope(engine) as db:
        case = _issue(db, loop)
        case_id = case.id
    with Session(engine) as db:
        db.execute(
            update(NoticeCase)
            .where(NoticeCase.id == case_id)
            .values(due_date=date.today() - timedelta(days=3))
        )
        db.commit()
    engine.dispose()
    with TestClient(app) as client:
        login(client, "sup1")
        home = client.get("/", params={"period": "2026-11"})
        assert 'data-overdue="1"' in home.text and "逾期未回复的整改通知书共 1 份" in home.text
        listing = client.get("/rectification")
        assert f'class="overdue" data-case="{case_id}"' in listing.text
        assert client.get(f"/api/rectification/{case_id}").json()["overdue"] is True
    with TestClient(app) as client:
        login(client, "sup2")
        assert 'data-overdue="1"' not in client.get("/").text


def test_reissued_notice_prints_the_answer_history(loop: Loop, tmp_path: Path) -> None:
    engine = make_engine(loop.url)
    with session_scope(engine) as db:
        case = _issue(db, loop)
        texts = {e: f"更换座椅并培训（{e}）" for e in loop.event_ids}
        answer_notice(db, BR1, case, texts, {}, "")
        decide_answer(db, SUP, case, close=False, reason="缺少整改后照片", ip="")
        answer_notice(db, BR1, case, texts, {}, "")
        decide_answer(db, SUP, case, close=True, reason="", ip="")
    with session_scope(engine) as db:
        again = generate_notice(db, "b1", PERIOD, tmp_path / "reissue", issued=ISSUED)
        assert db.scalars(select(NoticeCase)).one().state == "closed"
    engine.dispose()
    assert again.content.version == 2 and len(again.content.history) == 2
    pdf = re.sub(r"\s+", "", "".join(pdf_pages(again.paths["pdf"])))  # lines wrap
    assert "整改回复记录" in pdf and "缺少整改后照片" in pdf and "验收通过" in pdf
    docx = "\n".join(p.text for p in Document(str(again.paths["docx"])).paragraphs)
    assert "第1次回复" in docx and "第2次回复" in docx and "退回，原因：缺少整改后照片" in docx
    html = again.paths["html"].read_text(encoding="utf-8")
    assert html.count('class="history"') == 2


def test_overdue_is_counted_in_the_management_report(loop: Loop, tmp_path: Path) -> None:
    engine = make_engine(loop.url)
    with session_scope(engine) as db:
        case = _issue(db, loop)
        data = report_data(db, "psbc", "2026-11")
        assert data.overdue == {}
        case.due_date = date.today() - timedelta(days=1)
        db.flush()
        data = report_data(db, "psbc", "2026-11")
    engine.dispose()
    assert data.overdue == {"b1": 1}
    path = write_report(data, tmp_path / "report.pdf", issued=ISSUED)
    text = re.sub(r"\s+", "", "".join(pdf_pages(path)))
    assert "逾期未回复的整改通知书共1份：城东支行1份" in text


def test_bad_uploads_are_refused_and_nothing_is_stored(loop: Loop, app: FastAPI) -> None:
    engine = make_engine(loop.url)
    with session_scope(engine) as db:
        case_id = _issue(db, loop).id
    engine.dispose()
    first = loop.event_ids[0]
    texts = {f"text_{e}": "已整改" for e in loop.event_ids}
    with TestClient(app) as client:
        csrf = login(client, "br1")
        url = f"/rectification/{case_id}/answer"
        fake = {f"photos_{first}": ("fix.jpg", b"%PDF-1.4 not an image", "image/jpeg")}
        refused = client.post(url, data={**texts, "csrf_token": csrf}, files=fake)
        assert refused.status_code == 422 and "不是可读取的图片" in refused.text
        gif = io.BytesIO()
        Image.new("RGB", (8, 8)).save(gif, "GIF")
        as_gif = {f"photos_{first}": ("fix.gif", gif.getvalue(), "image/gif")}
        refused = client.post(url, data={**texts, "csrf_token": csrf}, files=as_gif)
        assert refused.status_code == 422 and "JPEG、PNG 或 WebP" in refused.text
        ok_photo = io.BytesIO()
        Image.new("RGB", (64, 48), (10, 200, 10)).save(ok_photo, "PNG")
        missing_text = {**texts, f"text_{first}": ""}
        photo = {f"photos_{first}": ("fix.png", ok_photo.getvalue(), "image/png")}
        refused = client.post(url, data={**missing_text, "csrf_token": csrf}, files=photo)
        assert refused.status_code == 422 and "请填写每项问题的整改情况" in refused.text
        assert not loop.photo_dir.exists() or not any(loop.photo_dir.rglob("*.jpg"))
        with TestClient(app) as sup:
            sup_csrf = login(sup, "sup1")
            assert sup.post(url, data={**texts, "csrf_token": sup_csrf}).status_code == 403
        done = client.post(
            url, data={**texts, "csrf_token": csrf}, files=photo, follow_redirects=False
        )
        assert done.status_code == 303
        assert client.get(f"/api/rectification/{case_id}").json()["state"] == "answered"
    assert len(list(loop.photo_dir.rglob("*.jpg"))) == 1
