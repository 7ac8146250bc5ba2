"""Scheme formulas as data: a tiny, safe arithmetic language over named variables.

A formula such as ``1000 + (target - score) * 200`` is parsed with :mod:`ast` and checked
against a whitelist: numbers, variable names, ``+ - * /`` (also written ``× ÷ −``), unary
minus, parentheses, ``min(...)``/``max(...)``, comparisons (``< <= > >= == !=``) and
``and``/``or`` (true is 1, false is 0). Nothing is ever passed to :func:`eval`.
"""

from __future__ import annotations

import ast
import logging
import operator
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_COMPARE: dict[type[ast.cmpop], Callable[[float, float], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {"min": min, "max": max}
_SPELLINGS = {"×": "*", "÷": "/", "−": "-", "（": "(", "）": ")", "，": ","}


class FormulaError(ValueError):
    """A formula that is not allowed, names an unknown variable, or cannot be evaluated."""


@dataclass(frozen=True)
class Formula:
    """A checked formula; evaluate it with :meth:`__call__`.

    Example:
        >>> f = Formula.parse("1000 + (target - score) × 200", {"target", "score"})
        >>> f(target=95, score=93)
        1400.0
    """

    text: str
    tree: ast.Expression
    names: frozenset[str]

    @classmethod
    def parse(cls, text: str, allowed: Collection[str]) -> Formula:
        """Parse and check a formula.

        Args:
            text: The formula.
            allowed: Variable names it may use.

        Raises:
            FormulaError: Syntax error, a construct outside the whitelist, or an unknown name.
        """
        source = text
        for fancy, plain in _SPELLINGS.items():
            source = source.replace(fancy, plain)
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as exc:
            raise FormulaError(f"formula {text!r}: syntax error: {exc.msg}") from exc
        names: set[str] = set()
        for node in ast.walk(tree):
            _check_node(node, text, names)
        unknown = sorted(names - set(allowed) - set(_FUNCTIONS))
        if unknown:
            raise FormulaError(
                f"formula {text!r}: unknown name(s) {unknown}; allowed: {sorted(allowed)}"
            )
        return cls(text=text, tree=tree, names=frozenset(names - set(_FUNCTIONS)))

    def __call__(self, variables: Mapping[str, float] | None = None, **kw: float) -> float:
        """Evaluate with the given variables (a mapping and/or keywords)."""
        env = {**(variables or {}), **kw}
        missing = sorted(self.names - set(env))
        if missing:
            raise FormulaError(f"formula {self.text!r}: no value for {missing}")
        try:
            return float(_eval(self.tree.body, env))
        except ZeroDivisionError as exc:
            raise FormulaError(f"formula {self.text!r}: division by zero") from exc


def _check_node(node: ast.AST, text: str, names: set[str]) -> None:
    allowed = (
        ast.Expression,
        ast.BinOp,
        ast.UnaryOp,
        ast.Compare,
        ast.BoolOp,
        ast.Call,
        ast.Name,
        ast.Constant,
        ast.Load,
        ast.USub,
        ast.UAdd,
        ast.And,
        ast.Or,
        *_BINARY,
        *_COMPARE,
    )
    if not isinstance(node, allowed):
        raise FormulaError(f"formula {text!r}: {type(node).__name__} is not allowed")
    if isinstance(node, ast.Constant) and (
        isinstance(node.value, bool) or not isinstance(node.value, int | float)
    ):
        raise FormulaError(f"formula {text!r}: only numbers are allowed, not {node.value!r}")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            raise FormulaError(f"formula {text!r}: only min() and max() may be called")
        if node.keywords or not node.args:
            raise FormulaError(f"formula {text!r}: {node.func.id}() takes numbers only")
    if isinstance(node, ast.Name):
        names.add(node.id)


def _eval(node: ast.expr, env: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name):
        return float(env[node.id])
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env)
        for op, comp in zip(node.ops, node.comparators, strict=True):
            right = _eval(comp, env)
            if not _COMPARE[type(op)](left, right):
                return 0.0
            left = right
        return 1.0
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, env) != 0 for v in node.values]
        return float(all(values) if isinstance(node.op, ast.And) else any(values))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        return float(_FUNCTIONS[node.func.id](*(_eval(a, env) for a in node.args)))
    raise FormulaError(f"cannot evaluate {ast.dump(node)}")  # unreachable after the check
