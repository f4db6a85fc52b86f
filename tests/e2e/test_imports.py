"""C-13: the template, a dry run with per-row errors, a commit that imports the good rows
and keeps the bad ones to download, historical dates and owners credited (D-5)."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

from openpyxl import Workbook, load_workbook

from commands.adapters.clock import ManualClock
from commands.imports import TEMPLATE
from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok, org_with_two_salespeople

REGIONS = ["华东", "华南", "华北"]


def csv_file(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=TEMPLATE)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def upload(http: Http, data: bytes, filename: str = "customers.csv", dry_run: bool = False, who: str = "root") -> Any:
    return http.post("/imports/customers", who, data={"dry_run": str(dry_run).lower()},
                     files={"file": (filename, data, "application/octet-stream")})


def thousand_rows() -> tuple[list[dict[str, str]], dict[int, tuple[str, str]]]:
    """1,000 rows, 20 of them bad in four ways; the bad ones by spreadsheet row number."""
    rng = random.Random(7)
    rows, bad = [], {}
    for n in range(1000):
        rows.append({"name": f"历史客户{n:04d}有限公司", "type": rng.choice(["国有企业", "民营企业", "学校"]),
                     "source": "展会", "region": rng.choice(REGIONS), "address": f"某市某路{n}号", "building": "",
                     "contact_name": f"联系人{n}" if n % 3 else "", "contact_phone": f"1390000{n:04d}" if n % 3 else "",
                     "owner_username": "alice" if n % 2 else "", "created_at": f"2025-{n % 12 + 1:02d}-15"})
    for k, n in enumerate(range(5, 1000, 50)):
        row = n + 2  # the header is row 1
        kind = k % 4
        if kind == 0:
            rows[n]["name"] = "已有客户"
            bad[row] = ("name", "duplicate_name")
        elif kind == 1:
            rows[n]["region"] = "火星"
            bad[row] = ("region", "unknown_value")
        elif kind == 2:
            rows[n]["created_at"] = "2025-13-45" if k % 8 == 2 else "2099-01-01"
            bad[row] = ("created_at", "bad_date")
        else:
            rows[n]["name"] = rows[n - 1]["name"]
            bad[row] = ("name", "duplicate_in_file")
    return rows, bad


def test_import_a_thousand_rows_with_twenty_bad_ones(http: Http, clock: ManualClock) -> None:
    ids = org_with_two_salespeople(http)
    ok(http.patch(f"/people/{ids['alice']}", "root", json={"max_customers": 1000}), 200)
    ok(http.post("/customers", "bob", json={"name": "已有客户"}))
    rows, bad = thousand_rows()
    data = csv_file(rows)
    before = http.get("/customers", "root", params={"page_size": 1}).json()["total"]

    checked = ok(upload(http, data, dry_run=True), 200)
    assert (checked["rows"], checked["accepted"], checked["dry_run"]) == (1000, 980, True)
    assert {e["row"]: (e["field"], e["code"]) for e in checked["errors"]} == bad
    assert http.get("/customers", "root", params={"page_size": 1}).json()["total"] == before

    done = ok(upload(http, data), 200)
    assert (done["rows"], done["accepted"], done["dry_run"]) == (1000, 980, False)
    assert {e["row"]: (e["field"], e["code"]) for e in done["errors"]} == bad
    assert all(e["message"] for e in done["errors"])
    listed = http.get("/customers", "root", params={"page_size": 1, "q": "历史客户"}).json()
    assert listed["total"] == 980
    # No partial customer: the refused rows' names are free, nobody holds them.
    for row in (r for n, r in enumerate(rows, start=2) if n in bad and bad[n][1] in ("unknown_value", "bad_date")):
        assert http.get("/customers", "root", params={"q": row["name"]}).json()["total"] == 0
        ok(http.post("/customers", "bob", json={"name": row["name"]}))
        break
    # Owners, contacts, the historical date, the credit (D-5).
    sample = http.get("/customers", "root", params={"q": "历史客户0001有限公司"}).json()["items"][0]
    assert (sample["owner_id"], sample["created_at"][:10], sample["primary_contact_name"]) == (
        ids["alice"], "2025-02-15", "联系人1")
    pooled = http.get("/customers", "root", params={"q": "历史客户0000有限公司"}).json()["items"][0]
    assert pooled["in_pool"] is True
    owned = sum(1 for n, r in enumerate(rows, start=2) if n not in bad and r["owner_username"] == "alice")
    alice = next(p for p in http.get("/people", "root").json() if p["id"] == ids["alice"])
    assert alice["held_customers"] == owned
    q1 = http.get("/reports/Q-1", "root", params={"year": 2025, "page_size": 1}).json()
    assert q1["total"] == 980
    credited = http.get("/reports/Q-1", "root", params={"year": 2025, "person_id": ids["alice"],
                                                         "page_size": 1}).json()
    assert credited["total"] == owned

    # The refused rows, ready to fix and upload again.
    rejects = http.get(done["rejects_url"].removeprefix("/api/v1"), "root", params={"format": "csv"})
    table = list(csv.reader(io.StringIO(rejects.content.decode("utf-8-sig"))))
    assert table[0] == ["行号", *TEMPLATE, "错误"]
    assert sorted(int(r[0]) for r in table[1:]) == sorted(bad)
    summary = http.get(f"/imports/{done['import_id']}", "root").json()
    assert (summary["accepted"], summary["dry_run"], len(summary["errors"])) == (980, False, 20)


def test_xlsx_template_and_bad_files(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    template = http.get("/imports/customers/template", "root", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(template.content)).active
    assert sheet is not None and list(next(sheet.values)) == list(TEMPLATE)
    as_csv = http.get("/imports/customers/template", "root").content.decode("utf-8-sig").splitlines()
    assert as_csv[0] == ",".join(TEMPLATE)

    book = Workbook()
    page = book.active
    assert page is not None
    page.append(list(TEMPLATE))
    page.append(["表格客户", "学校", "", "华北", "", "", "赵老师", 13912345678, "bob", "2024-06-01 10:30"])
    page.append(["表格客户二", "", "", "", "", "", "", "", "nobody", ""])
    out = io.BytesIO()
    book.save(out)
    done = ok(upload(http, out.getvalue(), "customers.xlsx"), 200)
    assert (done["accepted"], [(e["row"], e["field"], e["code"]) for e in done["errors"]]) == (
        1, [(3, "owner_username", "unknown_owner")])
    row = http.get("/customers", "root", params={"q": "表格客户"}).json()["items"][0]
    assert (row["owner_id"], row["primary_contact_phone"], row["created_at"]) == (
        ids["bob"], "13912345678", "2024-06-01T02:30:00Z")
    # The cap holds: bob may hold 2.
    more = csv_file([{**dict.fromkeys(TEMPLATE, ""), "name": f"上限客户{n}", "owner_username": "bob"}
                     for n in range(3)])
    capped = ok(upload(http, more), 200)
    assert (capped["accepted"], [e["code"] for e in capped["errors"]]) == (1, ["cap_reached", "cap_reached"])

    assert_error(upload(http, b"name,colour\nx,red\n"), 422, "bad_template")
    assert_error(upload(http, b""), 422)
    assert_error(upload(http, b"PK\x03\x04 not a workbook", "x.xlsx"), 422, "bad_file")
    assert_error(upload(http, csv_file([]), who="alice"), 403)
    assert_error(http.post("/imports/customers", "root", data={"dry_run": "maybe"},
                           files={"file": ("a.csv", csv_file([]), "text/csv")}), 422)
