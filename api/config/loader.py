"""Load the YAML configuration: parse, migrate, validate, cross-check, explain errors.

Errors name the file, the line, the branch/camera/zone and the field, e.g.::

    site.yaml:14: branches[0] (城东支行).cameras[1] (cam2).zones[0] (post).polygon: ...
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from api.config.site import CONFIG_VERSION, SiteConfig
from rules.registry import RuleSettingsError, validate_rule_settings
from vision.config import ZoneKind

logger = logging.getLogger(__name__)


class ConfigError(ValueError):
    """The configuration file cannot be used; the message says where and why."""


class ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader without YAML 1.1's base-60 integers, as in YAML 1.2: an unquoted
    ``end: 17:00`` is the text ``17:00``, not the number 1020."""


_INT = "tag:yaml.org,2002:int"
ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _INT]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ConfigLoader.add_implicit_resolver(
    _INT,
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


# --- migrations ---------------------------------------------------------------------------

Migration = Callable[[dict[str, Any]], dict[str, Any]]

MIGRATIONS: dict[int, Migration] = {}
"""``MIGRATIONS[n]`` turns a version-``n`` document into version ``n + 1``."""


def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring a raw document up to :data:`CONFIG_VERSION`, one version at a time."""
    version = raw.get("version", CONFIG_VERSION)
    if not isinstance(version, int) or version < 1:
        raise ConfigError(f"version must be a positive integer, got {version!r}")
    if version > CONFIG_VERSION:
        raise ConfigError(
            f"config version {version} is newer than this branchwatch supports "
            f"({CONFIG_VERSION}); upgrade branchwatch"
        )
    while version < CONFIG_VERSION:
        raw = MIGRATIONS[version](raw)
        version += 1
        raw["version"] = version
        logger.info("migrated config to version %d", version)
    return raw


# --- cross-field checks ------------------------------------------------------------------


def verify_unique_ids(config: SiteConfig) -> None:
    """Branch ids are unique; camera ids and channel tokens are unique within a branch."""
    seen_branches: set[str] = set()
    for branch in config.branches:
        if branch.id in seen_branches:
            raise ValueError(f"branch id {branch.id!r} is used twice")
        seen_branches.add(branch.id)
        ids: set[str] = set()
        tokens: dict[str, str] = {}
        for cam in branch.cameras:
            if cam.id in ids:
                raise ValueError(f"branch {branch.id!r}: camera id {cam.id!r} is used twice")
            ids.add(cam.id)
            if cam.token in tokens:
                raise ValueError(
                    f"branch {branch.id!r}: cameras {tokens[cam.token]!r} and {cam.id!r} both "
                    f"claim export files named with {cam.token!r}"
                )
            tokens[cam.token] = cam.id


def verify_counter_windows_paired(config: SiteConfig) -> None:
    """Every teller seat serves a counter window that some camera of the branch defines."""
    for branch in config.branches:
        windows = {
            z.window_id
            for cam in branch.cameras
            for z in cam.zones
            if z.kind == ZoneKind.COUNTER_WINDOW
        }
        for cam in branch.cameras:
            for zone in cam.zones:
                if zone.kind == ZoneKind.TELLER_SEAT and zone.window_id not in windows:
                    raise ValueError(
                        f"branch {branch.id!r} camera {cam.id!r} zone {zone.id!r}: teller seat "
                        f"serves window {zone.window_id!r}, but no counter_window zone has it"
                    )


def verify_rules(config: SiteConfig) -> None:
    """Rule settings of the site, each branch and each camera name known items and valid
    parameters, also once merged."""
    validate_rule_settings(config.rules)
    for branch in config.branches:
        for camera in branch.cameras:
            try:
                config.camera_rules(branch, camera)
            except ValueError as exc:
                raise ValueError(f"branch {branch.id!r} camera {camera.id!r}: {exc}") from exc


VERIFIERS = (verify_unique_ids, verify_counter_windows_paired, verify_rules)


# --- error explanation -------------------------------------------------------------------


def _node_at(root: yaml.Node | None, loc: tuple[int | str, ...]) -> yaml.Node | None:
    """The YAML node at a pydantic error location (deepest one that exists).

    A location that ends at a mapping key gives the key's node, so an error about a key (a
    misspelt one, or one whose value is a block below it) points at the key's own line.
    """
    node = root
    for n, key in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == key), None)
            nxt = None if pair is None else pair[0] if n == len(loc) - 1 else pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            nxt = node.value[key] if key < len(node.value) else None
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
    return node


def _describe_loc(raw: Any, loc: tuple[int | str, ...]) -> str:
    """``branches[0] (城东支行).cameras[1] (cam2).polygon``: path with names of list items."""
    parts: list[str] = []
    node = raw
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            if isinstance(node, list) and key < len(node) and isinstance(node[key], dict):
                ident = node[key].get("id") or node[key].get("name")
                if ident is not None:
                    label += f" ({ident})"
            parts.append(label)
        else:
            parts.append(("." if parts else "") + str(key))
        node = (
            node[key]
            if isinstance(node, list) and isinstance(key, int) and key < len(node)
            else node.get(key)
            if isinstance(node, dict)
            else None
        )
    return "".join(parts) or "(top level)"


Problem = tuple[tuple[int | str, ...], str]
"""Location of a problem in the document, and what is wrong there."""


def _validation_problems(exc: ValidationError) -> list[Problem]:
    return [
        (
            tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p)),
            "unknown key; check its spelling"
            if err["type"] == "extra_forbidden"
            else err["msg"].removeprefix("Value error, "),
        )
        for err in exc.errors()
    ]


def _format_validation(source: str, root: yaml.Node | None, raw: Any, exc: ValidationError) -> str:
    """One line per validation error, ``file:line: where: what``."""
    return _format_problems(source, root, raw, _validation_problems(exc))


def _rule_problems(raw: dict[str, Any]) -> list[Problem]:
    """Problems of the ``rules`` section, checked on the raw document so that they are reported
    together with any structural problem elsewhere."""
    rules = raw.get("rules")
    if not isinstance(rules, dict) or not all(isinstance(k, str) for k in rules):
        return []  # the structural validation reports a malformed section
    try:
        validate_rule_settings(rules)
    except RuleSettingsError as exc:
        return [(("rules", *loc), msg) for loc, msg in exc.problems]
    return []


def _format_problems(source: str, root: yaml.Node | None, raw: Any, problems: list[Problem]) -> str:
    """One line per problem, ``file:line: where: what``, in the order of the file."""
    lines = []
    for loc, msg in problems:
        node = _node_at(root, loc)
        line = node.start_mark.line + 1 if node is not None else 0
        lines.append(
            (line, f"{source}{f':{line}' if line else ''}: {_describe_loc(raw, loc)}: {msg}")
        )
    return "\n".join(text for _, text in sorted(lines, key=lambda item: item[0]))


# --- entry points ------------------------------------------------------------------------


def read_yaml(text: str, source: str, wants: str) -> tuple[yaml.Node | None, dict[str, Any]]:
    """A YAML mapping document and its node tree (for the line numbers of errors).

    Raises:
        ConfigError: the text is not YAML, or its top level is not a mapping (``wants`` names
            what it must hold).
    """
    try:
        root = yaml.compose(text, Loader=ConfigLoader)
        raw = yaml.load(text, Loader=ConfigLoader)  # noqa: S506  (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping with {wants}")
    return root, raw


def parse_config(text: str, source: str = "<config>") -> SiteConfig:
    """Parse, migrate, validate and cross-check a configuration document.

    Raises:
        ConfigError: with one line per problem, naming file, line and field.
    """
    root, raw = read_yaml(text, source, "'branches'")
    try:
        raw = migrate(raw)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    rule_problems = _rule_problems(raw)
    try:
        config = SiteConfig.model_validate(raw)
    except ValidationError as exc:
        problems = _validation_problems(exc) + rule_problems
        raise ConfigError(_format_problems(source, root, raw, problems)) from exc
    if rule_problems:
        raise ConfigError(_format_problems(source, root, raw, rule_problems))
    for verify in VERIFIERS:
        try:
            verify(config)
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from exc
    return config


def load_config(path: Path) -> SiteConfig:
    """Load a configuration file (see :func:`parse_config`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from exc
    return parse_config(text, str(path))
