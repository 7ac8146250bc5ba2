"""``api.scan.evidence``: the still and clip of an event, their digests, speed-ups, problems."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path

import av
import pytest

from api.config import EvidenceConfig
from api.scan.evidence import (
    EvidenceProblem,
    EvidenceSource,
    clip_spans,
    write_event_clip,
    write_evidence,
)
from rules.types import Event
from tests.api.service.seed import SOURCE_S, START, write_source_video, write_timeline
from vision.clips import ClipSource
from vision.config import CameraConfig


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> EvidenceSource:
    folder = tmp_path_factory.mktemp("evidence")
    write_source_video(folder / "export.mp4")
    timeline = write_timeline(folder / "timeline.npz")
    return EvidenceSource(
        ClipSource(folder / "export.mp4", START),
        START + timedelta(seconds=SOURCE_S),
        timeline,
        CameraConfig(id="c1"),
        folder,
    )


def _event(start_s: float, end_s: float) -> Event:
    return Event(
        item="GUARD_POSTURE", branch="b1", camera="c1", rule_version="1",
        start=START + timedelta(seconds=start_s), end=START + timedelta(seconds=end_s),
        evidence_ts=START + timedelta(seconds=(start_s + end_s) / 2),
    )  # fmt: skip


def _at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("start_s", "end_s", "clip_start_s", "clip_end_s"),
    [
        (10, 14, 5, 19),  # five seconds of context on each side
        (1, 3, 0, 8),  # no context before the start of the file
        (22, 27, 17, 30),  # nor after its end
    ],
)
def test_clip_window_and_digest(
    source: EvidenceSource,
    tmp_path: Path,
    start_s: float,
    end_s: float,
    clip_start_s: float,
    clip_end_s: float,
) -> None:
    here = EvidenceSource(
        source.export, source.export_end, source.timeline, source.camera, tmp_path
    )
    record = write_event_clip(_event(start_s, end_s), here, EvidenceConfig())
    path = Path(record.fields["clip"])
    assert record.fields["clip_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert datetime.fromisoformat(record.fields["clip_start"]) == _at(clip_start_s)
    end = datetime.fromisoformat(record.fields["clip_end"])
    assert abs((end - START).total_seconds() - clip_end_s) < 0.11
    assert record.cost.written == 1 and record.cost.seconds > 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert stream.frames == pytest.approx((clip_end_s - clip_start_s) * 10, abs=1)


def test_long_events_are_sped_up_to_fit(source: EvidenceSource) -> None:
    """A 20-minute absence: 5 s before and after in real time, the 20 minutes at 66×."""
    long_source = EvidenceSource(
        ClipSource(source.export.path, START), _at(3600), source.timeline, source.camera, Path()
    )
    config = EvidenceConfig()
    spans = clip_spans(_event(600, 1800), long_source, config)
    assert [(s.t0, s.t1) for s in spans] == [
        (_at(595), _at(600)),
        (_at(600), _at(1800)),
        (_at(1800), _at(1805)),
    ]
    assert [s.speed for s in spans] == [1.0, pytest.approx(1200 / 18), 1.0]
    played = sum((s.t1 - s.t0).total_seconds() / s.speed for s in spans)
    assert played == pytest.approx(config.max_clip_s) and played < 30


def test_sped_up_clip_plays_in_its_budget(source: EvidenceSource, tmp_path: Path) -> None:
    here = EvidenceSource(
        source.export, source.export_end, source.timeline, source.camera, tmp_path
    )
    config = EvidenceConfig(before_s=2, after_s=2, max_clip_s=8)
    record = write_event_clip(_event(3, 27), here, config)
    assert record.fields["clip_speed"] == pytest.approx(6.0)
    assert record.fields["clip_s"] <= 8.0
    with av.open(record.fields["clip"]) as container:
        stream = container.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        assert float(stream.duration * stream.time_base) <= 8.0


def test_missing_export_is_a_named_problem(source: EvidenceSource, tmp_path: Path) -> None:
    gone = EvidenceSource(
        ClipSource(tmp_path / "gone.mp4", START),
        source.export_end,
        source.timeline,
        source.camera,
        tmp_path,
    )
    record = write_evidence(_event(10, 14), gone, EvidenceConfig())
    assert record.fields["clip_problem"] == EvidenceProblem.SOURCE_MISSING.value
    assert record.fields["still_problem"] == EvidenceProblem.SOURCE_MISSING.value
    assert "gone.mp4" in record.fields["clip_problem_detail"]
    assert "clip" not in record.fields and record.cost.failed == 1


def test_a_range_outside_the_export_is_a_named_problem(
    source: EvidenceSource, tmp_path: Path
) -> None:
    """The stored end says 60 s but the file holds 30 s (cut short)."""
    short = EvidenceSource(source.export, _at(60), source.timeline, source.camera, tmp_path)
    record = write_event_clip(_event(45, 50), short, EvidenceConfig())
    assert record.fields["clip_problem"] == EvidenceProblem.NO_FRAMES.value
