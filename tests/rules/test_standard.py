"""The standard as data: catalogue, presets and a bank's own scheme."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from rules.registry import registered
from rules.standard import (
    PRESETS,
    STANDARDS_DIR,
    StandardError,
    load_catalog,
    load_scheme,
    parse_catalog,
)


def test_catalogue_covers_every_rule_with_quotes() -> None:
    """Every rule has a catalogue entry with its 中文 name, category and quote."""
    catalog = load_catalog()
    assert set(registered()) <= set(catalog.items)
    for code, spec in catalog.items.items():
        assert spec.quote and spec.name
        assert spec.category in {"环境", "形象", "纪律", "礼仪", "安全", "设备"}
        assert spec.video == (code in registered())


def test_catalogue_defaults_equal_the_rules_defaults() -> None:
    """The defaults printed in items.yaml are the defaults the rules use."""
    catalog, rules = load_catalog(), registered()
    for code, rule in rules.items():
        model_defaults = rule.params().model_dump()
        for key, value in catalog.items[code].defaults.items():
            assert model_defaults[key] == value, f"{code}.{key}"


def test_lobby_manager_grace_default_is_five_minutes() -> None:
    """大堂经理...确保大堂经理100%在岗 — with 300 s to step away before it is a finding."""
    assert load_catalog().items["LOBBY_MANAGER_ABSENT"].defaults["grace_s"] == 300


@pytest.mark.parametrize("name", PRESETS)
def test_presets_load(name: str) -> None:
    """The presets reproduce the schemes of the source documents."""
    scheme = load_scheme(name)
    assert scheme.id == name
    assert set(scheme.items) <= set(load_catalog().items)


def test_psbc_preset_numbers() -> None:
    """每分考核标准为200元 … 同样问题再犯的每分考核500元; 第一阶段 92, 第二阶段 95, 第三阶段 98."""
    s = load_scheme("psbc")
    assert (s.money.per_point, s.money.repeat_per_point, s.money.focus_multiplier) == (200, 500, 2)
    assert [(st.months[0], st.months[-1], st.target) for st in s.stages] == [
        (1, 4, 92),
        (5, 8, 95),
        (9, 12, 98),
    ]
    assert s.items["RAISE_HAND_AFTER_CALL"].money_per_occurrence == 100  # 扣100元/次
    assert s.items["COUNTER_CROWDING"].money_per_occurrence == 100


def test_xiaowei_table_values() -> None:
    """每项分值分别为2分、1.5分、1分、1分 … 3分、3分、2分 … 3.5分、2.5分、1分."""
    s = load_scheme("xiaowei")
    assert s.group_caps["服务形象·站姿和坐姿"] == 3
    assert s.group_caps["服务礼仪·柜员七步曲"] == 3.5
    assert s.group_caps["服务礼仪·厅前迎客"] == 2.5
    assert s.items["STAFF_POSTURE"].points == 3


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "mybank.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


MINIMAL: dict[str, Any] = {
    "id": "mybank",
    "name": "某银行",
    "source": "内部规定",
    "items": {"STAFF_PHONE_USE": {"points": 2}},
    "money": {"per_point": 50},
    "stages": [
        {
            "name": "全年",
            "months": list(range(1, 13)),
            "target": 90,
            "formula": "100 * (target - score)",
        }
    ],
}


def test_a_bank_adds_its_own_scheme_without_code(tmp_path: Path) -> None:
    """A bank configures its own scheme; the presets are not hard-coded rules."""
    scheme = load_scheme(_write(tmp_path, MINIMAL))
    assert scheme.items["STAFF_PHONE_USE"].points == 2
    assert load_scheme(str(_write(tmp_path, MINIMAL))).id == "mybank"


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"items": {"STAFF_PHONE_USE": {"points": -1}}}, r"items\.STAFF_PHONE_USE\.points"),
        ({"items": {"STAFF_PHONE_USE": {"pts": 1}}}, r"items\.STAFF_PHONE_USE\.pts: Extra inputs"),
        ({"items": {"NOT_AN_ITEM": {"points": 1}}}, r"items\.NOT_AN_ITEM: not an inspection item"),
        (
            {"money": {"per_point": 50, "focus_items": ["GUARD_POSTURE"]}},
            r"focus_items.*GUARD_POSTURE",
        ),
        (
            {"stages": [{"name": "a", "months": [1], "target": 9, "formula": "salary * 2"}]},
            r"stages\.0\.formula.*unknown name",
        ),
        (
            {
                "stages": [
                    {"name": "a", "months": [1, 2], "target": 9},
                    {"name": "b", "months": [2], "target": 9},
                ]
            },
            "month 2 is in both 'a' and 'b'",
        ),
        (
            {"bands": [{"name": "x", "kind": "reward", "stages": ["夏"]}]},
            r"bands\.x: unknown stage",
        ),
        ({"bands": [{"name": "x", "kind": "fine"}]}, r"bands\.0\.kind"),
        ({"bands": [{"name": "x", "kind": "reward", "rank_from_top": [5, 1]}]}, r"rank range"),
        ({"group_caps": {"柜员": 3}}, r"group_caps: no item is in group"),
        ({"category_caps": {"纪律": -1}}, r"category_caps\.纪律"),
        ({"category_caps": {"卫生": 1}}, r"category_caps\.卫生"),
        ({"base_score": 100, "min_score": 100}, "min_score"),
    ],
)
def test_errors_name_file_item_and_field(
    tmp_path: Path, patch: dict[str, Any], message: str
) -> None:
    """Loading errors name the file, the item and the field."""
    path = _write(tmp_path, {**MINIMAL, **patch})
    with pytest.raises(StandardError, match=message) as err:
        load_scheme(path)
    assert str(path) in str(err.value)


def test_unreadable_and_unknown(tmp_path: Path) -> None:
    """Unknown presets, missing files and broken YAML are reported by name."""
    with pytest.raises(StandardError, match="unknown scheme 'icbc'"):
        load_scheme("icbc")
    with pytest.raises(StandardError, match="cannot read"):
        load_scheme(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("items: [unclosed", encoding="utf-8")
    with pytest.raises(StandardError, match="not valid YAML"):
        load_scheme(bad)


def test_catalogue_defaults_are_validated_against_the_rule() -> None:
    """items.yaml defaults must be valid rule parameters."""
    data = yaml.safe_load((STANDARDS_DIR / "items.yaml").read_text(encoding="utf-8"))
    data["items"]["LOBBY_MANAGER_ABSENT"]["defaults"]["grace_s"] = -5
    with pytest.raises(StandardError, match=r"items\.LOBBY_MANAGER_ABSENT\.defaults\.grace_s"):
        parse_catalog(data, Path("items.yaml"))
