"""Rules and dictionaries (one Settings aggregate), with Chinese defaults."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aggregates import bounds
from aggregates.approval import POLICIES
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
    # Seed 000 §2 (杜绝编造、补录): whether a visit needs its photo, and how far from the
    # customer its GPS position may lie before the visit is flagged `far_from_customer`.
    "visit_photo_required": False,
    "visit_max_distance_m": 1000,
    # The language of every message where a request names none of the supported ones.
    "locale": "zh_CN",
}
# The upper bounds of the rules that are counts or spans of time (aggregates/bounds.py).
RULE_LIMITS = {"default_max_customers": bounds.COUNT_MAX, "default_max_follow_days": bounds.DAYS_MAX,
               "pool_warning_days": bounds.DAYS_MAX, "reclaim_cooldown_days": bounds.DAYS_MAX,
               "late_entry_hours": bounds.HOURS_MAX}
# The locales the message catalogues hold (readmodels/locales); the business locale is one of them.
LOCALES = ("zh_CN", "en")
# The bounds of `visit_max_distance_m`: phones' GPS is good to some metres; 100 km is no check.
VISIT_DISTANCE_MIN, VISIT_DISTANCE_MAX = 10, 100_000

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

# The kinds the approval policy takes (AP-1): every one AP-1 names.
APPROVAL_KINDS = tuple(POLICIES)

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
        "timezone": 64, "locale": 16,
    }
    rules: dict[str, Any]
    dictionaries: dict[str, Any]

    def __init__(self) -> None:
        """Empty: the Created event's apply() sets the state."""

    class Created(CrmAggregate.Created):
        """Version 2: the rules hold the visit rules (seed 000 §2). Version 3: and the locale."""

        rules: dict[str, Any]
        dictionaries: dict[str, Any]

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            _with_visit_rules(state)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            _with_locale(state)

        def apply(self, s: Settings) -> None:
            s.rules = dict(self.rules)
            s.dictionaries = dict(self.dictionaries)

    class Changed(CrmAggregate.Event):
        """Version 2: the rules hold the visit rules (seed 000 §2). Version 3: and the locale."""

        rules: dict[str, Any]
        dictionaries: dict[str, Any]

        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            _with_visit_rules(state)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            _with_locale(state)

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
                raise Invalid("validation_error", "{key} cannot be empty", field=f"rules.{key}", key=key)
        for key, value in dictionaries.items():
            if value is None:
                raise Invalid("validation_error", "{key} cannot be empty", field=f"dictionaries.{key}", key=key)
        new_rules = {**self.rules, **rules}
        new_dicts = {**self.dictionaries, **dictionaries}
        check_rules(new_rules)
        check_dictionaries(new_dicts)
        if new_rules != self.rules or new_dicts != self.dictionaries:
            self._record(ctx, self.Changed, rules=new_rules, dictionaries=new_dicts)


def _with_visit_rules(state: dict[str, Any]) -> None:
    """Rules stored before the visit rules existed had them at their defaults."""
    for key in ("visit_photo_required", "visit_max_distance_m"):
        state["rules"].setdefault(key, DEFAULT_RULES[key])


def _with_locale(state: dict[str, Any]) -> None:
    """Rules stored before the business locale was a rule were shown in Chinese, its default."""
    state["rules"].setdefault("locale", DEFAULT_RULES["locale"])


def check_visit_rules(rules: dict[str, Any]) -> None:
    if not isinstance(rules["visit_photo_required"], bool):
        raise Invalid("validation_error", "must be true or false", field="rules.visit_photo_required")
    distance = rules["visit_max_distance_m"]
    if isinstance(distance, bool) or not isinstance(distance, int) \
            or not VISIT_DISTANCE_MIN <= distance <= VISIT_DISTANCE_MAX:
        raise Invalid("validation_error", "must be a whole number of metres from {minimum} to {maximum}",
                      field="rules.visit_max_distance_m",
                      details={"min": VISIT_DISTANCE_MIN, "max": VISIT_DISTANCE_MAX},
                      minimum=VISIT_DISTANCE_MIN, maximum=VISIT_DISTANCE_MAX)


def check_rules(rules: dict[str, Any]) -> None:
    unknown = set(rules) - set(DEFAULT_RULES)
    if unknown:
        raise Invalid("unknown_field", "unknown rule {rule}", field="rules", rule=sorted(unknown)[0])
    for key in ("default_max_customers", "pool_warning_days", "reclaim_cooldown_days", "late_entry_hours"):
        if isinstance(rules[key], bool) or not isinstance(rules[key], int) or rules[key] < 0:
            raise Invalid("validation_error", "{key} must be a whole number ≥ 0", field=f"rules.{key}", key=key)
    follow = rules["default_max_follow_days"]
    if isinstance(follow, bool) or not isinstance(follow, int) or follow < 1:
        raise Invalid("validation_error", "must be ≥ 1", field="rules.default_max_follow_days")
    for key, limit in RULE_LIMITS.items():
        bounds.at_most(rules[key], f"rules.{key}", limit)
    try:
        ZoneInfo(str(rules["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("validation_error", "unknown time zone", field="rules.timezone") from None
    if rules["locale"] not in LOCALES:
        raise Invalid("validation_error", "the locale is one of {locales}", field="rules.locale",
                      details={"locales": list(LOCALES)}, locales=", ".join(LOCALES))
    kinds = rules["approval_required"]
    if not isinstance(kinds, list) or not all(isinstance(k, str) and k in APPROVAL_KINDS for k in kinds):
        raise Invalid("validation_error", "approval kinds are {kinds}",
                      field="rules.approval_required", kinds=', '.join(APPROVAL_KINDS))
    limit = rules["daily_claim_limit"]
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise Invalid("validation_error", "must be empty or ≥ 0", field="rules.daily_claim_limit")
    if limit is not None:
        bounds.at_most(limit, "rules.daily_claim_limit", bounds.COUNT_MAX)
    check_visit_rules(rules)


def check_dictionaries(dictionaries: dict[str, Any]) -> None:
    unknown = set(dictionaries) - set(DEFAULT_DICTIONARIES)
    if unknown:
        raise Invalid("unknown_field", "unknown dictionary {dictionary}", field="dictionaries",
                      dictionary=sorted(unknown)[0])
    names = type_names(dictionaries["customer_types"])
    if len(names) != len(set(names)):
        raise Invalid("validation_error", "type names must be unique", field="dictionaries.customer_types")
    for key in ("sources", "regions", "stages", "warehouses", "problem_types"):
        values = dictionaries[key]
        if len(values) != len(set(values)) or not all(isinstance(v, str) and v for v in values):
            raise Invalid("validation_error", "{key} must be distinct names", field=f"dictionaries.{key}", key=key)
