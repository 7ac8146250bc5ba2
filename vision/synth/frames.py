"""Rendering a camera script into frames.

The background is drawn once; the static layer (background, current screen slides, props) is
recomposed only when a slide changes or a prop comes or goes. Each frame copies the static layer
and blends the actors' sprites, which are scaled once per height bucket and cached. A frame whose
inputs (static layer, actor sprites and pixel positions, quantised gain) equal the previous
frame's is not drawn again. Camera faults (:class:`~vision.synth.script.CameraFaults`) are
applied last: a turned camera warps the whole picture by the homography of a pan, a black
stretch is black, a frozen stretch repeats the picture of its first frame.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vision.synth.people import make_sprite
from vision.synth.props import prop_sprite
from vision.synth.scene import gain_lut, render_background, slide
from vision.synth.script import Actor, CameraFaults, CameraScript, Prop, Screen
from vision.synth.sprite import Sprite, blend_sprite

logger = logging.getLogger(__name__)

HEIGHT_STEP_PX = 2
"""Drawn heights are rounded to this step so sprites are reused while people walk."""

GAIN_STEPS = 256
"""The lighting gain is quantised to ``1 / GAIN_STEPS``."""

_CHUNK = 250
"""Frames whose actor positions are computed together."""


@dataclass(frozen=True, slots=True)
class Placement:
    """A sprite at a pixel position: ``(x, y)`` is its top-left corner in the frame."""

    sprite: Sprite
    x: int
    y: int

    def box(self, width: int, height: int) -> tuple[int, int, int, int] | None:
        """Tight pixel box of the drawn sprite clipped to the frame, or ``None`` if off-frame."""
        bx0, by0, bx1, by1 = self.sprite.bbox
        x0, y0 = max(0, self.x + bx0), max(0, self.y + by0)
        x1, y1 = min(width, self.x + bx1), min(height, self.y + by1)
        if x0 >= x1 or y0 >= y1:
            return None
        return x0, y0, x1, y1


def actor_heights(
    script: CameraScript,
    actor: Actor,
    feet_y: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64]:
    """Drawn heights in pixels at the given feet rows (perspective, then bucketed).

    Args:
        script: The camera script (frame height and ``depth_scale``).
        actor: The actor.
        feet_y: Feet rows in 0–1.

    Returns:
        Heights in pixels, multiples of :data:`HEIGHT_STEP_PX`, at least 8.
    """
    scale = 1.0 - script.depth_scale * (1.0 - np.clip(feet_y, 0.0, 1.0))
    px = actor.height_frac * script.height * scale
    return np.maximum(8, np.round(px / HEIGHT_STEP_PX).astype(np.int64) * HEIGHT_STEP_PX)


def place_actors(
    script: CameraScript,
    t: npt.NDArray[np.float64],
) -> list[list[Placement | None]]:
    """Where every actor is drawn at times ``t``.

    Args:
        script: The camera script.
        t: Times in seconds.

    Returns:
        For each actor (script order), one placement per time, ``None`` where the actor is not
        shown.
    """
    out: list[list[Placement | None]] = []
    for actor in script.actors:
        xy = actor.positions(t)
        heights = actor_heights(script, actor, xy[:, 1])
        feet_x = np.round(xy[:, 0] * script.width).astype(np.int64)
        feet_y = np.round(xy[:, 1] * script.height).astype(np.int64)
        shown = actor.shown(t)
        row: list[Placement | None] = []
        for i in range(len(t)):
            if not shown[i]:
                row.append(None)
                continue
            sprite = make_sprite(
                actor.sprite, int(heights[i]), actor.flip, actor.upper_body, actor.uniform_bgr
            )
            row.append(
                Placement(
                    sprite, int(feet_x[i]) - sprite.anchor[0], int(feet_y[i]) - sprite.anchor[1]
                )
            )
        out.append(row)
    return out


def _px_box(
    script: CameraScript,
    box: tuple[float, float, float, float],
) -> tuple[int, int, int, int]:
    w, h = script.width, script.height
    return round(box[0] * w), round(box[1] * h), round(box[2] * w), round(box[3] * h)


def pan_homography(faults: CameraFaults, width: int, height: int) -> npt.NDArray[np.float64]:
    """Homography mapping the fitted view onto the view of the camera panned by
    ``faults.turn_deg`` (``K R K⁻¹`` of a rotation about the vertical axis).

    Example:
        >>> h = pan_homography(CameraFaults(turn_at_s=0, turn_deg=5.0), 640, 360)
        >>> x, y, z = h @ np.array([320.0, 180.0, 1.0])  # the centre moves 28 px to the left
        >>> round(float(x / z), 1), round(float(y / z), 1)
        (292.0, 180.0)
    """
    f = (width / 2) / np.tan(np.radians(faults.hfov_deg) / 2)
    k = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1]], np.float64)
    a = np.radians(faults.turn_deg)
    r = np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]], np.float64)
    return np.asarray(k @ r @ np.linalg.inv(k), np.float64)


def place_prop(script: CameraScript, prop: Prop) -> Placement:
    """Where a prop is drawn (fitted into its box, standing on the box bottom)."""
    sprite, (x, y) = prop_sprite(prop.image, _px_box(script, prop.box))
    return Placement(sprite, x, y)


class FrameRenderer:
    """Renders frames of one script; frames are returned read-only and may be shared.

    Example:
        >>> from datetime import datetime, timezone
        >>> from vision.synth.scene import SceneLayout
        >>> s = CameraScript(camera="c", width=96, height=64, duration_s=1,
        ...                  start=datetime(2026, 1, 1, tzinfo=timezone.utc), seed=0,
        ...                  layout=SceneLayout(horizon=0.5, vanish=(0.5, 0.1)))
        >>> FrameRenderer(s).frame(0).shape
        (64, 96, 3)
    """

    def __init__(self, script: CameraScript) -> None:
        self.script = script
        self.background = render_background(script.layout, script.width, script.height, script.seed)
        self._static_key: tuple[object, ...] | None = None
        self._static = self.background
        self._frame_key: tuple[object, ...] | None = None
        self._frame = self.background
        self._pan = pan_homography(script.faults, script.width, script.height)
        self._held: tuple[float, npt.NDArray[np.uint8]] | None = None
        self._black = np.zeros((script.height, script.width, 3), np.uint8)
        self._black.flags.writeable = False

    def _static_layer(self, t: float) -> tuple[tuple[object, ...], npt.NDArray[np.uint8]]:
        slides = []
        for screen in self.script.screens:
            off = any(t0 <= t < t1 for t0, t1 in screen.off)
            slides.append(-1 if off else int(t // screen.period_s))
        props = tuple(i for i, p in enumerate(self.script.props) if p.t0 <= t < p.t1)
        key = (tuple(slides), props)
        if key != self._static_key:
            layer = self.background.copy()
            for screen, index in zip(self.script.screens, slides, strict=True):
                self._draw_screen(layer, screen, index)
            for i in props:
                placed = place_prop(self.script, self.script.props[i])
                blend_sprite(layer, placed.sprite, placed.x, placed.y)
            layer.flags.writeable = False
            self._static_key, self._static = key, layer
        return key, self._static

    def empty_view(self) -> npt.NDArray[np.uint8]:
        """The fitted view with nobody and nothing left in it, as at opening.

        What an installer photographs to mark a camera's clean reference (``branchwatch
        reference set``): background and screens at ``t = 0``, no actors, no props.
        """
        layer = self.background.copy()
        for screen in self.script.screens:
            self._draw_screen(layer, screen, 0)
        return layer

    def _draw_screen(self, layer: npt.NDArray[np.uint8], screen: Screen, index: int) -> None:
        """Draw slide ``index`` of a screen into ``layer`` (a negative index: screen off)."""
        x0, y0, x1, y1 = _px_box(self.script, screen.box)
        if index < 0:
            layer[y0:y1, x0:x1] = (layer[y0:y1, x0:x1] // 8) + 6
        else:
            layer[y0:y1, x0:x1] = slide(self.script.seed, screen.id, index, (x1 - x0, y1 - y0))

    def frame(self, index: int) -> npt.NDArray[np.uint8]:
        """Frame ``index`` (time ``index / fps``) as a read-only BGR ``uint8`` array."""
        return next(self.iter_frames(index, index + 1))

    def iter_frames(self, start: int, stop: int) -> Iterator[npt.NDArray[np.uint8]]:
        """Frames ``start`` … ``stop - 1`` in order (actors are placed in vectorised chunks).

        Raises:
            IndexError: If the range is outside the script.
        """
        script = self.script
        if not 0 <= start <= stop <= script.frame_count:
            raise IndexError(
                f"camera {script.camera!r}: frames {start}–{stop} are outside "
                f"0–{script.frame_count}"
            )
        for chunk in range(start, stop, _CHUNK):
            idx = np.arange(chunk, min(stop, chunk + _CHUNK))
            t = idx / script.fps
            placed = place_actors(script, t)
            for i, ti in enumerate(t):
                yield self._recorded(float(ti), [row[i] for row in placed])

    def _recorded(self, t: float, placements: list[Placement | None]) -> npt.NDArray[np.uint8]:
        """The frame at ``t`` as the (possibly faulty) camera records it."""
        faults = self.script.faults
        if faults.is_black(t):
            return self._black
        since = faults.frozen_since(t)
        if since is not None and self._held is not None and self._held[0] == since:
            return self._held[1]
        frame = self.compose(t, placements)
        if faults.turned(t):
            h, w = frame.shape[:2]
            frame = np.asarray(
                cv2.warpPerspective(frame, self._pan, (w, h), borderMode=cv2.BORDER_REFLECT),
                np.uint8,
            )
            frame.flags.writeable = False
        if since is not None:
            self._held = (since, frame)
        return frame

    def compose(self, t: float, placements: list[Placement | None]) -> npt.NDArray[np.uint8]:
        """Draw the frame at time ``t`` given each actor's placement (script order)."""
        static_key, layer = self._static_layer(t)
        gain = float(self.script.lighting.gain(np.array([t]))[0])
        gain_q = round(gain * GAIN_STEPS)
        drawn = [
            (p.y + p.sprite.anchor[1], i, p) for i, p in enumerate(placements) if p is not None
        ]
        drawn.sort(key=lambda item: (item[0], item[1]))
        key = (static_key, gain_q, tuple((p.sprite, p.x, p.y) for _, _, p in drawn))
        if key == self._frame_key:
            return self._frame
        frame = layer.copy()
        for _, _, p in drawn:
            blend_sprite(frame, p.sprite, p.x, p.y)
        if gain_q != GAIN_STEPS:
            frame = np.asarray(cv2.LUT(frame, gain_lut(gain_q / GAIN_STEPS)), np.uint8)
        frame.flags.writeable = False
        self._frame_key, self._frame = key, frame
        return frame
