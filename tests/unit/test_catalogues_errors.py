"""The `errors` catalogue: every refusal's message the code writes has a Chinese translation
with the same placeholders, no message is built in a way extraction cannot see, and a refusal
keeps its English text for logs while the edge renders it in the reader's locale."""

from __future__ import annotations

import ast
import string
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from aggregates.base import Conflict, Invalid
from aggregates.settings import DEFAULT_RULES, LOCALES, Settings, check_rules
from api.errors import ApiError, InvalidValue, localised, validation_message
from readmodels import i18n

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("aggregates", "commands", "projections", "readmodels", "api", "workers")
# The refusals and the message position of each (1-based), as `make messages` extracts them.
KEYWORDS: dict[str, Any] = {
    "Invalid": (2,), "Conflict": (2,), "Forbidden": (2,), "NotFound": (2,), "DomainError": (2,),
    "UnsupportedPhoto": (2,), "PhotoTooLarge": (2,), "ApiError": (3,), "InvalidValue": None, "E_": None,
    "refuse": (3,),  # an import row's refusal
}
MESSAGE_AT = {name: (spec[0] - 1 if spec else 0) for name, spec in KEYWORDS.items()}


def code_messages() -> dict[str, str]:
    """Every `errors` message id in the source, with one place it is written."""
    found: dict[str, str] = {}
    for folder in SOURCES:
        for filename, lineno, message, _, _ in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=()):
            if isinstance(message, str) and message:
                found.setdefault(message, f"{folder}/{filename}:{lineno}")
    return found


def catalogue(locale: str) -> dict[str, str]:
    path = ROOT / "readmodels" / "locales" / locale / "LC_MESSAGES" / "errors.po"
    with path.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle, locale=locale) if m.id}


def placeholders(text: str) -> list[tuple[str, str | None, str]]:
    """The `{name!conversion:spec}` fields of a message, sorted."""
    return sorted((name, conversion, spec or "") for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None)


def test_the_extraction_sees_the_refusals() -> None:
    found = code_messages()
    for message in ("a customer with this name exists already: {number}",
                    "the salesperson holds {held} customers, the limit is {cap}",
                    "the token has expired", "Field required", "Not Found"):
        assert message in found
    assert len(found) > 250


def test_every_message_has_a_chinese_translation_with_the_same_placeholders() -> None:
    zh = catalogue("zh_CN")
    untranslated = {m: where for m, where in code_messages().items() if not zh.get(m)}
    assert not untranslated, f"add these to the zh_CN errors.po (`make messages`): {untranslated}"
    wrong = {m: zh[m] for m in code_messages() if placeholders(zh[m]) != placeholders(m)}
    assert not wrong, wrong
    # Chinese, not the English copied: a translation with words has Chinese in it.
    english = [m for m in code_messages() if not any("\u4e00" <= ch <= "\u9fff" for ch in zh[m])
               and any(ch.isalpha() for literal, _, _, _ in string.Formatter().parse(zh[m]) for ch in literal)]
    assert not english, english


def test_the_english_catalogue_holds_every_message_and_no_catalogue_holds_dead_ones() -> None:
    messages = set(code_messages())
    en, zh = catalogue("en"), catalogue("zh_CN")
    assert set(en) == messages == set(zh)
    assert all(not text or placeholders(text) == placeholders(m) for m, text in en.items())


def _message_argument(call: ast.Call, name: str) -> ast.expr | None:
    at = MESSAGE_AT[name]
    if len(call.args) > at:
        return call.args[at]
    return next((k.value for k in call.keywords if k.arg in ("template", "message")), None)


def test_no_refusal_builds_its_message() -> None:
    """A message written as an f-string, a concatenation or a `.format()` is invisible to
    extraction: the template is a literal, its values keyword arguments. (A message looked up
    from a table is a literal marked `E_()` where the table defines it.)"""
    built = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name not in KEYWORDS or (name == "refuse" and not isinstance(func, ast.Attribute)):
                    continue  # (`row.refuse(...)` is an import row's refusal; a function `refuse` is not)
                message = _message_argument(node, name)
                looked_up = isinstance(message, ast.Name | ast.Subscript | ast.Attribute)
                if not looked_up and not (isinstance(message, ast.Constant) and isinstance(message.value, str)):
                    built.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:100]}")
    assert not built, built


def test_a_refusal_keeps_english_and_its_template() -> None:
    refusal = Conflict("over_invoiced", "only {left} is left to invoice", field="amount",
                       details={"remaining": "3.50"}, left="3.50")
    assert (refusal.message, str(refusal)) == ("only 3.50 is left to invoice",) * 2
    assert (refusal.template, refusal.params, refusal.field) == ("only {left} is left to invoice", {"left": "3.50"},
                                                                 "amount")
    named = Invalid("validation_error", "{field} is required", field="name")
    assert named.message == "name is required" and named.params == {"field": "name"}
    braces = Invalid("validation_error", "use {curly} braces")  # no values: the text as written
    assert braces.message == "use {curly} braces"
    edge = ApiError(413, "too_large", "the file is larger than {limit} bytes", field="file", limit=10)
    assert (edge.status, edge.code, edge.message) == (413, "too_large", "the file is larger than 10 bytes")


def test_the_edge_renders_a_refusal_in_the_current_locale() -> None:
    refusal = Conflict("cap_reached", "the salesperson holds {held} customers, the limit is {cap}", held=3, cap=3)
    token = i18n.use_locale("zh_CN")
    try:
        assert localised(refusal) == "该销售已持有 3 个客户，上限为 3 个"
    finally:
        i18n.reset_locale(token)
    token = i18n.use_locale("en")
    try:
        assert localised(refusal) == refusal.message
    finally:
        i18n.reset_locale(token)


def test_validation_messages_are_translated_by_type_and_fall_back_to_pydantic() -> None:
    too_long = {"type": "string_too_long", "msg": "String should have at most 200 characters",
                "ctx": {"max_length": 200}, "loc": ("body", "name")}
    mine = {"type": "value_error", "msg": "Value error, must lie between the years 2000 and 2099",
            "ctx": {"error": InvalidValue("must lie between the years {min_year} and {max_year}",
                                          min_year=2000, max_year=2099)}}
    unknown = {"type": "something_new", "msg": "Something new went wrong", "ctx": {}}
    odd = {"type": "greater_than", "msg": "Input should be greater than 0", "ctx": {}}  # ctx lacks `gt`
    token = i18n.use_locale("zh_CN")
    try:
        assert validation_message(too_long) == "最多 200 个字符"
        assert validation_message(mine) == "年份应在 2000 到 2099 之间"
        assert validation_message(unknown) == "Something new went wrong"
        assert validation_message(odd) == "Input should be greater than 0"
    finally:
        i18n.reset_locale(token)
    token = i18n.use_locale("en")
    try:
        assert validation_message(too_long) == too_long["msg"]
        assert validation_message(mine) == mine["msg"]
    finally:
        i18n.reset_locale(token)


def test_the_business_locale_is_a_rule_of_the_supported_locales() -> None:
    assert DEFAULT_RULES["locale"] == "zh_CN" == i18n.DEFAULT_LOCALE
    assert LOCALES == i18n.SUPPORTED
    check_rules({**DEFAULT_RULES, "locale": "en"})
    for wrong in ("fr", "zh-CN", "", None, ["en"], "EN"):
        with pytest.raises(Invalid) as refused:
            check_rules({**DEFAULT_RULES, "locale": wrong})
        assert (refused.value.code, refused.value.field) == ("validation_error", "rules.locale")


def test_settings_stored_before_the_locale_rule_read_with_chinese() -> None:
    before = {k: v for k, v in DEFAULT_RULES.items() if k != "locale"}
    for event_class in (Settings.Created, Settings.Changed):
        state: dict[str, Any] = {"rules": dict(before), "dictionaries": {}}
        event_class.upcast_v2_v3(state)
        assert state["rules"] == {**before, "locale": "zh_CN"}
        kept: dict[str, Any] = {"rules": {**before, "locale": "en"}, "dictionaries": {}}
        event_class.upcast_v2_v3(kept)
        assert kept["rules"]["locale"] == "en"
