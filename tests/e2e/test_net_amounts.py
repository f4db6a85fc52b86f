"""D-2, D-3 and S-17 as amended: a contract's net amount is its amount less its returns,
plus or minus its exchanges' price differences. Over HTTP, on SQLite and PostgreSQL: the
contract's outstanding amount and credit, red-letter invoices (红字发票), the customer's
deal total, receivable and credit, target attainment; S-6..S-11 and S-17 against figures
computed by hand, with a return in a later month than its deal, an exchange for another
product at another price and a customer who moves region before a return; negative month
figures, pie charts without the regions whose net is not positive, S-18 unchanged, Q-6 rows
that add up to S-9 and S-10; and the contract filters of 选择未完成开票的合同."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from tests.conftest import Http, assert_error, read_model_snapshot
from tests.e2e.helpers import ok


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def report(http: Http, report_id: str, who: str = "root", **params: Any) -> dict[str, Any]:
    return ok(http.get(f"/reports/{report_id}", who, params={"page_size": 500, **params}), 200)


def rows(http: Http, report_id: str, keys: tuple[str, ...], who: str = "root", **params: Any) -> list[tuple]:
    return [tuple(row[k] for k in keys) for row in report(http, report_id, who, **params)["rows"]]


def stock_in(http: Http, who: str, product: str, quantity: str, cost: str) -> None:
    ok(http.post(f"/products/{product}/stock-ins", who, json={"warehouse": "W1", "quantity": quantity,
                                                               "unit_cost": cost}))


def contract(http: Http, who: str, customer: str, number: str, signed_on: str, **body: Any) -> str:
    return str(ok(http.post("/contracts", who, json={"customer_id": customer, "number": number,
                                                     "name": f"{number}合同", "signed_on": signed_on, **body}))["id"])


def lines(product: str, quantity: str, price: str) -> list[dict[str, str]]:
    return [{"product_id": product, "quantity": quantity, "unit_price": price}]


def deliver(http: Http, who: str, cid: str, product: str, quantity: str, on: str | None = None) -> str:
    body: dict[str, Any] = {"lines": [{"product_id": product, "warehouse": "W1", "quantity": quantity}]}
    if on:
        body["delivered_on"] = on
    return str(ok(http.post(f"/contracts/{cid}/deliveries", who, json=body))["delivery_id"])


def give_back(http: Http, who: str, cid: str, delivery: str, product: str, quantity: str,
              on: str | None = None) -> Any:
    body: dict[str, Any] = {"delivery_id": delivery, "lines": [{"product_id": product, "quantity": quantity}]}
    if on:
        body["returned_on"] = on
    return http.post(f"/contracts/{cid}/returns", who, json=body)


def pay(http: Http, who: str, customer: str, cid: str | None, amount: str) -> Any:
    return http.post("/payments", who, json={"customer_id": customer, "contract_id": cid, "amount": amount})


# ---- the contract and the customer ---------------------------------------------------------------


def test_a_return_lowers_what_the_customer_owes(http: Http, shop: dict[str, str]) -> None:
    """The example of the amendment: contract 465,000, collected 150,000, a return of 155,000."""
    product, customer = shop["product"], shop["customer"]
    stock_in(http, "keeper", product, "3", "100000.00")
    ok(http.post("/targets", "boss", json={"person_id": shop["alice"], "period": "2026年11月", "start": "2026-11-01",
                                           "end": "2026-11-30", "deal_amount": "500000.00"}))
    cid = contract(http, "alice", customer, "HT-465", "2026-11-02", lines=lines(product, "3", "155000.00"))
    ok(pay(http, "alice", customer, cid, "150000.00"))
    ok(http.post(f"/contracts/{cid}/invoices", "alice", json={"amount": "465000.00", "invoiced_on": "2026-11-02"}))
    delivery = deliver(http, "keeper", cid, product, "3")
    ok(give_back(http, "keeper", cid, delivery, product, "1", "2026-11-20"))

    view = ok(http.get(f"/contracts/{cid}", "alice"), 200)
    assert (view["amount"], view["returned_amount"], view["exchange_difference"], view["net_amount"]) == (
        "465000.00", "155000.00", "0.00", "310000.00")
    assert (view["collected"], view["outstanding"], view["credit"]) == ("150000.00", "160000.00", "0.00")
    # Invoiced beyond the net amount: a red-letter invoice is due, nothing is left to invoice.
    assert (view["invoiced"], view["remaining_to_invoice"], view["to_credit"], view["fully_invoiced"]) == (
        "465000.00", "0.00", "155000.00", True)
    [line] = view["lines"]
    assert (line["signed_quantity"], line["quantity"], line["delivered"], line["returned"], line["remaining"],
            line["amount"]) == ("3.0000", "2.0000", "2.0000", "1.0000", "0.0000", "310000.00")
    person = ok(http.get(f"/customers/{customer}", "alice"), 200)
    assert (person["deal_total"], person["collected_total"], person["receivable"], person["credit"],
            person["invoiced_total"]) == ("310000.00", "150000.00", "160000.00", "0.00", "465000.00")

    # Invoicing cannot exceed the net amount; the credit note brings the invoices down to it.
    assert_error(http.post(f"/contracts/{cid}/invoices", "alice", json={"amount": "0.01"}), 409, "over_invoiced")
    note = ok(http.post(f"/contracts/{cid}/credit-notes", "alice", json={
        "amount": "155000.00", "credited_on": "2026-11-21", "reason": "退货冲红"}))
    view = ok(http.get(f"/contracts/{cid}", "alice"), 200)
    assert (view["invoiced"], view["credited_amount"], view["to_credit"], view["remaining_to_invoice"]) == (
        "310000.00", "155000.00", "0.00", "0.00")
    assert view["credit_notes"] == [{"credit_note_id": note["id"], "amount": "155000.00",
                                     "credited_on": "2026-11-21", "reason": "退货冲红"}]
    assert ok(http.get(f"/customers/{customer}", "alice"), 200)["invoiced_total"] == "310000.00"
    assert_error(http.post(f"/contracts/{cid}/credit-notes", "alice", json={"amount": "310000.01"}), 409,
                 "over_credited")

    # The reports and the target count the deal net; S-18 lists the return itself.
    assert rows(http, "S-17", ("product_name", "month", "quantity", "amount"), year=2026) == [
        ("服务器", "2026-11", "2.0000", "310000.00")]
    assert rows(http, "S-6", ("person_name", "deals", "deal_amount", "collected_amount"), year=2026, month=11,
                person_id=shop["alice"]) == [("alice", 1, "310000.00", "150000.00")]
    assert rows(http, "S-18", ("region", "month", "quantity", "amount"), year=2026) == [
        ("华东", "2026-11", "1.0000", "155000.00")]
    [target] = ok(http.get("/targets", "boss", params={"person_id": shop["alice"]}), 200)["items"]
    assert (target["actual"]["deal_amount"], target["attainment"]["deal_amount"]) == ("310000.00", "0.6200")
    records = ok(http.get(f"/targets/{target['id']}/records", "alice", params={"figure": "deal_amount"}), 200)
    assert [(r["kind"], r["amount"]) for r in records["items"]] == [("deal", "465000.00"), ("return", "-155000.00")]
    assert sum(Decimal(r["amount"]) for r in records["items"]) == Decimal(target["actual"]["deal_amount"])


def test_a_return_beyond_what_is_left_to_collect_leaves_a_credit(http: Http, shop: dict[str, str]) -> None:
    product, customer = shop["product"], shop["customer"]
    cheap = ok(http.post("/products", "keeper", json={"name": "网线", "spec": "六类", "unit": "箱"}))["id"]
    stock_in(http, "keeper", product, "5", "50.00")
    stock_in(http, "keeper", cheap, "5", "10.00")
    cid = contract(http, "alice", customer, "HT-CR", "2026-11-02", lines=lines(product, "2", "100.00"))
    ok(pay(http, "alice", customer, cid, "150.00"))
    delivery = deliver(http, "keeper", cid, product, "2")
    # An exchange for a cheaper product: the difference (1 × 40.00 − 1 × 100.00) lowers the deal.
    ok(http.post(f"/contracts/{cid}/exchanges", "keeper", json={"delivery_id": delivery, "lines": [
        {"product_id": product, "quantity": "1", "warehouse": "W1", "replacement_product_id": cheap,
         "unit_price": "40.00"}]}))
    view = ok(http.get(f"/contracts/{cid}", "alice"), 200)
    assert (view["exchange_difference"], view["net_amount"], view["outstanding"], view["credit"]) == (
        "-60.00", "140.00", "0.00", "10.00")
    [x] = view["exchanges"]
    assert x["price_difference"] == "-60.00"
    assert sorted((m["direction"], m["product_id"], m["amount"]) for m in x["lines"]) == sorted(
        [("in", product, "100.00"), ("out", cheap, "40.00")])
    # The other unit comes back too: collected 150.00 against a deal of 40.00 now.
    ok(give_back(http, "keeper", cid, delivery, product, "1"))
    assert_error(give_back(http, "keeper", cid, delivery, product, "1"), 409, "over_returned")
    view = ok(http.get(f"/contracts/{cid}", "alice"), 200)
    assert (view["net_amount"], view["outstanding"], view["credit"], view["fully_delivered"]) == (
        "40.00", "0.00", "110.00", True)
    by_product = {line["product_id"]: line for line in view["lines"]}
    assert (by_product[product]["quantity"], by_product[product]["amount"]) == ("0.0000", "0.00")
    assert (by_product[cheap]["quantity"], by_product[cheap]["unit_price"], by_product[cheap]["amount"]) == (
        "1.0000", "40.00", "40.00")
    assert sum(Decimal(line["amount"]) for line in view["lines"]) == Decimal(view["net_amount"])
    assert_error(pay(http, "alice", customer, cid, "0.01"), 409, "over_collected")
    person = ok(http.get(f"/customers/{customer}", "alice"), 200)
    assert (person["deal_total"], person["collected_total"], person["receivable"], person["credit"]) == (
        "40.00", "150.00", "0.00", "110.00")
    listed = ok(http.get("/customers", "alice", params={"scope": "mine"}), 200)["items"]
    assert [(c["receivable"], c["credit"]) for c in listed] == [("0.00", "110.00")]


# ---- the reports -----------------------------------------------------------------------------------


@pytest.fixture
def year(http: Http, clock: ManualClock) -> dict[str, str]:
    """Two salespeople in 2026 (business days in Asia/Shanghai):
    - K1, ann, 甲公司 (华东), signed 10 Jan: 服务器 4 × 1000.00 = 4000.00; delivered 1 Feb; one
      returned 5 Feb (−1000.00); one exchanged 20 Feb for a 交换机 at 1200.00 (+200.00).
    - K2, ben, 乙公司 (华南), signed 15 Jan: 交换机 2 × 500.00 = 1000.00; delivered 1 Mar; the
      customer moves to 西北 on 1 Mar; both returned 3 Mar (−1000.00).
    - ann has a target for January and February of 10,000.00."""
    ids: dict[str, str] = {}
    clock.set(at("2026-01-10T02:00:00+00:00"))
    ok(http.put("/settings", "root", json={"dictionaries": {"warehouses": ["W1"]}}), 200)
    ids["dept"] = ok(http.post("/departments", "root", json={"name": "销售部"}))["id"]
    for username, roles in (("boss", ["manager"]), ("ann", ["sales"]), ("ben", ["sales"]), ("kee", ["warehouse"])):
        ids[username] = ok(http.post("/people", "root", json={
            "name": username.upper(), "username": username, "password": "password123", "department_id": ids["dept"],
            "roles": roles, "max_customers": 20 if "sales" in roles else None}))["id"]
    ok(http.patch(f"/departments/{ids['dept']}", "root", json={"manager_ids": [ids["boss"]]}), 200)
    for key, name in (("P1", "服务器"), ("P2", "交换机")):
        ids[key] = ok(http.post("/products", "kee", json={"name": name, "unit": "台"}))["id"]
    stock_in(http, "kee", ids["P1"], "10", "600.00")
    stock_in(http, "kee", ids["P2"], "10", "200.00")
    ids["C1"] = ok(http.post("/customers", "ann", json={"name": "甲公司", "region": "华东"}))["id"]
    ids["C2"] = ok(http.post("/customers", "ben", json={"name": "乙公司", "region": "华南"}))["id"]
    ids["K1"] = contract(http, "ann", ids["C1"], "K1", "2026-01-10", lines=lines(ids["P1"], "4", "1000.00"))
    clock.set(at("2026-01-15T02:00:00+00:00"))
    ids["K2"] = contract(http, "ben", ids["C2"], "K2", "2026-01-15", lines=lines(ids["P2"], "2", "500.00"))
    ids["T"] = ok(http.post("/targets", "boss", json={"person_id": ids["ann"], "period": "2026年1-2月",
                                                      "start": "2026-01-01", "end": "2026-02-28",
                                                      "deal_amount": "10000.00"}))["id"]
    clock.set(at("2026-02-05T02:00:00+00:00"))
    d1 = deliver(http, "kee", ids["K1"], ids["P1"], "4", "2026-02-01")
    ok(give_back(http, "kee", ids["K1"], d1, ids["P1"], "1", "2026-02-05"))
    clock.set(at("2026-02-20T02:00:00+00:00"))
    ok(http.post(f"/contracts/{ids['K1']}/exchanges", "kee", json={
        "delivery_id": d1, "exchanged_on": "2026-02-20", "lines": [
            {"product_id": ids["P1"], "quantity": "1", "warehouse": "W1", "replacement_product_id": ids["P2"],
             "unit_price": "1200.00"}]}))
    clock.set(at("2026-03-01T02:00:00+00:00"))
    d2 = deliver(http, "kee", ids["K2"], ids["P2"], "2", "2026-03-01")
    ok(http.post(f"/customers/{ids['C2']}/changes", "boss", json={"changes": {"region": "西北"},
                                                                 "reason": "搬迁"}), 200)
    clock.set(at("2026-03-03T02:00:00+00:00"))
    ok(give_back(http, "kee", ids["K2"], d2, ids["P2"], "2", "2026-03-03"))
    return ids


FIGURES = ("person_name", "new_customers", "visits", "deals", "deal_amount", "collected_amount")


def test_per_person_reports_count_returns_and_exchanges_in_their_month(http: Http, year: dict[str, str]) -> None:
    # S-6: the deals in January; in February ann's return and exchange (−1000.00 + 200.00), in
    # March ben's return (−1000.00): the number of deals does not change, the amounts go negative.
    assert rows(http, "S-6", FIGURES, year=2026, month=1, sort="person_name") == [
        ("ANN", 1, 0, 1, "4000.00", "0.00"), ("BEN", 1, 0, 1, "1000.00", "0.00")]
    assert rows(http, "S-6", FIGURES, year=2026, month=2, sort="person_name") == [
        ("ANN", 0, 0, 0, "-800.00", "0.00"), ("BEN", 0, 0, 0, "0.00", "0.00")]
    assert rows(http, "S-6", FIGURES, year=2026, month=3, sort="person_name") == [
        ("ANN", 0, 0, 0, "0.00", "0.00"), ("BEN", 0, 0, 0, "-1000.00", "0.00")]
    assert rows(http, "S-7", FIGURES, "ann", year=2026, month=2) == [("ANN", 0, 0, 0, "-800.00", "0.00")]
    assert rows(http, "S-7", FIGURES, "ben", year=2026, month=3) == [("BEN", 0, 0, 0, "-1000.00", "0.00")]
    money12 = {f"m{m:02d}": "0.00" for m in range(1, 13)}
    s8 = report(http, "S-8", year=2026, sort="person_name")
    assert [{k: v for k, v in r.items() if k != "person_id"} for r in s8["rows"]] == [
        {"person_name": "ANN", **money12, "m01": "4000.00", "m02": "-800.00", "total": "3200.00"},
        {"person_name": "BEN", **money12, "m01": "1000.00", "m03": "-1000.00", "total": "0.00"}]
    assert [(s["name"], s["data"][:3]) for s in s8["chart"]["series"]] == [
        ("ANN", ["4000.00", "-800.00", "0.00"]), ("BEN", ["1000.00", "0.00", "-1000.00"])]
    assert rows(http, "S-9", ("person_name", "deal_amount"), year=2026, month=2, sort="person_name") == [
        ("ANN", "-800.00"), ("BEN", "0.00")]
    assert rows(http, "S-9", ("person_name", "deal_amount"), year=2026, month=3, sort="person_name") == [
        ("ANN", "0.00"), ("BEN", "-1000.00")]
    # A salesperson's own report holds their figures only, returns included.
    assert rows(http, "S-9", ("person_name", "deal_amount"), "ben", year=2026, month=3) == [("BEN", "-1000.00")]


def test_region_reports_count_each_return_in_the_region_it_happened_in(http: Http, year: dict[str, str]) -> None:
    s10 = report(http, "S-10", year=2026, sort="region")
    assert [(r["region"], r["person_name"], r["deal_amount"]) for r in s10["rows"]] == [
        ("华东", "ANN", "3200.00"), ("华南", "BEN", "1000.00"), ("西北", "BEN", "-1000.00")]
    assert s10["chart"] == {"type": "bar", "x": ["华东", "华南", "西北"], "series": [
        {"name": "ANN", "data": ["3200.00", "0.00", "0.00"]}, {"name": "BEN", "data": ["0.00", "1000.00", "-1000.00"]}]}
    # S-11: the table holds every region; the pie and the shares only those whose net is positive.
    s11 = report(http, "S-11", year=2026)
    assert [(r["region"], r["deal_amount"], r["share"]) for r in s11["rows"]] == [
        ("华东", "3200.00", "0.7619"), ("华南", "1000.00", "0.2381"), ("西北", "-1000.00", "0.0000")]
    assert s11["chart"] == {"type": "pie", "x": ["华东", "华南"], "series": [
        {"name": "成交金额", "data": ["3200.00", "1000.00"]}]}
    ben = report(http, "S-11", year=2026, person_id=year["ben"])
    assert [(r["region"], r["deal_amount"], r["share"]) for r in ben["rows"]] == [
        ("华南", "1000.00", "1.0000"), ("西北", "-1000.00", "0.0000")]
    assert ben["chart"]["x"] == ["华南"]
    # S-18 lists the returns themselves, at the contract price, as before.
    assert rows(http, "S-18", ("region", "month", "quantity", "amount"), year=2026) == [
        ("华东", "2026-02", "1.0000", "1000.00"), ("西北", "2026-03", "2.0000", "1000.00")]


def test_products_sold_are_net_of_returns_and_exchanges(http: Http, year: dict[str, str]) -> None:
    # S-17: the exchange takes one 服务器 off at its contract price and puts one 交换机 on at 1200.00.
    assert rows(http, "S-17", ("product_name", "month", "quantity", "amount"), year=2026, sort="product_name") == [
        ("交换机", "2026-01", "2.0000", "1000.00"), ("交换机", "2026-02", "1.0000", "1200.00"),
        ("交换机", "2026-03", "-2.0000", "-1000.00"),
        ("服务器", "2026-01", "4.0000", "4000.00"), ("服务器", "2026-02", "-2.0000", "-2000.00")]
    assert rows(http, "S-17", ("product_name", "month", "amount"), "ann", year=2026, sort="month") == [
        ("服务器", "2026-01", "4000.00"), ("交换机", "2026-02", "1200.00"), ("服务器", "2026-02", "-2000.00")]


def test_contracts_customers_and_targets_are_net(http: Http, year: dict[str, str]) -> None:
    k1 = ok(http.get(f"/contracts/{year['K1']}", "ann"), 200)
    assert (k1["amount"], k1["returned_amount"], k1["exchange_difference"], k1["net_amount"], k1["outstanding"]) == (
        "4000.00", "1000.00", "200.00", "3200.00", "3200.00")
    # The exchange moved one unit to the replacement, which now has a line of its own.
    assert {line["product_name"]: (line["signed_quantity"], line["returned"], line["exchanged"], line["quantity"],
                                   line["delivered"], line["remaining"], line["unit_price"], line["amount"])
            for line in k1["lines"]} == {
        "服务器": ("4.0000", "1.0000", "-1.0000", "2.0000", "2.0000", "0.0000", "1000.00", "2000.00"),
        "交换机": ("0.0000", "0.0000", "1.0000", "1.0000", "1.0000", "0.0000", "1200.00", "1200.00")}
    [x] = k1["exchanges"]
    assert x["price_difference"] == "200.00"
    assert {(m["direction"], m["product_id"], m["warehouse"], m["amount"]) for m in x["lines"]} == {
        ("in", year["P1"], "W1", "1000.00"), ("out", year["P2"], "W1", "1200.00")}
    k2 = ok(http.get(f"/contracts/{year['K2']}", "ben"), 200)
    assert (k2["net_amount"], k2["outstanding"], k2["fully_delivered"], k2["fully_invoiced"]) == (
        "0.00", "0.00", True, True)
    assert ok(http.get(f"/customers/{year['C1']}", "ann"), 200)["deal_total"] == "3200.00"
    assert ok(http.get(f"/customers/{year['C2']}", "ben"), 200)["deal_total"] == "0.00"
    target = ok(http.get(f"/targets/{year['T']}", "ann"), 200)
    assert (target["actual"]["deal_amount"], target["attainment"]["deal_amount"]) == ("3200.00", "0.3200")
    records = ok(http.get(f"/targets/{year['T']}/records", "ann", params={"figure": "deal_amount"}), 200)["items"]
    assert [(r["kind"], r["on"], r["amount"]) for r in records] == [
        ("deal", "2026-01-10", "4000.00"), ("return", "2026-02-05", "-1000.00"),
        ("exchange", "2026-02-20", "200.00")]
    assert sum(Decimal(r["amount"]) for r in records) == Decimal("3200.00")


Q6 = ("contract_number", "signed_on", "amount", "returned_amount", "exchange_difference", "net_amount", "region")


def test_deal_query_adds_up_to_the_statistics(http: Http, year: dict[str, str]) -> None:
    # A deal signed in January shows in February for its return and exchange, at 0.00 for the deal.
    assert rows(http, "Q-6", Q6, year=2026, month=2) == [
        ("K1", "2026-01-10", "0.00", "1000.00", "200.00", "-800.00", "华东")]
    assert rows(http, "Q-6", Q6, year=2026, month=1, sort="contract_number") == [
        ("K1", "2026-01-10", "4000.00", "0.00", "0.00", "4000.00", "华东"),
        ("K2", "2026-01-15", "1000.00", "0.00", "0.00", "1000.00", "华南")]
    # Over the year a customer who moved region between the deal and the return has a row per region.
    assert rows(http, "Q-6", Q6, year=2026, person_id=year["ben"], sort="region") == [
        ("K2", "2026-01-15", "1000.00", "0.00", "0.00", "1000.00", "华南"),
        ("K2", "2026-01-15", "0.00", "1000.00", "0.00", "-1000.00", "西北")]
    # The drill-down from S-9 (a person, a month) adds up to its figure, for every cell.
    for month in (1, 2, 3):
        for row in report(http, "S-9", year=2026, month=month)["rows"]:
            q6 = report(http, "Q-6", year=2026, month=month, person_id=row["person_id"])["rows"]
            assert sum((Decimal(r["net_amount"]) for r in q6), Decimal(0)) == Decimal(row["deal_amount"]), (month, row)
    # And from S-10 (a region, a year).
    for row in report(http, "S-10", year=2026)["rows"]:
        q6 = report(http, "Q-6", year=2026, region=row["region"], person_id=row["person_id"])["rows"]
        assert sum((Decimal(r["net_amount"]) for r in q6), Decimal(0)) == Decimal(row["deal_amount"]), row
    # The rows follow R-7: a salesperson sees their own only.
    assert [r["contract_number"] for r in report(http, "Q-6", "ann", year=2026)["rows"]] == ["K1"]
    assert report(http, "Q-6", "kee", year=2026)["total"] == 0


def test_a_rebuild_gives_the_same_net_figures(http: Http, year: dict[str, str], service: Service) -> None:
    before = read_model_snapshot(service)
    for name in ("sales", "customers", "stats"):
        service.projector.rebuild(name)
    assert read_model_snapshot(service) == before
    assert rows(http, "S-9", ("person_name", "deal_amount"), year=2026, month=2, sort="person_name") == [
        ("ANN", "-800.00"), ("BEN", "0.00")]


# ---- the contract list's filters -----------------------------------------------------------------


def test_contracts_filter_by_what_is_left_to_invoice_and_to_deliver(http: Http, shop: dict[str, str]) -> None:
    product, customer = shop["product"], shop["customer"]
    stock_in(http, "keeper", product, "10", "100.00")
    made: dict[str, str] = {}
    made["A"] = contract(http, "alice", customer, "A", "2026-11-01", lines=lines(product, "2", "100.00"))
    made["B"] = contract(http, "alice", customer, "B", "2026-11-01", lines=lines(product, "3", "100.00"))
    made["C"] = contract(http, "alice", customer, "C", "2026-11-01", amount="500.00")
    made["D"] = contract(http, "alice", customer, "D", "2026-11-01", lines=lines(product, "2", "100.00"))
    for key, amount in (("A", "200.00"), ("B", "100.00"), ("D", "100.00")):
        ok(http.post(f"/contracts/{made[key]}/invoices", "alice", json={"amount": amount}))
    deliver(http, "keeper", made["A"], product, "2")
    deliver(http, "keeper", made["B"], product, "1")
    d = deliver(http, "keeper", made["D"], product, "2")

    def listed(who: str = "alice", **params: str) -> list[str]:
        page = ok(http.get("/contracts", who, params=params), 200)
        assert page["total"] == len(page["items"])
        return sorted(c["number"] for c in page["items"])

    assert listed(fully_invoiced="false") == ["B", "C", "D"]
    # A return takes D's net amount down to what is invoiced already.
    ok(give_back(http, "keeper", made["D"], d, product, "1"))
    assert listed(fully_invoiced="false") == ["B", "C"]
    assert listed(fully_invoiced="true") == ["A", "D"]
    # A contract without lines has nothing to deliver.
    assert listed(fully_delivered="false") == ["B"]
    assert listed(fully_delivered="true") == ["A", "C", "D"]
    assert listed(fully_invoiced="false", fully_delivered="false") == ["B"]
    assert listed(fully_invoiced="false", fully_delivered="true") == ["C"]
    assert listed("boss", fully_invoiced="false", customer_id=customer) == ["B", "C"]
    assert listed() == ["A", "B", "C", "D"]
    flags = {c["number"]: (c["fully_invoiced"], c["fully_delivered"], c["remaining_to_invoice"])
             for c in ok(http.get("/contracts", "alice"), 200)["items"]}
    assert flags == {"A": (True, True, "0.00"), "B": (False, False, "200.00"), "C": (False, True, "500.00"),
                     "D": (True, True, "0.00")}
    error = assert_error(http.get("/contracts", "alice", params={"fully_invoiced": "maybe"}), 422, "validation_error")
    assert error["field"] == "fully_invoiced"
    assert_error(http.get("/contracts", "alice", params={"fully_delivered": "\u0000"}), 422)
