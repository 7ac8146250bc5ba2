"""Procedural bank-branch backgrounds, screen slideshows and the lighting ramp.

A :class:`SceneLayout` places the fit-out (wall, tiled floor seen in perspective, service counters
with glass windows, desks, doors, a banner, posters and screen bezels) in 0–1 coordinates, so the
same layout renders at any resolution and the zone polygons of a camera can be derived from it.
Texture comes from real photos in ``skimage.data`` (gravel for stone, grass for plaster) plus
smooth noise drawn from the seed; everything is deterministic for a given seed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
import numpy.typing as npt

from vision.synth.props import NormBox, load_prop, skimage_photo

logger = logging.getLogger(__name__)

BGR = tuple[int, int, int]
Image = npt.NDArray[np.uint8]
FloatImage = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True, kw_only=True)
class Counter:
    """A service counter seen from the customer side.

    Attributes:
        x0: Left end.
        x1: Right end.
        top: Row of the front edge of the counter top (tellers are cut off here).
        bottom: Row where the front panel meets the floor.
        glass_top: Row of the top of the glass partition above the counter.
        windows: Number of service windows, evenly spaced and numbered from 1, left to right.
    """

    x0: float
    x1: float
    top: float
    bottom: float
    glass_top: float
    windows: int

    def window_span(self, index: int) -> tuple[float, float]:
        """Horizontal extent ``(x0, x1)`` of window ``index`` (0-based)."""
        if not 0 <= index < self.windows:
            raise IndexError(f"counter has {self.windows} windows, no window index {index}")
        step = (self.x1 - self.x0) / self.windows
        return (self.x0 + index * step, self.x0 + (index + 1) * step)


@dataclass(frozen=True, slots=True, kw_only=True)
class Desk:
    """A free-standing desk: its top surface and front panel.

    Attributes:
        x0: Left end of the front edge.
        x1: Right end of the front edge.
        back: Row of the back edge of the top surface.
        front: Row of the front edge of the top surface (objects stand on ``back``…``front``).
        bottom: Row where the front panel meets the floor.
    """

    x0: float
    x1: float
    back: float
    front: float
    bottom: float


@dataclass(frozen=True, slots=True, kw_only=True)
class SceneLayout:
    """Where the fit-out of a view is, in 0–1 image coordinates.

    Attributes:
        horizon: Row where the back wall meets the floor.
        vanish: Vanishing point ``(x, y)`` of the floor tile lines (``y`` above ``horizon``).
        tiles: Tile columns across the bottom edge of the frame.
        counters: Service counters.
        desks: Desks.
        doors: Glass doors in the back wall.
        banner: Red banner with the bank's name, if any.
        posters: Framed posters ``(box, prop or photo name)``.
        screen_bezels: Boxes of screen content areas (a dark bezel is drawn around each).
        wall_bgr: Wall colour.
        floor_bgr: Floor colour.
    """

    horizon: float
    vanish: tuple[float, float]
    tiles: int = 10
    counters: tuple[Counter, ...] = ()
    desks: tuple[Desk, ...] = ()
    doors: tuple[NormBox, ...] = ()
    banner: NormBox | None = None
    posters: tuple[tuple[NormBox, str], ...] = ()
    screen_bezels: tuple[NormBox, ...] = ()
    wall_bgr: BGR = (200, 214, 222)
    floor_bgr: BGR = (178, 184, 190)


def _px(box: NormBox, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return round(x0 * width), round(y0 * height), round(x1 * width), round(y1 * height)


def _texture(name: str, width: int, height: int, period_px: int) -> FloatImage:
    """A real grey texture, tiled at ``period_px`` and normalised to zero mean, unit spread."""
    source = skimage_photo(name)
    tile = cv2.resize(
        source.astype(np.float32), (period_px, period_px), interpolation=cv2.INTER_AREA
    )
    reps = (height // period_px + 1, width // period_px + 1)
    tiled = np.tile(tile, reps)[:height, :width]
    return np.asarray((tiled - tiled.mean()) / (tiled.std() + 1e-6), np.float32)


def _smooth_noise(rng: np.random.Generator, width: int, height: int, cells: int) -> FloatImage:
    """Low-frequency noise in roughly −1…1 (uneven light, stains)."""
    coarse = rng.standard_normal((cells, max(2, cells * width // height))).astype(np.float32)
    return np.asarray(
        cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC), np.float32
    )


def _floor(layout: SceneLayout, width: int, height: int, rng: np.random.Generator) -> FloatImage:
    """Perspective checker of polished stone tiles with grout lines, for the rows below the
    horizon."""
    top = round(layout.horizon * height)
    ys, xs = np.mgrid[top:height, 0:width].astype(np.float32)
    vx, vy = layout.vanish[0] * width, layout.vanish[1] * height
    depth = np.maximum(ys - vy, 1.0)
    # Tile coordinates: u across (columns converge to the vanishing point), v along the floor.
    u = (xs - vx) / depth * (height - vy) / width * layout.tiles
    v = layout.tiles * 0.55 * (height - vy) / depth
    checker = ((np.floor(u) + np.floor(v)) % 2).astype(np.float32)
    # Grout width in tile units grows with distance so lines stay about 1.5 px wide.
    du = 1.5 / (width / layout.tiles * depth / (height - vy))
    dv = 1.5 * layout.tiles * 0.55 * (height - vy) / depth**2
    fu, fv = u - np.floor(u), v - np.floor(v)
    grout = (np.minimum(fu, 1 - fu) < du) | (np.minimum(fv, 1 - fv) < dv)
    base = np.array(layout.floor_bgr, np.float32)
    stone = _texture("gravel", width, height - top, max(48, width // 6))
    shade = 1.0 + 0.05 * checker + 0.025 * stone
    # Sheen: the polished floor reflects the bright back wall near the horizon.
    shade += 0.10 * np.exp(-(ys - top) / (0.15 * height))
    shade += 0.03 * _smooth_noise(rng, width, height - top, 4)
    floor = base * shade[..., None]
    floor[grout] *= 0.78
    return np.asarray(floor, np.float32)


def _wall(layout: SceneLayout, width: int, height: int, rng: np.random.Generator) -> FloatImage:
    top = round(layout.horizon * height)
    ys = np.arange(top, dtype=np.float32)[:, None]
    plaster = _texture("grass", width, top, max(64, width // 5))
    shade = 1.02 - 0.10 * ys / max(top, 1) + 0.012 * plaster
    shade += 0.025 * _smooth_noise(rng, width, top, 3)
    wall = np.array(layout.wall_bgr, np.float32) * shade[..., None]
    # Ceiling band with light panels.
    ceiling = max(2, round(0.05 * height))
    wall[:ceiling] = np.array((150, 152, 150), np.float32)
    for cx in np.linspace(0.12, 0.88, 4):
        x0, x1 = round((cx - 0.06) * width), round((cx + 0.06) * width)
        wall[ceiling // 4 : ceiling * 3 // 4, x0:x1] = 250.0
    # Skirting board.
    skirting = max(2, round(0.012 * height))
    wall[top - skirting : top] = np.array((70, 78, 88), np.float32)
    return wall


def _rect(
    canvas: FloatImage, box: tuple[int, int, int, int], bgr: tuple[float, ...], opacity: float = 1.0
) -> None:
    x0, y0, x1, y1 = box
    region = canvas[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)]
    region[...] = region * (1 - opacity) + np.array(bgr, np.float32) * opacity


def _draw_counter(canvas: FloatImage, counter: Counter, width: int, height: int) -> None:
    x0, x1 = round(counter.x0 * width), round(counter.x1 * width)
    top, bottom = round(counter.top * height), round(counter.bottom * height)
    glass = round(counter.glass_top * height)
    lip = max(2, round(0.02 * height))
    post = max(2, round(0.006 * width))
    # Glass partition: a faint cool tint with a brighter reflection band.
    _rect(canvas, (x0, glass, x1, top - lip), (235, 228, 215), 0.22)
    _rect(canvas, (x0, glass, x1, glass + max(1, lip // 2)), (120, 120, 118))
    for i in range(counter.windows + 1):
        px = round(x0 + i * (x1 - x0) / counter.windows)
        _rect(canvas, (px - post, glass, px + post, top - lip), (150, 152, 155))
    for i in range(counter.windows):
        wx0, wx1 = counter.window_span(i)
        cx = round((wx0 + wx1) / 2 * width)
        plate = max(6, round(0.03 * height))
        sign = np.empty((plate, 2 * plate, 3), np.uint8)
        sign[:] = (40, 40, 160)
        cv2.putText(
            sign,
            str(i + 1),
            (plate * 2 // 3, plate * 4 // 5),
            cv2.FONT_HERSHEY_SIMPLEX,
            plate / 30.0,
            (255, 255, 255),
            max(1, plate // 10),
            cv2.LINE_AA,
        )
        canvas[glass + lip : glass + lip + plate, cx - plate : cx + plate] = sign
    # Counter top (light stone) and the wooden front panel.
    _rect(canvas, (x0, top - lip, x1, top), (196, 204, 210))
    _rect(canvas, (x0, top, x1, bottom), (56, 86, 122))
    grain = _texture("grass", x1 - x0, max(1, bottom - top), max(32, width // 12))
    canvas[top:bottom, x0:x1] *= (1.0 + 0.04 * grain)[..., None]
    panels = max(2, counter.windows * 3)
    for i in range(1, panels):
        px = round(x0 + i * (x1 - x0) / panels)
        _rect(canvas, (px - 1, top + lip, px + 1, bottom - lip), (40, 60, 88))
    _rect(canvas, (x0, bottom - lip, x1, bottom), (40, 46, 54))


def _draw_desk(
    canvas: FloatImage, desk: Desk, layout: SceneLayout, width: int, height: int
) -> None:
    vx = layout.vanish[0] * width
    vy = layout.vanish[1] * height
    front, back = desk.front * height, desk.back * height
    shrink = (back - vy) / max(front - vy, 1.0)
    fx0, fx1 = desk.x0 * width, desk.x1 * width
    bx0, bx1 = vx + (fx0 - vx) * shrink, vx + (fx1 - vx) * shrink
    bottom = round(desk.bottom * height)
    # Shadow on the floor, front panel, then the top surface.
    _rect(canvas, (round(fx0) + 4, bottom - 2, round(fx1) + 10, bottom + 6), (60, 60, 60), 0.25)
    _rect(canvas, (round(fx0), round(front), round(fx1), bottom), (70, 96, 128))
    _rect(canvas, (round(fx0), round(front), round(fx1), round(front) + 3), (150, 160, 170))
    top = np.array([[bx0, back], [bx1, back], [fx1, front], [fx0, front]], np.int32)
    cv2.fillPoly(canvas, [top], (205, 212, 218), cv2.LINE_AA)


def _draw_door(canvas: FloatImage, box: tuple[int, int, int, int]) -> None:
    x0, y0, x1, y1 = box
    frame = max(2, (x1 - x0) // 14)
    _rect(canvas, box, (95, 98, 100))
    _rect(canvas, (x0 + frame, y0 + frame, x1 - frame, y1), (238, 226, 206))
    mid = (x0 + x1) // 2
    _rect(canvas, (mid - frame // 2, y0, mid + frame // 2, y1), (95, 98, 100))
    bar_y = (y0 + y1) // 2
    _rect(canvas, (mid - 4 * frame, bar_y, mid - frame, bar_y + frame), (190, 190, 192))
    _rect(canvas, (mid + frame, bar_y, mid + 4 * frame, bar_y + frame), (190, 190, 192))


def _draw_banner(
    canvas: FloatImage, box: tuple[int, int, int, int], rng: np.random.Generator
) -> None:
    x0, y0, x1, y1 = box
    _rect(canvas, box, (36, 30, 170))
    h = y1 - y0
    cv2.circle(canvas, (x0 + h, (y0 + y1) // 2), max(2, h * 3 // 8), (90, 200, 250), -1)
    # Lettering: light strokes of random width, like a row of characters.
    x = x0 + 2 * h
    while x < x1 - h:
        w = int(rng.integers(h // 2, h))
        _rect(canvas, (x, y0 + h // 4, x + w, y1 - h // 4), (235, 240, 245))
        x += w + max(2, h // 4)


def _draw_poster(canvas: FloatImage, box: tuple[int, int, int, int], name: str) -> None:
    x0, y0, x1, y1 = box
    frame = max(2, (x1 - x0) // 20)
    _rect(canvas, box, (40, 40, 44))
    photo = poster_photo(name)
    inner = (x1 - x0 - 2 * frame, y1 - y0 - 2 * frame)
    if min(inner) > 1:
        canvas[y0 + frame : y1 - frame, x0 + frame : x1 - frame] = cv2.resize(
            photo, inner, interpolation=cv2.INTER_AREA
        ).astype(np.float32)


@lru_cache(maxsize=8)
def poster_photo(name: str) -> Image:
    """A real photo without people, for posters and screen slides (BGR ``uint8``).

    Args:
        name: ``rocket``, ``hubble``, ``chelsea`` or a prop name (see ``vision.synth.props``).

    Returns:
        The photo.
    """
    photos = {"rocket": "rocket", "hubble": "hubble_deep_field", "chelsea": "chelsea"}
    if name in photos:
        return np.ascontiguousarray(skimage_photo(photos[name])[:, :, ::-1])
    return load_prop(name)[0]


def render_background(layout: SceneLayout, width: int, height: int, seed: int) -> Image:
    """Draw the empty view.

    Args:
        layout: What to draw and where.
        width: Frame width in pixels.
        height: Frame height in pixels.
        seed: Seed of the texture noise and the banner lettering.

    Returns:
        BGR ``uint8`` image ``(height, width, 3)``.

    Example:
        >>> lay = SceneLayout(horizon=0.45, vanish=(0.5, 0.1))
        >>> render_background(lay, 64, 36, seed=1).shape
        (36, 64, 3)
    """
    rng = np.random.default_rng(seed)
    canvas = np.empty((height, width, 3), np.float32)
    top = round(layout.horizon * height)
    canvas[:top] = _wall(layout, width, height, rng)
    canvas[top:] = _floor(layout, width, height, rng)
    for door in layout.doors:
        _draw_door(canvas, _px(door, width, height))
    if layout.banner is not None:
        _draw_banner(canvas, _px(layout.banner, width, height), rng)
    for box, name in layout.posters:
        _draw_poster(canvas, _px(box, width, height), name)
    for bezel in layout.screen_bezels:
        x0, y0, x1, y1 = _px(bezel, width, height)
        edge = max(3, round(0.008 * width))
        _rect(canvas, (x0 - edge, y0 - edge, x1 + edge, y1 + edge), (28, 28, 30))
    for counter in layout.counters:
        _draw_counter(canvas, counter, width, height)
    for desk in layout.desks:
        _draw_desk(canvas, desk, layout, width, height)
    # Lens vignetting.
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r2 = ((xx - width / 2) / width) ** 2 + ((yy - height / 2) / height) ** 2
    canvas *= (1.0 - 0.35 * r2)[..., None]
    return np.asarray(np.clip(canvas + 0.5, 0, 255), np.uint8)


def slide(seed: int, screen_id: str, index: int, size: tuple[int, int]) -> Image:
    """Content of a screen's ``index``-th slide: a solid colour, a gradient or a photo.

    Args:
        seed: Script seed.
        screen_id: Screen id (each screen has its own sequence).
        index: Slide number.
        size: ``(width, height)`` in pixels.

    Returns:
        BGR ``uint8`` image ``(height, width, 3)``.
    """
    key = sum(ord(c) * 131**i for i, c in enumerate(screen_id)) % 2**31
    rng = np.random.default_rng((seed, key, index))
    w, h = size
    kind = int(rng.integers(0, 3))
    if kind == 0:
        colour = rng.integers(40, 250, 3).astype(np.float32)
        return np.broadcast_to(colour.astype(np.uint8), (h, w, 3)).copy()
    if kind == 1:
        a, b = rng.integers(20, 250, (2, 3)).astype(np.float32)
        angle = float(rng.uniform(0, np.pi))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        ramp = (xx / max(w, 1)) * np.cos(angle) + (yy / max(h, 1)) * np.sin(angle)
        ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
        return np.asarray(a + (b - a) * ramp[..., None] + 0.5, np.uint8)
    names = ("rocket", "hubble", "chelsea", "cup")
    photo = poster_photo(names[int(rng.integers(0, len(names)))])
    return np.asarray(cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA), np.uint8)


def gain_lut(gain: float) -> Image:
    """Lookup table that applies a global brightness gain to ``uint8`` pixels.

    Args:
        gain: Multiplier (1.0 leaves pixels unchanged).

    Returns:
        ``uint8`` table of 256 entries.
    """
    return np.asarray(np.clip(np.arange(256, dtype=np.float32) * gain + 0.5, 0, 255), np.uint8)
