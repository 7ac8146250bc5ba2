from contextlib import AbstractContextManager
from contextlib import nullcontext as does_not_raise
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.config import ConfigError, SiteConfig, load_config, parse_config

EXAMPLE = resources.files("api.config").joinpath("example.yaml").read_text(encoding="utf-8")


def example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE)
    return data


def test_example_config_is_valid() -> None:
    site = parse_config(EXAMPLE, "example.yaml")
    assert isinstance(site, SiteConfig)
    branch = site.branch("chengdong")
    assert branch.camera("lobby").token == "01"
    assert {z.kind.value for z in branch.camera("lobby").zones} >= {"lobby", "guard_post"}


def _mutate(path: list[Any], value: Any) -> str:
    data = example()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.mark.parametrize(
    ("path", "value", "expectation"),
    [
        (["bank"], "另一家银行", does_not_raise()),
        (
            ["branches", 0, "timezone"],
            "Mars/Olympus",
            pytest.raises(
                ConfigError, match=r"branches\[0\] \(chengdong\)\.timezone: .*unknown time zone"
            ),
        ),
        (
            ["branches", 0, "cameras", 0, "zones", 1, "polygon"],
            [[0, 0], [1.5, 0], [1, 1]],
            pytest.raises(
                ConfigError,
                match=r"cameras\[0\] \(lobby\)\.zones\[1\] \(manager-post\)"
                r"\.polygon",
            ),
        ),
        (
            ["branches", 0, "cameras", 0, "zones", 1, "polygon"],
            [[0, 0], [0.5, 0.5], [1, 1]],
            pytest.raises(ConfigError, match="no area"),
        ),
        (
            ["branches", 0, "cameras", 0, "zones", 1, "kind"],
            "kitchen",
            pytest.raises(ConfigError, match=r"zones\[1\] \(manager-post\)\.kind"),
        ),
        (
            ["branches", 0, "cameras", 1, "channel"],
            "01",
            pytest.raises(ConfigError, match="both claim export files named with '01'"),
        ),
        (
            ["branches", 0, "cameras", 1, "zones", 1, "window_id"],
            "w9",
            pytest.raises(ConfigError, match="serves window 'w9'"),
        ),
        (["sampling", "interval_s"], -1, pytest.raises(ConfigError, match="sampling.interval_s")),
        (["detector", "colour"], "red", pytest.raises(ConfigError, match="detector.colour")),
        (["version"], 99, pytest.raises(ConfigError, match="newer than this branchwatch")),
        (["rules", "NO_SUCH_ITEM"], {}, pytest.raises(ConfigError, match="NO_SUCH_ITEM")),
        (
            ["rules", "LOBBY_MANAGER_ABSENT", "grace_s"],
            "long",
            pytest.raises(ConfigError, match="LOBBY_MANAGER_ABSENT.*grace_s"),
        ),
    ],
)
def test_errors_name_the_place(
    path: list[Any], value: Any, expectation: AbstractContextManager[Any]
) -> None:
    with expectation:
        parse_config(_mutate(path, value), "site.yaml")


def test_errors_carry_the_line_number() -> None:
    text = EXAMPLE.replace("timezone: Asia/Shanghai", "timezone: Nowhere/City")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "Nowhere/City" in row)
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.yaml")
    assert str(info.value).startswith(f"site.yaml:{line}: ")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("branches: [", "not valid YAML"),
        ("- just\n- a list\n", "top level must be a mapping"),
    ],
)
def test_malformed_documents(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text, "x.yaml")


def test_load_config_names_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "absent.yaml")


@pytest.mark.parametrize(
    ("written", "expectation"),
    [
        ('"17:00"', does_not_raise()),
        ("17:00", does_not_raise()),  # YAML 1.1 would read 1020 (base 60); read as text here
        ("1020", pytest.raises(ConfigError, match=r"open\.end: .*'HH:MM', not the number 1020")),
        ('"17:00+08:00"', pytest.raises(ConfigError, match="has a UTC offset")),
    ],
)
def test_opening_times_are_clock_text(
    written: str, expectation: AbstractContextManager[object]
) -> None:
    assert EXAMPLE.count('end: "17:00"') == 1
    text = EXAMPLE.replace('end: "17:00"', f"end: {written}")
    with expectation:
        hours = parse_config(text, "site.yaml").branch("chengdong").hours
        assert hours.open.end.isoformat() == "17:00:00"


def _line_of(text: str, fragment: str) -> int:
    return next(i for i, row in enumerate(text.splitlines(), 1) if fragment in row)


def test_every_problem_is_reported_at_once_each_on_its_own_line() -> None:
    """Structural and rule problems together, in file order, each with the line of its key."""
    text = (
        EXAMPLE.replace("  interval_s: 2.0", "  intervl_s: 2.0")
        .replace("    grace_s: 300", "    grace_s: -5\n    colour: red")
        .replace("rules:\n", "rules:\n  NO_SUCH_ITEM:\n    enabled: true\n")
        .replace("timezone: Asia/Shanghai", "timezone: Nowhere/City")
    )
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.yaml")
    lines = str(info.value).splitlines()
    expected = [
        (_line_of(text, "intervl_s:"), "sampling.intervl_s: unknown key"),
        (_line_of(text, "NO_SUCH_ITEM:"), "rules.NO_SUCH_ITEM: unknown inspection item"),
        (_line_of(text, "grace_s: -5"), "rules.LOBBY_MANAGER_ABSENT.grace_s: "),
        (_line_of(text, "colour: red"), "rules.LOBBY_MANAGER_ABSENT.colour: unknown parameter"),
        (_line_of(text, "Nowhere/City"), "branches[0] (chengdong).timezone"),
    ]
    assert len(lines) == len(expected), lines
    for row, (line, says) in zip(lines, expected, strict=True):
        assert row.startswith(f"site.yaml:{line}: {says}"), row


def test_a_misspelt_section_points_at_its_own_line() -> None:
    """A misspelt key whose value is a block below it is reported on the key's line."""
    text = EXAMPLE.replace("sampling:\n", "samplng:\n", 1)
    with pytest.raises(ConfigError) as info:
        parse_config(text, "site.yaml")
    assert f"site.yaml:{_line_of(text, 'samplng:')}: samplng: unknown key" in str(info.value)
