"""Cost of the viewer's watermark on served evidence (issue 18).

A clip of ``--seconds`` at 1280x720, 10 fps (H.264, like the scan's clips) and a 1280x720 JPEG
still are generated once. In the same run it measures, median of ``--repeats``:

* ``clip_plain_s`` — re-encoding the clip with the clip encoder and no mark (the baseline);
* ``clip_marked_s`` — the same with the watermark drawn on every frame (what a viewer's first
  request for a clip in an hour costs; later requests that hour are served from the cache);
* ``mark_ms`` — drawing the mark on one 1280x720 frame;
* ``still_plain_ms`` / ``still_marked_ms`` — decoding and re-encoding the still, without and
  with the mark.

The last line is ``clip_plain_s=<f> clip_marked_s=<f> clip_overhead=<f> clip_x_realtime=<f>
mark_ms=<f> still_plain_ms=<f> still_marked_ms=<f>``.

Usage: ``python benchmarks/watermark.py [--seconds 30] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from api.service.watermark import MARKED_CLIP_STYLE, mark_image, mark_text, marked_still
from vision.clips import ClipSource, ClipSpan, write_clip

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FPS = 10
SIZE = (1280, 720)


def make_clip(path: Path, seconds: int) -> None:
    """A moving block over a textured background, H.264."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        yy, xx = np.mgrid[0 : SIZE[1], 0 : SIZE[0]]
        base = (((xx // 32 + yy // 32) % 2) * 80 + 60).astype(np.uint8)
        for i in range(seconds * FPS):
            image = np.dstack([base, base, base]).copy()
            x = (i * 9) % (SIZE[0] - 120)
            image[300:420, x : x + 120] = (40, 40, 220)
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bw-watermark-"))
    clip, still = folder / "clip.mp4", folder / "still.jpg"
    make_clip(clip, args.seconds)
    rng = np.random.default_rng(0)
    cv2.imwrite(str(still), rng.integers(0, 255, (SIZE[1], SIZE[0], 3), np.uint8))
    text = mark_text("sup1", datetime.now(UTC))
    end = EPOCH + timedelta(days=1)

    source, spans = ClipSource(clip, EPOCH), [ClipSpan(EPOCH, end)]

    def plain() -> None:
        write_clip(source, spans, folder / "plain.mp4", style=MARKED_CLIP_STYLE)

    def marked() -> None:
        write_clip(
            source,
            spans,
            folder / "marked.mp4",
            decorate=lambda f, _t, _s: mark_image(f, text),
            style=MARKED_CLIP_STYLE,
        )

    def still_plain() -> None:
        image = cv2.imread(str(still), cv2.IMREAD_COLOR)
        assert image is not None
        cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])

    pairs = [(median_time(plain, 1), median_time(marked, 1)) for _ in range(args.repeats)]
    clip_plain = statistics.median(p for p, _ in pairs)  # interleaved: a busy machine
    clip_marked = statistics.median(m for _, m in pairs)  # slows both alike
    frame = np.full((SIZE[1], SIZE[0], 3), 90, np.uint8)
    mark_ms = median_time(lambda: mark_image(frame, text), args.repeats * 50) * 1000
    still_plain_ms = median_time(still_plain, args.repeats * 5) * 1000
    still_marked_ms = (
        median_time(lambda: marked_still(still, "sup1", datetime.now(UTC)), args.repeats * 5) * 1000
    )
    print(f"clip {args.seconds} s {SIZE[0]}x{SIZE[1]} @{FPS} fps; still {SIZE[0]}x{SIZE[1]}")
    print(
        f"clip_plain_s={clip_plain:.2f} clip_marked_s={clip_marked:.2f} "
        f"clip_overhead={clip_marked / clip_plain:.2f} "
        f"clip_x_realtime={args.seconds / clip_marked:.1f} "
        f"mark_ms={mark_ms:.2f} still_plain_ms={still_plain_ms:.1f} "
        f"still_marked_ms={still_marked_ms:.1f}"
    )


if __name__ == "__main__":
    main()
