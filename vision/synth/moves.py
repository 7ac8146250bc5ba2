"""Waypoint builders for the usual movements of people in a branch.

Positions are normalised feet positions; walking speed is in frame widths per second.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from vision.synth.script import Waypoint

logger = logging.getLogger(__name__)

Point = tuple[float, float]

WALK_SPEED = 0.2
"""Default walking speed in frame widths per second."""


def walk(
    t: float, path: tuple[Point, ...], dwell: tuple[float, ...], speed: float = WALK_SPEED
) -> tuple[Waypoint, ...]:
    """Walk along ``path`` from time ``t``, waiting ``dwell[i]`` seconds at point ``i``.

    Args:
        t: Time of leaving the first point (after its dwell).
        path: Points in order.
        dwell: Seconds spent at each point (same length as ``path``).
        speed: Walking speed.

    Returns:
        Waypoints.

    Raises:
        ValueError: If ``dwell`` and ``path`` differ in length or ``speed`` is not positive.

    Example:
        >>> [round(w.t_s, 2) for w in walk(0.0, ((0.0, 0.5), (0.2, 0.5)), (1.0, 0.0))]
        [0.0, 1.0, 2.0]
    """
    if len(dwell) != len(path) or speed <= 0:
        raise ValueError(
            f"walk needs one dwell per point and a positive speed, got "
            f"{len(path)} points, {len(dwell)} dwells, speed {speed}"
        )
    points: list[Waypoint] = []
    for i, (x, y) in enumerate(path):
        if i:
            px, py = path[i - 1]
            t += math.hypot(x - px, y - py) / speed
        points.append(Waypoint(t, x, y))
        if dwell[i] > 0:
            t += dwell[i]
            points.append(Waypoint(t, x, y))
    return tuple(points)


def visit(t_in: float, t_out: float, spot: Point, door: Point) -> tuple[Waypoint, ...]:
    """Walk in from ``door`` at ``t_in``, stand at ``spot`` and walk back out from ``t_out``.

    Example:
        >>> [w.t_s for w in visit(10.0, 20.0, (0.5, 0.9), (0.9, 0.9))]
        [10.0, 12.0, 20.0, 22.0]
    """
    seconds = math.hypot(spot[0] - door[0], spot[1] - door[1]) / WALK_SPEED
    return walk(t_in, (door, spot, door), (0.0, max(0.0, t_out - t_in - seconds), 0.0))


def away(
    home: Point,
    exit_to: Point,
    leaves: tuple[tuple[float, float], ...],
) -> tuple[Waypoint, ...]:
    """Stand at ``home``; for each ``(leave, back)`` walk out to ``exit_to`` and return by ``back``.

    Example:
        >>> [w.t_s for w in away((0.5, 0.9), (0.9, 0.9), ((10.0, 30.0),))]
        [0.0, 10.0, 12.0, 28.0, 30.0]
    """
    seconds = math.hypot(home[0] - exit_to[0], home[1] - exit_to[1]) / WALK_SPEED
    points = [Waypoint(0.0, *home)]
    for leave, back in leaves:
        points += [
            Waypoint(leave, *home),
            Waypoint(leave + seconds, *exit_to),
            Waypoint(back - seconds, *exit_to),
            Waypoint(back, *home),
        ]
    return tuple(points)


def sway(home: Point, duration: float, period: float, amplitude: float) -> tuple[Waypoint, ...]:
    """Small steps left and right around ``home`` (someone standing, not patrolling).

    Example:
        >>> [(w.t_s, w.x) for w in sway((0.5, 0.9), 20.0, 10.0, 0.01)]
        [(0.0, 0.51), (10.0, 0.49), (20.0, 0.51)]
    """
    times = np.arange(0.0, duration + period, period)
    return tuple(
        Waypoint(float(t), home[0] + amplitude * (-1) ** i, home[1]) for i, t in enumerate(times)
    )
