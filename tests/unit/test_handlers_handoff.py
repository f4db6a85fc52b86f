"""The hand-off from sales to the warehouse through `handle` with fakes (seed 000 §5.6.1–§5.6.3):
a salesperson's delivery notice, return and exchange requests on their own contract, checked
when asked; keepers carry them out in parts, never beyond what is asked; the requester or
their manager cancels what is left; return and exchange requests wait for approval where
the policy (AP-1) says so."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from aggregates.base import Conflict, Forbidden, Invalid, NotFound
from aggregates.contract import Contract
from aggregates.delivery_request import DeliveryRequest
from aggregates.product import ProductStock
from commands import messages as m
from commands.actor import Actor
from tests.unit.fakes import Team, World

D = Decimal


@dataclass
class Shop:
    team: Team
    keeper: Actor
    customer: str
    product: str
    other: str
    contract: str


@pytest.fixture
def shop(w: World) -> Shop:
    w.dictionaries(warehouses=["W1", "W2"])
    team = w.team()
    keeper = w.person("keeper", ["warehouse"], department=team.dept)
    customer = w.customer(team.alice, "采购方", region="华东")
    product = w.do(m.CreateProduct(name="服务器", spec="R740", unit="台"), keeper).ids["id"]
    other = w.do(m.CreateProduct(name="交换机", spec="S5720", unit="台"), keeper).ids["id"]
    for warehouse in ("W1", "W2"):
        for pid in (product, other):
            w.do(m.StockIn(pid, warehouse, D("100"), D("10")), keeper)
    contract = w.do(m.SignContract(customer, number="HT-1", name="合同", lines=[
        {"product_id": product, "quantity": "8", "unit_price": "250.00"},
        {"product_id": other, "quantity": "2", "unit_price": "100.00"}]), team.alice).ids["id"]
    return Shop(team, keeper, customer, product, other, contract)


def line(product: str, quantity: str, warehouse: str | None = None, **more: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"product_id": product, "quantity": quantity, **more}
    if warehouse is not None:
        entry["warehouse"] = warehouse
    return entry


def ask(w: World, shop: Shop, *lines: dict[str, Any], who: Actor | None = None, note: str = "") -> str:
    done = w.do(m.RequestDelivery(shop.contract, list(lines) or [line(shop.product, "8")], note),
                who or shop.team.alice)
    return str(done.ids["id"])


def deliver(w: World, shop: Shop, request_id: str | None, *lines: dict[str, Any]) -> str:
    return str(w.do(m.Deliver(shop.contract, list(lines), request_id=request_id), shop.keeper).ids["delivery_id"])


def request(w: World, request_id: str) -> DeliveryRequest:
    return w.find(request_id, DeliveryRequest)


def refused(w: World, command: m.Command, actor: Actor, kind: type[Exception], code: str,
            field: str | None = None) -> Any:
    error = w.refused(command, actor)
    assert type(error) is kind and error.code == code, (type(error), error.code, error.message)
    if field is not None:
        assert error.field == field, error.field
    return error


# ---- asking ------------------------------------------------------------------------------------


def test_a_delivery_notice_numbers_itself_and_keeps_its_lines(w: World, shop: Shop) -> None:
    done = w.do(m.RequestDelivery(shop.contract, [line(shop.product, "5", "W1"), line(shop.other, "2")], "月底前"),
                shop.team.alice)
    made = request(w, done.ids["id"])
    assert done.ids["number"] == made.number == "FH202611000001"
    assert (made.kind, made.status, made.requester_id, made.contract_number, made.delivery_id, made.note) == (
        "delivery", "requested", shop.team.alice.person_id, "HT-1", None, "月底前")
    assert [(x["product_id"], x["quantity"], x["warehouse"], x["done"]) for x in made.lines] == [
        (shop.product, D("5.0000"), "W1", D(0)), (shop.other, D("2.0000"), None, D(0))]
    assert w.event_types(done.ids["id"]) == ["Requested"]
    second = w.do(m.RequestDelivery(shop.contract, [line(shop.product, "1")]), shop.team.boss)
    assert second.ids["number"] == "FH202611000002"


def test_what_can_be_checked_is_checked_when_asked(w: World, shop: Shop) -> None:
    alice, c = shop.team.alice, shop.contract
    refused(w, m.RequestDelivery(c, [line(shop.product, "9")]), alice, Conflict, "over_delivered", "lines")
    stranger = w.do(m.CreateProduct(name="打印机"), shop.keeper).ids["id"]
    refused(w, m.RequestDelivery(c, [line(stranger, "1")]), alice, Invalid, "not_on_contract", "lines.0.product_id")
    refused(w, m.RequestDelivery(c, [line("no-such-id", "1")]), alice, Invalid, "validation_error",
            "lines.0.product_id")
    refused(w, m.RequestDelivery(c, [line(shop.product, "1", "火星仓")]), alice, Invalid, "unknown_value",
            "lines.0.warehouse")
    for bad in ("0", "-1", "1.00001", "NaN", "Infinity", None, "一"):
        refused(w, m.RequestDelivery(c, [line(shop.product, bad)]), alice, Invalid, "validation_error",  # type: ignore[arg-type]
                "lines.0.quantity")
    for huge in ("100000000", "1e400"):
        refused(w, m.RequestDelivery(c, [line(shop.product, huge)]), alice, Invalid, "out_of_range", "lines.0.quantity")
    refused(w, m.RequestDelivery(c, []), alice, Invalid, "validation_error", "lines")
    refused(w, m.RequestDelivery(c, [line(shop.product, "0.0001")] * 201), alice, Invalid, "validation_error",
            "lines")
    refused(w, m.RequestDelivery(c, [line(shop.product, "1"), line(shop.product, "2")]), alice, Invalid,
            "duplicate_line", "lines.1")
    refused(w, m.RequestDelivery(c, [line(shop.product, "1")], "x" * 501), alice, Invalid, "too_long", "note")
    refused(w, m.RequestDelivery(c, [line(shop.product, "1")], "a\x00b"), alice, Invalid, "control_character",
            "note")
    refused(w, m.RequestDelivery("not-a-uuid", [line(shop.product, "1")]), alice, Invalid, "validation_error",
            "contract_id")
    refused(w, m.RequestDelivery(str(shop.team.dept), [line(shop.product, "1")]), alice, NotFound, "not_found")
    # One line per product and warehouse: 5 from W1 and 3 wherever add up to what is left.
    ask(w, shop, line(shop.product, "5", "W1"), line(shop.product, "3"))


def test_only_the_owner_or_their_manager_asks(w: World, shop: Shop) -> None:
    team = shop.team
    command = m.RequestDelivery(shop.contract, [line(shop.product, "1")])
    refused(w, command, team.bob, NotFound, "not_found")  # not his, not shared with him: hidden
    w.do(m.ChangeShares(shop.customer, [team.bob.person_id], []), team.boss)
    refused(w, command, team.bob, Forbidden, "not_owner")  # a sharee sees, but does not ask
    refused(w, command, shop.keeper, NotFound, "not_found")  # keepers carry out (the route: 403), they do not ask
    outsider = w.team(name="华南销售部").boss
    refused(w, command, outsider, NotFound, "not_found")
    assert w.do(command, team.boss).ids["number"]  # the owner's manager may
    assert w.do(command, w.root).ids["number"]


# ---- carrying out -------------------------------------------------------------------------------


def test_a_keeper_carries_it_out_in_parts_until_done(w: World, shop: Shop) -> None:
    rid = ask(w, shop, line(shop.product, "5", "W1"), line(shop.other, "2"))
    first = deliver(w, shop, rid, line(shop.product, "3", "W1"))
    made = request(w, rid)
    assert (made.status, made.done_ids, [x["done"] for x in made.lines]) == ("partly_done", [first], [D(3), D(0)])
    second = deliver(w, shop, rid, line(shop.product, "2", "W1"), line(shop.other, "1", "W2"), line(shop.other, "1", "W1"))
    made = request(w, rid)
    assert (made.status, made.done_ids, [x["done"] for x in made.lines]) == ("done", [first, second], [D(5), D(2)])
    assert w.event_types(rid) == ["Requested", "CarriedOut", "CarriedOut"]
    # The goods' movement and the request's progress were one save: the contract shows both.
    contract = w.find(shop.contract, Contract)
    assert set(contract.deliveries) == {first, second}
    assert w.find(ProductStock.id_for(shop.product, "W1"), ProductStock).quantity == D("95")
    refused(w, m.Deliver(shop.contract, [line(shop.product, "1", "W1")], request_id=rid), shop.keeper, Conflict,
            "request_closed", "request_id")
    # Without a request a keeper still delivers what the contract has left.
    deliver(w, shop, None, line(shop.product, "3", "W2"))


def test_never_more_than_asked_nor_other_than_asked(w: World, shop: Shop) -> None:
    rid = ask(w, shop, line(shop.product, "3", "W1"))
    keeper = shop.keeper
    error = refused(w, m.Deliver(shop.contract, [line(shop.product, "4", "W1")], request_id=rid), keeper, Conflict,
                    "over_requested", "lines.0.quantity")
    assert error.details == {"product_id": shop.product, "remaining": "3.0000"}
    # Two lines of one delivery count together.
    refused(w, m.Deliver(shop.contract, [line(shop.product, "2", "W1"), line(shop.product, "2", "W1")],
                         request_id=rid), keeper, Conflict, "over_requested", "lines.1.quantity")
    error = refused(w, m.Deliver(shop.contract, [line(shop.product, "1", "W2")], request_id=rid), keeper, Invalid,
                    "not_requested", "lines.0")
    assert error.details["requested"] == [{"product_id": shop.product, "quantity": "3.0000", "warehouse": "W1"}]
    refused(w, m.Deliver(shop.contract, [line(shop.other, "1", "W1")], request_id=rid), keeper, Invalid,
            "not_requested", "lines.0")
    refused(w, m.Deliver(shop.contract, [line(shop.product, "1", "W1")], request_id="00000000-0000-0000-0000-000000000000"),
            keeper, Invalid, "unknown_request", "request_id")
    refused(w, m.Deliver(shop.contract, [line(shop.product, "1", "W1")], request_id="nonsense"), keeper, Invalid,
            "validation_error", "request_id")
    assert request(w, rid).status == "requested"
    # The contract's own limit still holds beside the request's.
    deliver(w, shop, None, line(shop.product, "6", "W2"))
    refused(w, m.Deliver(shop.contract, [line(shop.product, "3", "W1")], request_id=rid), keeper, Conflict,
            "over_delivered")
    deliver(w, shop, rid, line(shop.product, "2", "W1"))
    assert request(w, rid).status == "partly_done"


def test_a_line_that_leaves_the_warehouse_open_takes_what_the_named_ones_cannot(w: World, shop: Shop) -> None:
    rid = ask(w, shop, line(shop.product, "3"), line(shop.product, "2", "W1"))
    deliver(w, shop, rid, line(shop.product, "2", "W1"))  # counts for the W1 line first
    assert [x["done"] for x in request(w, rid).lines] == [D(0), D(2)]
    deliver(w, shop, rid, line(shop.product, "3", "W2"))
    assert request(w, rid).status == "done"


def test_the_wrong_kind_the_wrong_contract_and_a_cancelled_request_are_refused(w: World, shop: Shop) -> None:
    rid = ask(w, shop, line(shop.product, "2"))
    delivery = deliver(w, shop, None, line(shop.product, "2", "W1"))
    refused(w, m.ReturnGoods(shop.contract, delivery, [line(shop.product, "1")], request_id=rid), shop.keeper,
            Invalid, "wrong_request_kind", "request_id")
    other = w.do(m.SignContract(shop.customer, number="HT-2", name="另一合同",
                                lines=[line(shop.product, "5", unit_price="1.00")]), shop.team.alice).ids["id"]
    refused(w, m.Deliver(other, [line(shop.product, "1", "W1")], request_id=rid), shop.keeper, Invalid,
            "wrong_contract", "request_id")
    w.do(m.CancelRequest(rid, "客户暂缓"), shop.team.alice)
    error = refused(w, m.Deliver(shop.contract, [line(shop.product, "1", "W1")], request_id=rid), shop.keeper,
                    Conflict, "request_closed", "request_id")
    assert error.details == {"status": "cancelled"}


def test_the_requester_or_their_manager_cancels_what_is_left(w: World, shop: Shop) -> None:
    team = shop.team
    rid = ask(w, shop, line(shop.product, "4"))
    deliver(w, shop, rid, line(shop.product, "1", "W1"))
    refused(w, m.CancelRequest(rid), team.bob, Forbidden, "forbidden")
    refused(w, m.CancelRequest(rid), shop.keeper, Forbidden, "forbidden")
    refused(w, m.CancelRequest(rid, "x" * 501), team.alice, Invalid, "too_long", "reason")
    w.do(m.CancelRequest(rid, "客户改期"), team.boss)
    made = request(w, rid)
    assert (made.status, [x["done"] for x in made.lines]) == ("cancelled", [D(1)])
    refused(w, m.CancelRequest(rid), team.alice, Conflict, "request_closed", "request_id")
    refused(w, m.CancelRequest("00000000-0000-0000-0000-000000000000"), team.alice, NotFound, "not_found")
    done = ask(w, shop, line(shop.product, "1"))
    deliver(w, shop, done, line(shop.product, "1", "W1"))
    refused(w, m.CancelRequest(done), team.alice, Conflict, "request_closed")


# ---- returns and exchanges ------------------------------------------------------------------------


def test_a_return_request_against_a_delivery(w: World, shop: Shop) -> None:
    alice, keeper = shop.team.alice, shop.keeper
    delivery = deliver(w, shop, None, line(shop.product, "2", "W1"), line(shop.product, "1", "W2"))
    refused(w, m.RequestReturn(shop.contract, delivery, [line(shop.product, "4")]), alice, Conflict, "over_returned")
    refused(w, m.RequestReturn(shop.contract, delivery, [line(shop.product, "2", "W2")]), alice, Conflict,
            "over_returned")
    refused(w, m.RequestReturn(shop.contract, delivery, [line(shop.other, "1")]), alice, Invalid, "not_in_delivery",
            "lines.0.product_id")
    error = refused(w, m.RequestReturn(shop.contract, delivery, [line(shop.product, "1", "W9")]), alice, Invalid,
                    "unknown_value", "lines.0.warehouse")
    assert error.code == "unknown_value"
    refused(w, m.RequestReturn(shop.contract, "a" * 32, [line(shop.product, "1")]), alice, Invalid,
            "unknown_delivery", "delivery_id")
    done = w.do(m.RequestReturn(shop.contract, delivery, [line(shop.product, "2", "W1")], "包装破损"), alice)
    assert done.ids["number"] == "TH202611000001" and not done.pending
    rid = done.ids["id"]
    refused(w, m.Deliver(shop.contract, [line(shop.product, "1", "W1")], request_id=rid), keeper, Invalid,
            "wrong_request_kind")
    other = deliver(w, shop, None, line(shop.product, "1", "W1"))
    refused(w, m.ReturnGoods(shop.contract, other, [line(shop.product, "1", "W1")], request_id=rid), keeper,
            Invalid, "wrong_delivery", "delivery_id")
    w.do(m.ReturnGoods(shop.contract, delivery, [line(shop.product, "1", "W1")], request_id=rid), keeper)
    assert request(w, rid).status == "partly_done"
    refused(w, m.ReturnGoods(shop.contract, delivery, [line(shop.product, "1", "W2")], request_id=rid), keeper,
            Invalid, "not_requested")
    w.do(m.ReturnGoods(shop.contract, delivery, [line(shop.product, "1", "W1")], request_id=rid), keeper)
    assert request(w, rid).status == "done"


def test_an_exchange_request_against_a_delivery(w: World, shop: Shop) -> None:
    alice, keeper = shop.team.alice, shop.keeper
    delivery = deliver(w, shop, None, line(shop.product, "2", "W1"))
    done = w.do(m.RequestExchange(shop.contract, delivery, [line(shop.product, "1", "W2", from_warehouse="W1")]),
                alice)
    rid = done.ids["id"]
    assert done.ids["number"] == "HH202611000001"
    assert request(w, rid).lines[0]["from_warehouse"] == "W1"
    refused(w, m.ExchangeGoods(shop.contract, delivery, [line(shop.product, "2", "W2")], request_id=rid), keeper,
            Conflict, "over_requested", "lines.0.quantity")
    refused(w, m.ExchangeGoods(shop.contract, delivery, [line(shop.product, "1", "W1")], request_id=rid), keeper,
            Invalid, "not_requested", "lines.0")  # the replacement must leave from W2, as asked
    w.do(m.ExchangeGoods(shop.contract, delivery, [line(shop.product, "1", "W2")], request_id=rid), keeper)
    assert request(w, rid).status == "done"
    refused(w, m.RequestExchange(shop.contract, delivery, [line(shop.product, "1", from_warehouse="W2")]), alice,
            Invalid, "not_in_delivery", "lines.0.from_warehouse")
    disabled = w.do(m.CreateProduct(name="旧型号"), keeper).ids["id"]
    w.do(m.ChangeProduct(disabled, {"enabled": False}), keeper)
    refused(w, m.RequestExchange(shop.contract, delivery, [line(shop.product, "1", replacement_product_id=disabled)]),
            alice, Conflict, "product_disabled", "lines.0.replacement_product_id")
    refused(w, m.RequestExchange(shop.contract, delivery, [line(shop.product, "1", unit_price="0")]), alice, Invalid,
            "validation_error", "lines.0.unit_price")
    refused(w, m.RequestExchange(shop.contract, delivery, [line(shop.product, "1", unit_price="10000000000")]),
            alice, Invalid, "out_of_range", "lines.0.unit_price")


def test_return_and_exchange_requests_wait_for_approval_where_the_policy_says_so(w: World, shop: Shop) -> None:
    team = shop.team
    w.rules(approval_required=["customer_info_change", "price_change", "return", "exchange"])
    delivery = deliver(w, shop, None, line(shop.product, "2", "W1"))
    filed = w.do(m.RequestReturn(shop.contract, delivery, [line(shop.product, "1")], "质量问题"), team.alice)
    assert filed.pending
    refused(w, m.RequestReturn(shop.contract, delivery, [line(shop.product, "3")]), team.alice, Conflict,
            "over_returned")  # checked when filed
    swap = w.do(m.RequestExchange(shop.contract, delivery, [line(shop.product, "1")]), team.alice)
    assert swap.pending
    assert not [e for e in w.store.repository.event_store.recorder.select_notifications(0, 10000)
                if "DeliveryRequest" in e.topic]
    w.do(m.ApproveRequest(filed.ids["approval_id"]), team.boss)
    [made] = [w.find(e.originator_id, DeliveryRequest) for e in
              w.store.repository.event_store.recorder.select_notifications(0, 10000)
              if e.topic.endswith("DeliveryRequest.Requested")]
    assert (made.kind, made.requester_id, made.status) == ("return", team.alice.person_id, "requested")
    assert made.number == "TH202611000001"  # filing took no number
    # The manager's own request is not held.
    assert not w.do(m.RequestReturn(shop.contract, delivery, [line(shop.product, "1")]), team.boss).pending


def test_an_exchange_for_another_product_goes_as_asked(w: World, shop: Shop) -> None:
    alice, keeper = shop.team.alice, shop.keeper
    delivery = deliver(w, shop, None, line(shop.product, "2", "W1"))
    asked = [line(shop.product, "1", replacement_product_id=shop.other, unit_price="120.00")]
    rid = w.do(m.RequestExchange(shop.contract, delivery, asked), alice).ids["id"]
    same = line(shop.product, "1", "W2")
    refused(w, m.ExchangeGoods(shop.contract, delivery, [same], request_id=rid), keeper, Invalid, "not_requested")
    other = line(shop.product, "1", "W2", replacement_product_id=shop.other)
    refused(w, m.ExchangeGoods(shop.contract, delivery, [{**other, "unit_price": "119.99"}], request_id=rid), keeper,
            Invalid, "not_requested")
    # An exchange that names no price goes out at the price asked.
    w.do(m.ExchangeGoods(shop.contract, delivery, [other], request_id=rid), keeper)
    assert request(w, rid).status == "done"
    [swap] = [e for e in w.events(shop.contract) if isinstance(e, Contract.Exchanged)]
    assert swap.lines[0]["unit_price"] == Decimal("120.00")
    # Like for like with no price named: any price the exchange settles on will do.
    rid = w.do(m.RequestExchange(shop.contract, delivery, [line(shop.product, "1")]), alice).ids["id"]
    w.do(m.ExchangeGoods(shop.contract, delivery, [line(shop.product, "1", "W1")], request_id=rid), keeper)
    assert request(w, rid).status == "done"
