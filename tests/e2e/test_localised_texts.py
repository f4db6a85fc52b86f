"""The texts a person reads other than refusals, from the `crm` catalogue: notifications,
report and column titles, chart labels, export headings and the report page, in Chinese by
default and in English with `Accept-Language: en`; one inbox read in both languages."""

from __future__ import annotations

import csv
import io
import re

from tests.conftest import Http
from tests.e2e.helpers import ok, org_with_two_salespeople

EN = {"Accept-Language": "en"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_one_inbox_read_in_both_languages(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    # A hostile name: braces and markup are only a value, never a placeholder.
    pooled = ok(http.post("/customers", "alice", json={"name": "公海甲{kind}<b>", "to_pool": True}))
    ok(http.post("/customers/assign", "boss", json={"customer_ids": [pooled["id"]], "to_person_id": ids["bob"]}),
       200)
    ok(http.post(f"/customers/{pooled['id']}/recall", "boss", json={"reason": "重新分配"}), 200)

    chinese = http.get("/notifications", "bob").json()
    english = http.get("/notifications", "bob", headers=EN).json()
    number = pooled["number"]
    assert [n["text"] for n in chinese] == [f"客户公海甲{{kind}}<b>（{number}）已被收回公海",
                                            f"被指派客户公海甲{{kind}}<b>（{number}）"]
    assert [n["text"] for n in english] == [f"Customer 公海甲{{kind}}<b> ({number}) was taken back into the pool",
                                            f"You were assigned customer 公海甲{{kind}}<b> ({number})"]
    # The same notifications: only the words differ.
    assert [(n["id"], n["kind"], n["ref_id"]) for n in chinese] == [(n["id"], n["kind"], n["ref_id"]) for n in english]
    read = ok(http.post(f"/notifications/{english[0]['id']}/read", "bob", headers=EN), 200)
    assert read["text"] == english[0]["text"]
    # A language the catalogues do not have: the business locale.
    assert http.get("/notifications", "bob", headers={"Accept-Language": "fr"}).json()[0]["text"] == chinese[0]["text"]


def test_reports_exports_and_pages_in_both_languages(http: Http) -> None:
    org_with_two_salespeople(http)
    made = ok(http.post("/customers", "alice", json={"name": "报表客户", "region": "华东"}))
    ok(http.post(f"/customers/{made['id']}/visits", "alice", json={"notes": "首次拜访"}))

    q3 = http.get("/reports/Q-3", "root").json()
    q3_en = http.get("/reports/Q-3", "root", headers=EN).json()
    assert q3["title"] == "客户拜访查询" and q3_en["title"] == "Customer visits"
    titles = {c["key"]: c["title"] for c in q3["columns"]}
    titles_en = {c["key"]: c["title"] for c in q3_en["columns"]}
    assert titles["visited_at"] == "拜访时间" and titles_en["visited_at"] == "Visit time"
    assert set(titles) == set(titles_en) and not any(CHINESE.search(t) for t in titles_en.values())
    # The rows' values are data, the same in both; the words of the distance check follow the locale.
    assert q3["rows"][0]["customer_name"] == q3_en["rows"][0]["customer_name"] == "报表客户"
    assert q3["rows"][0]["distance_note"] != q3_en["rows"][0]["distance_note"]
    assert not CHINESE.search(q3_en["rows"][0]["distance_note"])

    s8 = http.get("/reports/S-8", "root").json()
    s8_en = http.get("/reports/S-8", "root", headers=EN).json()
    assert s8["title"] == "本年业务员月度成交金额" and not CHINESE.search(s8_en["title"])
    assert [c["title"] for c in s8["columns"]][2:5] == ["1月", "2月", "3月"]
    assert [c["title"] for c in s8_en["columns"]][2:5] == ["Jan", "Feb", "Mar"]
    assert s8["chart"]["x"][0] == "1月" and s8_en["chart"]["x"][0] == "Jan"

    catalogue = {r["id"]: r["title"] for r in http.get("/reports", "root", headers=EN).json()}
    assert catalogue["Q-3"] == "Customer visits" and not any(CHINESE.search(t) for t in catalogue.values())

    exported = http.get("/reports/Q-11", "root", params={"format": "csv"})
    exported_en = http.get("/reports/Q-11", "root", params={"format": "csv"}, headers=EN)
    head = next(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    head_en = next(csv.reader(io.StringIO(exported_en.content.decode("utf-8-sig"))))
    assert head[:2] == ["客户编号", "客户名称"] and head_en[:2] == ["Customer number", "Customer name"]
    assert len(head) == len(head_en) and not any(CHINESE.search(h) for h in head_en)
    assert "Customer%20information" in exported_en.headers["content-disposition"]

    logged = http.get("/operation-log", "root", params={"format": "csv"}, headers=EN)
    assert logged.status_code == 200, logged.text
    assert next(csv.reader(io.StringIO(logged.content.decode("utf-8-sig"))))[0] == "Time"

    page = http.client.get("/api/v1/reports/S-8/view")
    page_en = http.client.get("/api/v1/reports/S-8/view", headers=EN)
    assert '<html lang="zh-CN">' in page.text and "本年业务员月度成交金额" in page.text and "登录" in page.text
    assert '<html lang="en">' in page_en.text and "Sign in" in page_en.text and "Page {page} of {last}" in page_en.text
