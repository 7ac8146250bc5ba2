"""Built-in rules, one module per group of inspection items; importing registers them."""

from rules.items import (
    counter,
    footage,
    movement,
    objects,
    posture,
    presence,
    raise_hand,
    screens,
    uniform,
)

__all__ = [
    "counter",
    "footage",
    "movement",
    "objects",
    "posture",
    "presence",
    "raise_hand",
    "screens",
    "uniform",
]
