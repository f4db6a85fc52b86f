"""Refusals speak the reader's language: Chinese by default (the business locale, a setting),
English with `Accept-Language: en`, the business locale for a language the service does not
have; the code, field and details are the same in every language, and `Content-Language`
names the one answered in."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok, org_with_two_salespeople

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


def han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.fixture
def org(http: Http) -> dict[str, Any]:
    return org_with_two_salespeople(http)


def untranslated(details: dict[str, Any]) -> dict[str, Any]:
    """The details without the validation errors' translated `message`s."""
    if "errors" not in details:
        return details
    return {**details, "errors": [{k: v for k, v in e.items() if k != "message"} for e in details["errors"]]}


def in_each_language(send: Any, status: int, code: str) -> dict[str, tuple[dict[str, Any], str]]:
    """The same refusal asked for by default, in Chinese, in English, in French and in a
    weighted list preferring English: each error and its Content-Language."""
    answers = {}
    for name, headers in (("default", {}), ("zh", ZH), ("en", EN), ("fr", {"Accept-Language": "fr-FR"}),
                          ("weighted", {"Accept-Language": "fr;q=0.9, en-GB;q=0.8, zh;q=0.1"})):
        response = send(headers)
        answers[name] = (assert_error(response, status, code), response.headers.get("content-language"))
    shapes = {(e["code"], e["field"], repr(untranslated(e["details"]))) for e, _ in answers.values()}
    assert len(shapes) == 1, answers  # the code, the field and the details do not depend on the language
    return answers


def test_a_duplicate_name_is_refused_in_the_readers_language(http: Http, org: dict[str, Any]) -> None:
    number = ok(http.post("/customers", "alice", json={"name": "上海示例科技有限公司"}))["number"]
    answers = in_each_language(lambda headers: http.post("/customers", "bob", headers=headers,
                                                         json={"name": "上海示例科技有限公司"}), 409, "duplicate_name")
    assert answers["default"] == answers["zh"] == answers["fr"] == (answers["zh"][0], "zh-CN")
    assert answers["zh"][0]["message"] == f"已存在同名客户：{number}"
    assert answers["en"] == answers["weighted"]
    assert answers["en"][0]["message"] == f"a customer with this name exists already: {number}"
    assert answers["en"][1] == "en"
    assert answers["zh"][0]["details"] == {"number": number}


def test_a_claim_over_the_limit_is_refused_in_the_readers_language(http: Http, org: dict[str, Any]) -> None:
    for name in ("甲公司", "乙公司"):
        ok(http.post("/customers", "alice", json={"name": name}))
    pool = ok(http.post("/customers", "root", json={"name": "公海客户", "to_pool": True}))["id"]
    answers = in_each_language(lambda headers: http.post(f"/customers/{pool}/claim", "alice", headers=headers),
                               409, "cap_reached")
    assert answers["default"][0]["message"] == answers["zh"][0]["message"] == "该销售已持有 2 个客户，上限为 2 个"
    assert answers["en"][0]["message"] == "the salesperson holds 2 customers, the limit is 2"
    assert answers["en"][0]["details"] == {"held": 2, "max_customers": 2}
    assert [lang for _, lang in answers.values()] == ["zh-CN", "zh-CN", "en", "zh-CN", "en"]
    # A batch answers each customer's refusal in the same language as a single refusal.
    batch = http.post("/customers/claim", "alice", headers=EN, json={"customer_ids": [pool]})
    assert batch.status_code == 200, batch.text
    [item] = batch.json()["results"]
    assert (item["error"]["code"], item["error"]["message"]) == ("cap_reached", answers["en"][0]["message"])
    [item] = http.post("/customers/claim", "alice", json={"customer_ids": [pool]}).json()["results"]
    assert item["error"]["message"] == answers["zh"][0]["message"]


def test_a_too_long_name_is_a_translated_validation_error(http: Http, org: dict[str, Any]) -> None:
    answers = in_each_language(lambda headers: http.post("/customers", "alice", headers=headers,
                                                         json={"name": "名" * 201}), 422, "validation_error")
    zh, en = answers["zh"][0], answers["en"][0]
    assert zh["field"] == "name" and zh["message"] == "最多 200 个字符"
    assert en["message"] == "String should have at most 200 characters"  # pydantic's own English
    assert zh["details"]["errors"][0]["type"] == "string_too_long"
    assert zh["details"]["errors"][0]["msg"] == en["message"]  # pydantic's text stays beside the translation
    assert zh["details"]["errors"][0]["message"] == zh["message"]


def test_other_validation_errors_are_translated_too(http: Http, org: dict[str, Any]) -> None:
    cases = [
        ({}, "name", "必填项", "Field required"),
        ({"name": "好", "unexpected": 1}, "unexpected", "不允许的字段", "Extra inputs are not permitted"),
        ({"name": "好", "lat": 91}, "lat", "应小于或等于 90", "Input should be less than or equal to 90"),
        ({"name": "好", "to_pool": "perhaps"}, "to_pool", "应为 true 或 false，无法识别输入",
         "Input should be a valid boolean, unable to interpret input"),
    ]
    for body, field, chinese, english in cases:
        zh = assert_error(http.post("/customers", "alice", json=body), 422, "validation_error")
        assert (zh["field"], zh["message"]) == (field, chinese)
        en = assert_error(http.post("/customers", "alice", json=body, headers=EN), 422, "validation_error")
        assert (en["field"], en["message"]) == (field, english)
    broken = http.client.post("/api/v1/customers", content=b'{"name": ',
                              headers={**http.as_("alice"), "content-type": "application/json"})
    assert assert_error(broken, 422, "validation_error")["message"].startswith("JSON 格式错误")


def test_edge_refusals_are_translated(http: Http, org: dict[str, Any]) -> None:
    unknown_route = http.client.get("/api/v1/no-such-thing")
    assert assert_error(unknown_route, 404, "not_found")["message"] == "未找到"
    assert unknown_route.headers["content-language"] == "zh-CN"
    english = http.client.get("/api/v1/no-such-thing", headers=EN)
    assert (assert_error(english, 404, "not_found")["message"], english.headers["content-language"]) == (
        "Not Found", "en")
    wrong_method = http.client.patch("/api/v1/auth/token")
    assert assert_error(wrong_method, 405, "method_not_allowed")["message"] == "不支持该请求方法"
    assert assert_error(http.client.get("/api/v1/customers"), 401, "not_authenticated")["message"] == "请先登录"
    assert assert_error(http.client.get("/api/v1/customers", headers=EN), 401,
                        "not_authenticated")["message"] == "sign in first"
    control = http.get("/customers", "alice", params={"q": "a\x01b"})
    assert assert_error(control, 422, "control_character")["message"] == "q 含有控制字符（U+0001）"
    forbidden = assert_error(http.get("/operation-log", "alice", headers=EN), 403)
    assert not han(forbidden["message"])
    assert han(assert_error(http.get("/operation-log", "alice"), 403)["message"])


def test_hostile_accept_language_headers_get_the_business_locale(http: Http, org: dict[str, Any]) -> None:
    for header in ("", "*", "en;q=0", "xx-\u202e", ";;;,,,q=", "en;q=abc", "zh-TW", "de, fr, " * 200, "\U0001F600"):
        response = http.client.get("/api/v1/customers", headers={"Accept-Language": header.encode("utf-8")})
        error = assert_error(response, 401, "not_authenticated")
        assert response.headers["content-language"] in ("zh-CN", "en"), header
        assert han(error["message"]) == (response.headers["content-language"] == "zh-CN"), header


def test_the_business_locale_is_a_setting(http: Http, org: dict[str, Any]) -> None:
    assert http.get("/settings", "alice").json()["rules"]["locale"] == "zh_CN"
    refused = assert_error(http.put("/settings", "root", json={"rules": {"locale": "fr"}}), 422, "validation_error")
    assert (refused["field"], refused["details"]) == ("rules.locale", {"locales": ["zh_CN", "en"]})
    assert http.get("/settings", "alice").json()["rules"]["locale"] == "zh_CN"

    changed = http.put("/settings", "root", json={"rules": {"locale": "en"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["rules"]["locale"] == "en"
    number = ok(http.post("/customers", "alice", json={"name": "英文公司"}))["number"]
    for headers in ({}, {"Accept-Language": "fr"}):  # no language, or one the service lacks: now English
        response = http.post("/customers", "bob", json={"name": "英文公司"}, headers=headers)
        error = assert_error(response, 409, "duplicate_name")
        assert error["message"] == f"a customer with this name exists already: {number}"
        assert response.headers["content-language"] == "en"
    zh = assert_error(http.post("/customers", "bob", json={"name": "英文公司"}, headers=ZH), 409, "duplicate_name")
    assert zh["message"] == f"已存在同名客户：{number}"  # a reader who asks for Chinese still gets it

    assert http.put("/settings", "root", json={"rules": {"locale": "zh_CN"}}).status_code == 200
    back = http.post("/customers", "bob", json={"name": "英文公司"})
    assert back.headers["content-language"] == "zh-CN"
    assert assert_error(back, 409, "duplicate_name")["message"] == zh["message"]


def test_an_imports_row_errors_are_in_the_readers_language(http: Http, org: dict[str, Any]) -> None:
    number = ok(http.post("/customers", "bob", json={"name": "已有客户"}))["number"]
    header = "name,type,source,region,address,building,contact_name,contact_phone,owner_username,created_at\n"
    data = (header + "已有客户,,,,,,,,,\n新客户,,,火星,,,,,,\n另一个客户,,,,,,,,,2099-01-01\n").encode()

    def upload(headers: dict[str, str]) -> Any:
        return ok(http.post("/imports/customers", "root", headers=headers, data={"dry_run": "false"},
                            files={"file": ("customers.csv", data, "text/csv")}), 200)

    zh = upload({})
    assert [(e["row"], e["field"], e["code"], e["message"]) for e in zh["errors"]] == [
        (2, "name", "duplicate_name", f"已存在同名客户：{number}"),
        (3, "region", "unknown_value", "'火星' 不是有效的 region"),
        (4, "created_at", "bad_date", "不能晚于现在")]
    assert set(zh["errors"][0]) == {"row", "field", "code", "message"}
    en = http.get(f"/imports/{zh['import_id']}", "root", headers=EN).json()
    assert [e["message"] for e in en["errors"]] == [
        f"a customer with this name exists already: {number}", "'火星' is not a known region", "lies in the future"]
    assert http.get(f"/imports/{zh['import_id']}", "root").json()["errors"] == zh["errors"]
    rejects = http.get(f"/imports/{zh['import_id']}/rejects", "root", headers=EN)
    assert rejects.status_code == 200 and "name duplicate_name: a customer with this name exists already" in rejects.text
    assert "region unknown_value: '火星' 不是有效的 region" in http.get(f"/imports/{zh['import_id']}/rejects",
                                                                     "root").text
