"""``api.evidence.write_event_clip``: the clip of a stored event, with its sha256."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import av
import pytest

from api.evidence import write_event_clip
from rules.types import Event
from tests.api.service.seed import SOURCE_S, START, write_source_video, write_timeline
from vision.timeline import ObservationTimeline


@pytest.fixture(scope="module")
def footage(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[SimpleNamespace, ObservationTimeline]:
    folder = tmp_path_factory.mktemp("evidence")
    write_source_video(folder / "export.mp4")
    timeline = write_timeline(folder / "timeline.npz")
    video = SimpleNamespace(
        path=str(folder / "export.mp4"), start_ts=START, end_ts=START + timedelta(seconds=SOURCE_S)
    )
    return video, timeline


def _event(start_s: float, end_s: float) -> Event:
    return Event(
        item="GUARD_POSTURE", branch="b1", camera="c1", rule_version="1",
        start=START + timedelta(seconds=start_s), end=START + timedelta(seconds=end_s),
        evidence_ts=START + timedelta(seconds=(start_s + end_s) / 2),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("start_s", "end_s", "clip_start_s", "clip_end_s"),
    [
        (10, 14, 6, 18),  # four seconds of context on each side
        (1, 3, 0, 7),  # no context before the start of the file
        (25, 29, 21, 30),  # nor after its end
        (0, 30, 5, 25),  # long events: max_s around the evidence time
    ],
)
def test_clip_window_and_digest(
    footage: tuple[SimpleNamespace, ObservationTimeline],
    tmp_path: Path,
    start_s: float,
    end_s: float,
    clip_start_s: float,
    clip_end_s: float,
) -> None:
    video, timeline = footage
    record = write_event_clip(_event(start_s, end_s), video, timeline, tmp_path, max_s=20)
    path = Path(record["clip"])
    assert record["clip_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert datetime.fromisoformat(record["clip_start"]) == START + timedelta(seconds=clip_start_s)
    end = datetime.fromisoformat(record["clip_end"])
    assert abs((end - START).total_seconds() - clip_end_s) < 0.11
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.frames == pytest.approx((clip_end_s - clip_start_s) * 10, abs=1)


def test_unreadable_footage_gives_no_clip(
    footage: tuple[SimpleNamespace, ObservationTimeline], tmp_path: Path
) -> None:
    video, timeline = footage
    gone = SimpleNamespace(
        path=str(tmp_path / "gone.mp4"), start_ts=video.start_ts, end_ts=video.end_ts
    )
    assert write_event_clip(_event(10, 14), gone, timeline, tmp_path) == {}
