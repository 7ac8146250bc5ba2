"""Served stills and clips carry the viewer and time; the stored files and digests do not change."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import av
import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.orm import Session

from api.db.models import EventRecord
from api.db.session import make_engine
from tests.api.service.conftest import login
from tests.api.service.seed import Seeded


def _stored(store: Seeded, event_id: int) -> dict[str, str]:
    engine = make_engine(store.url)
    with Session(engine) as db:
        event = db.get(EventRecord, event_id)
        assert event is not None
        evidence = dict(event.evidence)
    engine.dispose()
    return evidence


def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"), np.int16)


def test_still_is_marked_per_viewer(client: TestClient, store: Seeded) -> None:
    event_id = store.own[0]
    evidence = _stored(store, event_id)
    stored = Path(evidence["still"]).read_bytes()
    login(client, "sup1")
    mine = client.get(f"/api/events/{event_id}/still.jpg")
    assert mine.status_code == 200 and mine.headers["content-type"] == "image/jpeg"
    assert mine.content != stored
    diff = np.abs(_pixels(mine.content) - _pixels(stored))
    height, width = diff.shape
    corner, middle = diff[height - 30 :, : width // 2], diff[height // 3 : 2 * height // 3, :]
    assert corner.max() > 60 and middle.mean() < 3  # a mark in the corner, the scene intact
    with TestClient(client.app) as other:  # type: ignore[arg-type]
        login(other, "admin")
        theirs = other.get(f"/api/events/{event_id}/still.jpg").content
    assert np.abs(_pixels(theirs) - _pixels(mine.content)).max() > 60  # another name
    assert _sha(evidence["still"]) == evidence["still_sha256"]


def test_clip_is_a_marked_playable_copy(client: TestClient, store: Seeded) -> None:
    event_id = store.own[0]
    evidence = _stored(store, event_id)
    login(client, "br1")
    first = client.get(f"/api/events/{event_id}/clip.mp4")
    again = client.get(f"/api/events/{event_id}/clip.mp4")
    assert first.status_code == 200 and first.content == again.content  # one copy per hour
    assert first.content != Path(evidence["clip"]).read_bytes()
    with av.open(io.BytesIO(first.content)) as served, av.open(evidence["clip"]) as original:
        served_frames = [f.to_ndarray(format="gray") for f in served.decode(video=0)]
        original_frames = [f.to_ndarray(format="gray") for f in original.decode(video=0)]
    assert len(served_frames) == len(original_frames) > 0
    diff = np.abs(served_frames[0].astype(np.int16) - original_frames[0].astype(np.int16))
    assert diff[-30:, : diff.shape[1] // 2].max() > 60
    assert _sha(evidence["clip"]) == evidence["clip_sha256"]
