"""Evidence clip cost (issue 15): every event of a demo run re-cut the way the scan cuts it,
against a baseline in the same run that decodes every frame of the stretch and encodes every
source frame (no keyframe-only speed-ups, no frame-rate cap, no seeks).

Input is the folder of a finished ``branchwatch demo`` (its store, footage and config); clips
go to a temporary folder, the demo's own clips are left alone. The machine load
(``/proc/loadavg``) is printed before and after: on a shared machine the figures move with it.

Run: ``python benchmarks/clips.py [--demo branchwatch-demo]``. The last line is
``clips=… clip_s_mean=… baseline_s_mean=… speedup=… decoded_frames_ratio=…``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from api.config import load_config
from api.db.models import EventRecord
from api.db.session import make_engine, session_scope
from api.scan.backfill import as_event
from api.scan.evidence import EvidenceSource, clip_spans
from vision import clips
from vision.clips import ClipStyle, FaceTrack, write_clip
from vision.timeline import ObservationTimeline


def _load() -> str:
    return Path("/proc/loadavg").read_text().split(" ")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo", type=Path, default=Path("branchwatch-demo"))
    args = parser.parse_args()
    site = load_config(args.demo / "branchwatch.yaml")
    engine = make_engine(f"sqlite:///{args.demo / 'branchwatch.db'}")
    with session_scope(engine) as session:
        records = list(
            session.scalars(
                select(EventRecord)
                .where(EventRecord.video_id.is_not(None))
                .options(selectinload(EventRecord.video))
            )
        )
    engine.dispose()
    style = ClipStyle(
        max_width=site.evidence.max_width, crf=site.evidence.crf, fast_fps=site.evidence.fast_fps
    )
    baseline = dataclasses.replace(style, max_fps=1000.0)
    print(f"load before: {_load()}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for record in records:
            video = record.video
            if video is None or not video.timeline_path:
                continue
            camera = site.branch(record.branch_id).camera(record.camera_id)
            timeline = ObservationTimeline.load(Path(video.timeline_path))
            source = EvidenceSource.of_video(video, timeline, camera, Path(tmp))
            if source is None:
                continue
            event = as_event(record)
            spans = clip_spans(event, source, site.evidence)
            faces = FaceTrack.from_timeline(
                timeline, spans[0].t0.timestamp(), spans[-1].t1.timestamp()
            )
            t0 = time.perf_counter()
            ours = write_clip(source.export, spans, Path(tmp) / "a.mp4", faces.blur, style)
            ours_s = time.perf_counter() - t0
            snap, gap = clips.KEYFRAME_SNAP, clips.SEEK_GAP_S
            clips.KEYFRAME_SNAP, clips.SEEK_GAP_S = 0.0, math.inf
            try:
                t0 = time.perf_counter()
                base = write_clip(source.export, spans, Path(tmp) / "b.mp4", faces.blur, baseline)
                base_s = time.perf_counter() - t0
            finally:
                clips.KEYFRAME_SNAP, clips.SEEK_GAP_S = snap, gap
            rows.append((record.item, event.duration_s, ours, ours_s, base, base_s))
            print(
                f"{record.item:24s} event {event.duration_s:6.0f} s  clip {ours.duration_s:5.1f} s "
                f"speed {max(s.speed for s in spans):5.2f}  ours {ours_s:6.2f} s "
                f"({ours.decoded} decoded, {ours.frames} shown)  baseline {base_s:6.2f} s "
                f"({base.decoded} decoded, {base.frames} shown)"
            )
    print(f"load after: {_load()}")
    n = len(rows)
    ours_mean = sum(r[3] for r in rows) / max(n, 1)
    base_mean = sum(r[5] for r in rows) / max(n, 1)
    decoded = sum(r[2].decoded for r in rows) / max(1, sum(r[4].decoded for r in rows))
    print(
        f"clips={n} clip_s_mean={ours_mean:.2f} baseline_s_mean={base_mean:.2f} "
        f"speedup={base_mean / ours_mean if ours_mean else 0:.2f} "
        f"decoded_frames_ratio={decoded:.2f}"
    )


if __name__ == "__main__":
    main()
