"""Every public function of the product has a caller outside ``tests/``.

A function under ``api/``, ``vision/`` or ``rules/`` whose name appears nowhere else in the
product (its packages, benchmarks, notebooks, templates, scripts, entry points) is reached only
from tests, if at all: it must be wired into a production path or removed. Decorated functions
(routes, CLI commands, registered rules) are called by their framework and are left out.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "vision", "rules")
PRODUCT = (*PACKAGES, "benchmarks", "notebooks", "models")
SUFFIXES = (".py", ".ipynb", ".html", ".js", ".toml", ".yaml")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
FRAMEWORK_HOOKS = frozenset({"process_bind_param", "process_result_value"})
"""Methods a library calls by name (SQLAlchemy's TypeDecorator)."""


def _product_words() -> Counter[str]:
    words: Counter[str] = Counter()
    files = [p for r in PRODUCT for p in (ROOT / r).rglob("*") if p.suffix in SUFFIXES]
    for path in [*files, ROOT / "pyproject.toml"]:
        words.update(WORD.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return words


def _public_functions() -> list[tuple[str, int, str]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                    and not node.name.startswith("_")
                    and not node.decorator_list
                ):
                    found.append((str(path.relative_to(ROOT)), node.lineno, node.name))
    return found


def test_every_public_function_has_a_production_caller() -> None:
    words = _product_words()
    orphans = [
        f"{path}:{line} {name}"
        for path, line, name in _public_functions()
        if words[name] < 2 and name not in FRAMEWORK_HOOKS
    ]
    assert not orphans, "public functions nothing outside tests/ calls:\n" + "\n".join(orphans)
