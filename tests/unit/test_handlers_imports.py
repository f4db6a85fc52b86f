"""The customer import through `handle` with fakes (C-13): every row checked, a dry run that
keeps nothing but its log, a commit that imports the good rows with their numbers, owners and
historical dates, and keeps the refused rows with their codes in the fake import log."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import Workbook

from aggregates.customer import Customer
from aggregates.names import CustomerName
from commands import messages as m
from commands.imports import MAX_ROWS, TEMPLATE, ImportResult
from tests.unit.fakes import Team, World


@pytest.fixture
def team(w: World) -> Team:
    return w.team(cap=10)


def row(name: str, **values: str) -> dict[str, str]:
    return {**dict.fromkeys(TEMPLATE, ""), "name": name, **values}


def csv_file(rows: list[dict[str, str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=TEMPLATE)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def upload(w: World, rows: list[dict[str, str]], dry_run: bool = False, **kw: Any) -> ImportResult:
    done = w.do(m.ImportCustomers(data=csv_file(rows, **kw), filename="customers.csv", dry_run=dry_run), w.root)
    assert isinstance(done, ImportResult)
    return done


def codes(done: ImportResult) -> dict[int, tuple[str | None, str]]:
    return {e.row: (e.field, e.code) for e in done.errors}


def customer_named(w: World, name: str) -> Customer:
    index = w.store.find(CustomerName.id_for(name), CustomerName)
    assert index is not None and index.customer_id is not None, f"no customer named {name}"
    return w.customer_state(index.customer_id)


def mixed_rows(team: Team) -> tuple[list[dict[str, str]], dict[int, tuple[str | None, str]]]:
    username = team.alice.name.lower()
    rows = [
        row("导入甲", type="学校", region="华东", source="展会", contact_name="张", contact_phone="139",
            owner_username=username, created_at="2025-03-15"),  # row 2
        row("导入乙", created_at="2025-03-15 14:30"),  # row 3
        row("已有客户"),  # row 4: taken in the store
        row("导入甲"),  # row 5: the same name as row 2
        row("火星客户", region="火星"),  # row 6
        row("未来客户", created_at="2099-01-01"),  # row 7
        row("乱日客户", created_at="2025-13-45"),  # row 8
        row("远古客户", created_at="1899-12-31"),  # row 9
        row("无主客户", owner_username="nobody"),  # row 10
        row("", source="展会"),  # row 11: no name
        row("长" * 201),  # row 12
        row("只有电话", contact_phone="138"),  # row 13
        row("经理名下", owner_username=team.boss.name.lower()),  # row 14: no salesperson profile
    ]
    bad: dict[int, tuple[str | None, str]] = {4: ("name", "duplicate_name"), 5: ("name", "duplicate_in_file"), 6: ("region", "unknown_value"),
           7: ("created_at", "bad_date"), 8: ("created_at", "bad_date"), 9: ("created_at", "bad_date"),
           10: ("owner_username", "unknown_owner"), 11: ("name", "required"), 12: ("name", "too_long"),
           13: ("contact_name", "required"), 14: ("owner_username", "unknown_owner")}
    return rows, bad


def test_a_dry_run_checks_every_row_and_keeps_nothing_but_its_log(w: World, team: Team) -> None:
    w.customer(team.bob, "已有客户")
    rows, bad = mixed_rows(team)
    head, calls = w.store.head(), list(w.sequences.calls)
    done = upload(w, rows, dry_run=True)
    assert (done.rows, done.accepted, done.dry_run) == (13, 2, True)
    assert codes(done) == bad
    assert all(e.message for e in done.errors)
    assert w.store.head() == head and w.sequences.calls == calls  # no customers, no numbers drawn
    assert w.store.find(CustomerName.id_for("导入甲"), CustomerName) is None
    record = w.imports.load(done.import_id)
    assert record is not None
    assert (record["dry_run"], record["rows"], record["accepted"], record["actor_id"]) == (
        True, 13, 2, w.root.person_id)
    assert {r["row"] for r in record["rejected"]} == set(bad)


def test_a_commit_imports_the_good_rows_and_keeps_the_bad_ones(w: World, team: Team) -> None:
    w.customer(team.bob, "已有客户")
    rows, bad = mixed_rows(team)
    told = len(w.commits)
    done = upload(w, rows)
    assert (done.rows, done.accepted, done.dry_run) == (13, 2, False)
    assert codes(done) == bad
    first, second = customer_named(w, "导入甲"), customer_named(w, "导入乙")
    assert (first.number, second.number) == ("KH202611000002", "KH202611000003")  # after the one registered
    assert ("next", "customer:202611", 2) in w.sequences.calls
    assert (first.owner_id, first.type, first.region, first.source) == (team.alice.person_id, "学校", "华东", "展会")
    assert [(c["name"], c["phone"], c["primary"]) for c in first.contacts] == [("张", "139", True)]
    assert first.created_at == datetime(2025, 3, 15, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    assert second.created_at == datetime(2025, 3, 15, 6, 30, tzinfo=UTC)
    assert (second.owner_id, second.in_pool) == (None, True)
    assert w.profile(team.alice).held == [str(first.id)]
    [registered] = w.events(first.id)
    assert (registered.credited_to, registered.command_id) == (team.alice.person_id, f"import:{done.import_id}")
    assert w.commits[told:] == [done.position] == [w.store.head()]  # the read side is told once
    record = w.imports.load(done.import_id)
    assert record is not None and record["dry_run"] is False
    refused = {r["row"]: r for r in record["rejected"]}
    assert refused[6]["region"] == "火星" and "unknown_value" in refused[6]["error"]
    assert [e["code"] for e in record["errors"]] == [code for _, code in bad.values()]
    # The imported names are taken.
    assert w.refused(m.RegisterCustomer(name="导入乙"), team.bob).code == "duplicate_name"


def test_an_owners_cap_refuses_the_rows_past_it(w: World, team: Team) -> None:
    username = team.bob.name.lower()
    for n in range(8):
        w.customer(team.bob, f"已有{n}")
    rows = [row(f"导入{n}", owner_username=username.upper()) for n in range(4)]  # usernames ignore case
    done = upload(w, rows)
    assert done.accepted == 2
    assert codes(done) == {4: ("owner_username", "cap_reached"), 5: ("owner_username", "cap_reached")}
    assert len(w.profile(team.bob).held) == 10


def test_legacy_names_refuse_rows_too(w: World, team: Team) -> None:
    w.legacy_names.add("老客户", "KH201901000001")
    done = upload(w, [row("老客户"), row("新客户")])
    assert (done.accepted, codes(done)) == (1, {2: ("name", "duplicate_name")})
    assert "KH201901000001" in done.errors[0].message


def test_look_alike_names_in_one_file_are_caught_when_saved(w: World, team: Team) -> None:
    # The skeleton reservations catch look-alikes when the batch is saved, which then goes row by
    # row. (The dry run compares normalised names only, so it does not see this clash yet.)
    rows = [row("Apple"), row("\u0410pple"), row("Banana")]
    done = upload(w, rows)
    assert (done.accepted, codes(done)) == (2, {3: ("name", "duplicate_name")})
    assert customer_named(w, "Apple").name == "Apple" and customer_named(w, "Banana").name == "Banana"
    record = w.imports.load(done.import_id)
    assert record is not None and record["accepted"] == 2 and [r["row"] for r in record["rejected"]] == [3]


def test_an_xlsx_workbook_and_a_gb18030_csv_are_read(w: World, team: Team) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(TEMPLATE))
    sheet.append(["表格客户", "", "", "华南", "", "", "李", 13800000000, "", datetime(2024, 5, 6, 10, 0)])
    out = io.BytesIO()
    book.save(out)
    done = w.do(m.ImportCustomers(data=out.getvalue(), filename="customers.xlsx"), w.root)
    assert (done.accepted, done.errors) == (1, [])
    imported = customer_named(w, "表格客户")
    assert imported.contacts[0]["phone"] == "13800000000"  # not 1.38e10
    assert imported.created_at == datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
    done = upload(w, [row("国标编码客户", region="华北")], encoding="gb18030")
    assert done.accepted == 1 and customer_named(w, "国标编码客户").region == "华北"


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty_file"),
    (b"\n\n,,,\n", "empty_file"),
    (b"name,type\nx,y\n", "bad_template"),
    ((",".join(TEMPLATE) + ",password\n").encode(), "bad_template"),
    (b"\xff\xfe\xfa\xfb", "bad_encoding"),
    (b"PK\x03\x04 not really a workbook", "bad_file"),
])
def test_unreadable_files_are_refused(w: World, data: bytes, code: str) -> None:
    refused = w.refused(m.ImportCustomers(data=data, filename="x.csv"), w.root)
    assert (refused.code, refused.field) == (code, "file")
    assert w.imports.records == {}


def test_row_numbers_are_the_spreadsheets_even_after_a_blank_line(w: World) -> None:
    data = csv_file([row("好客户"), dict.fromkeys(TEMPLATE, ""), row("火星客户", region="火星")])
    done = w.do(m.ImportCustomers(data=data, filename="customers.csv", dry_run=True), w.root)
    assert codes(done) == {4: ("region", "unknown_value")}  # header 1, 好客户 2, blank 3, 火星客户 4


def test_too_many_rows_are_refused_before_any_check(w: World) -> None:
    data = (",".join(TEMPLATE) + "\n" + "x\n" * (MAX_ROWS + 1)).encode()  # short rows: cheap to read
    refused = w.refused(m.ImportCustomers(data=data, filename="big.csv"), w.root)
    assert refused.code == "too_many_rows"
    assert w.legacy_names.asked == []


def test_hostile_cells(w: World, team: Team) -> None:
    rows = [row("=HYPERLINK(\"http://evil\")"), row("控制\x07字符"), row("零宽\u200b\u200b"), row("\u200b")]
    done = upload(w, rows)
    # A formula-looking name is only text; a control character is refused when saved; invisible
    # characters are removed, and a name of nothing else is no name.
    assert codes(done) == {3: ("name", "control_character"), 5: ("name", "required")}
    assert customer_named(w, "零宽").name == "零宽"
    assert customer_named(w, "=HYPERLINK(\"http://evil\")").in_pool
