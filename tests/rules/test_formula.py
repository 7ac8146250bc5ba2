"""The safe formula evaluator."""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextlib import nullcontext as does_not_raise

import pytest

from rules.formula import Formula, FormulaError

NAMES = {"score", "target", "rank"}


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        (
            "1000 + (target - score) * 200",
            {"target": 95, "score": 93},
            1400.0,
        ),  # 考核=1000+(目标分值-得分)x200元
        ("1000 + (target - score) × 200", {"target": 92, "score": 90}, 1400.0),
        ("2000 + (98 − score) × 200", {"score": 96.5}, 2300.0),
        ("max(98 - score, 0) * 200", {"score": 99}, 0.0),
        ("min(score, target) ÷ 2", {"score": 90, "target": 80}, 40.0),
        ("-score + 1", {"score": 3}, -2.0),
        ("score < 98", {"score": 97}, 1.0),
        ("score >= 90 and rank <= 5", {"score": 91, "rank": 6}, 0.0),
        ("score < 80 or rank == 1", {"score": 95, "rank": 1}, 1.0),
        ("80 <= score < 85", {"score": 84}, 1.0),
        ("500", {}, 500.0),
    ],
)
def test_evaluates(text: str, env: dict[str, float], expected: float) -> None:
    """考核=1000+(目标分值-得分)x200元 — the standard's formulas are data."""
    assert Formula.parse(text, NAMES)(env) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expectation"),
    [
        (
            "__import__('os').system('true')",
            pytest.raises(FormulaError, match="not allowed|only min"),
        ),
        ("score.real", pytest.raises(FormulaError, match="Attribute is not allowed")),
        ("score ** 2", pytest.raises(FormulaError, match="Pow is not allowed")),
        ("[score]", pytest.raises(FormulaError, match="List is not allowed")),
        ("'98' + score", pytest.raises(FormulaError, match="only numbers")),
        ("True + score", pytest.raises(FormulaError, match="only numbers")),
        ("abs(score)", pytest.raises(FormulaError, match="only min")),
        ("max()", pytest.raises(FormulaError, match="takes numbers")),
        ("lambda: 1", pytest.raises(FormulaError, match="Lambda is not allowed")),
        ("salary * 2", pytest.raises(FormulaError, match=r"unknown name\(s\) \['salary'\]")),
        ("1000 + (target - score", pytest.raises(FormulaError, match="syntax error")),
        ("score if score else 1", pytest.raises(FormulaError, match="IfExp")),
        ("1000 + (target - score) * 200", does_not_raise()),
    ],
)
def test_rejects_everything_outside_the_whitelist(
    text: str, expectation: AbstractContextManager[object]
) -> None:
    """A bank's scheme file is data: it can hold arithmetic, never code."""
    with expectation:
        Formula.parse(text, NAMES)


def test_missing_value_and_division_by_zero() -> None:
    """每差1分考核200元 needs the score to be known."""
    f = Formula.parse("1000 / (target - score)", NAMES)
    with pytest.raises(FormulaError, match=r"no value for \['target'\]"):
        f(score=1)
    with pytest.raises(FormulaError, match="division by zero"):
        f(target=90, score=90)
