"""Rules and dictionaries (one Settings aggregate), with Chinese defaults."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregates import bounds
from aggregates.base import Context, CrmAggregate, Invalid, derived_id

DEFAULT_RULES: dict[str, Any] = {
    "default_max_customers": 50,
    "default_max_follow_days": 90,
    "pool_warning_days": 3,
    "reclaim_cooldown_days": 0,
    "daily_claim_limit": None,
    "late_entry_hours": 24,
    "approval_required": ["customer_info_change", "price_change"],
    "timezone": "Asia/Shanghai",
}

DEFAULT_DICTIONARIES: dict[str, Any] = {
    "customer_types": [
        {"name": "企业客户", "children": [
            {"name": "国有企业", "children": []},
            {"name": "民营企业", "children": []},
            {"name": "外资企业", "children": []},
        ]},
        {"name": "政府机构", "children": [
            {"name": "中央机关", "children": []},
            {"name": "地方政府", "children": []},
        ]},
        {"name": "事业单位", "children": [
            {"name": "学校", "children": []},
            {"name": "医院", "children": []},
        ]},
        {"name": "个人客户", "children": []},
    ],
    "sources": ["电话营销", "网络推广", "客户介绍", "展会", "陌生拜访", "其他"],
    "regions": ["华北", "华东", "华南", "华中", "西南", "西北", "东北"],
    "stages": ["初步接触", "需求确认", "方案报价", "商务谈判", "签约"],
    "warehouses": ["总仓"],
    "problem_types": ["质量问题", "物流问题", "安装问题", "服务投诉", "其他"],
}

# The command kinds the approval flow is wired for so far.
APPROVAL_KINDS = ("customer_info_change", "price_change", "target")

SETTINGS_ID: UUID = derived_id("settings", "global")


def type_names(tree: list[dict[str, Any]]) -> list[str]:
    """Every type name in the tree, depth first."""
    names: list[str] = []
    for node in tree:
        names.append(node["name"])
        names.extend(type_names(node.get("children") or []))
    return names


def type_with_subtypes(tree: list[dict[str, Any]], name: str) -> list[str]:
    """A type and all types below it (C-14: a type filter includes its subtypes)."""
    for node in tree:
        if node["name"] == name:
            return [name] + type_names(node.get("children") or [])
        found = type_with_subtypes(node.get("children") or [], name)
        if found:
            return found
    return []


class Settings(CrmAggregate):

    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "name": bounds.SHORT_TEXT, "sources": bounds.SHORT_TEXT, "regions": bounds.SHORT_TEXT,
        "stages": bounds.SHORT_TEXT, "warehouses": bounds.SHORT_TEXT, "problem_types": bounds.SHORT_TEXT,
        "timezone": 64,
    }
    rules: dict[str, Any]
    dictionaries: dict[str, Any]

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Created(CrmAggregate.Created):
        rules: dict[str, Any]
        dictionaries: dict[str, Any]

        def apply(self, s: Settings) -> None:
            s.rules = dict(self.rules)
            s.dictionaries = dict(self.dictionaries)

    class Changed(CrmAggregate.Event):
        rules: dict[str, Any]
        dictionaries: dict[str, Any]

        def apply(self, s: Settings) -> None:
            s.rules = dict(self.rules)
            s.dictionaries = dict(self.dictionaries)

    @classmethod
    def create_default(cls, ctx: Context) -> Settings:
        return cls._create_by(
            ctx, cls.Created, id=SETTINGS_ID, rules=dict(DEFAULT_RULES),
            dictionaries=dict(DEFAULT_DICTIONARIES),
        )

    def change(self, ctx: Context, rules: dict[str, Any], dictionaries: dict[str, Any]) -> None:
        for key, value in rules.items():
            if value is None and key != "daily_claim_limit":
                raise Invalid("validation_error", f"{key} cannot be empty", field=f"rules.{key}")
        for key, value in dictionaries.items():
            if value is None:
                raise Invalid("validation_error", f"{key} cannot be empty", field=f"dictionaries.{key}")
        new_rules = {**self.rules, **rules}
        new_dicts = {**self.dictionaries, **dictionaries}
        check_rules(new_rules)
        check_dictionaries(new_dicts)
        if new_rules != self.rules or new_dicts != self.dictionaries:
            self._record(ctx, self.Changed, rules=new_rules, dictionaries=new_dicts)


def check_rules(rules: dict[str, Any]) -> None:
    unknown = set(rules) - set(DEFAULT_RULES)
    if unknown:
        raise Invalid("unknown_field", f"unknown rule {sorted(unknown)[0]}", field="rules")
    for key in ("default_max_customers", "pool_warning_days", "reclaim_cooldown_days", "late_entry_hours"):
        if not isinstance(rules[key], int) or rules[key] < 0:
            raise Invalid("validation_error", f"{key} must be a whole number ≥ 0", field=f"rules.{key}")
    if not isinstance(rules["default_max_follow_days"], int) or rules["default_max_follow_days"] < 1:
        raise Invalid("validation_error", "must be ≥ 1", field="rules.default_max_follow_days")
    try:
        ZoneInfo(str(rules["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("validation_error", "unknown time zone", field="rules.timezone") from None
    unknown_kinds = set(rules["approval_required"]) - set(APPROVAL_KINDS)
    if unknown_kinds:
        raise Invalid("validation_error", f"approval kinds are {', '.join(APPROVAL_KINDS)}",
                      field="rules.approval_required")
    limit = rules["daily_claim_limit"]
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise Invalid("validation_error", "must be empty or ≥ 0", field="rules.daily_claim_limit")


def check_dictionaries(dictionaries: dict[str, Any]) -> None:
    unknown = set(dictionaries) - set(DEFAULT_DICTIONARIES)
    if unknown:
        raise Invalid("unknown_field", f"unknown dictionary {sorted(unknown)[0]}", field="dictionaries")
    names = type_names(dictionaries["customer_types"])
    if len(names) != len(set(names)):
        raise Invalid("validation_error", "type names must be unique", field="dictionaries.customer_types")
    for key in ("sources", "regions", "stages", "warehouses", "problem_types"):
        values = dictionaries[key]
        if len(values) != len(set(values)) or not all(isinstance(v, str) and v for v in values):
            raise Invalid("validation_error", f"{key} must be distinct names", field=f"dictionaries.{key}")
