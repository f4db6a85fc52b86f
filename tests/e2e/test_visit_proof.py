"""Visits that prove themselves (seed 000 §2: 杜绝编造、补录) over HTTP: `visit_photo_required`
refuses a visit without its photo (422 `photo_required`, nothing recorded); a photo taken
farther than `visit_max_distance_m` from the customer is accepted and flagged
`far_from_customer`, shown in Q-3 and filterable like `late_entry`; Q-3 says what was not
checked and why, and shows an address; the demo organisation's visits all carry a photo."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from api.demo import seed_demo
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from tests.conftest import Http, assert_error
from tests.e2e.helpers import jpeg, ok, org_with_two_salespeople

SHOP = (31.2304, 121.4737)  # 上海 人民广场
EIGHTY_KM_NORTH = (SHOP[0] + 0.72, SHOP[1])


def visit(http: Http, customer: str, who: str = "alice", photo: bytes | None = None,
          **fields: Any) -> Any:
    if photo is None:
        return http.post(f"/customers/{customer}/visits", who, json=fields)
    return http.post(f"/customers/{customer}/visits", who, data={k: str(v) for k, v in fields.items()},
                     files={"photo": ("visit.jpg", photo, "image/jpeg")})


def q3(http: Http, who: str = "boss", **params: Any) -> list[dict[str, Any]]:
    """Q-3's rows of 2026."""
    query = {"year": 2026, **params}
    response = http.get("/reports/Q-3", who, params=query)
    assert response.status_code == 200, response.text
    return list(response.json()["rows"])


def test_the_visit_settings(http: Http) -> None:
    org_with_two_salespeople(http)
    rules = http.get("/settings", "alice").json()["rules"]
    assert (rules["visit_photo_required"], rules["visit_max_distance_m"]) == (False, 1000)
    for bad in ({"visit_max_distance_m": 9}, {"visit_max_distance_m": 100_001}, {"visit_max_distance_m": -1},
                {"visit_max_distance_m": 500.5}, {"visit_max_distance_m": "far"}, {"visit_photo_required": "maybe"},
                {"visit_photo_required": None, "visit_max_distance_m": 10**40}):
        assert_error(http.put("/settings", "root", json={"rules": bad}), 422)
    huge = http.put("/settings", "root", content=b'{"rules": {"visit_max_distance_m": 1e400}}',
                    headers={"Content-Type": "application/json"})
    assert_error(huge, 422)
    assert_error(http.put("/settings", "boss", json={"rules": {"visit_photo_required": True}}), 403)
    changed = ok(http.put("/settings", "root", json={"rules": {"visit_photo_required": True,
                                                               "visit_max_distance_m": 300}}), 200)
    assert (changed["rules"]["visit_photo_required"], changed["rules"]["visit_max_distance_m"]) == (True, 300)
    assert http.get("/settings", "bob").json()["rules"]["visit_max_distance_m"] == 300


def test_a_visit_without_its_photo_is_refused_when_required(http: Http, clock: ManualClock) -> None:
    org_with_two_salespeople(http)
    customer = ok(http.post("/customers", "alice", json={"name": "必须拍照", "lat": SHOP[0], "lng": SHOP[1]}))["id"]
    # Off by default: the contract's optional photo stays optional.
    assert ok(visit(http, customer))["distance_check"] == "no_photo"
    ok(http.put("/settings", "root", json={"rules": {"visit_photo_required": True}}), 200)
    for refused in (visit(http, customer), visit(http, customer, notes="现场", lat=SHOP[0], lng=SHOP[1]),
                    http.post(f"/customers/{customer}/visits", "alice", files={"notes": (None, "表单无照片")}),
                    http.post(f"/customers/{customer}/visits", "boss", json={})):
        assert assert_error(refused, 422, "photo_required")["field"] == "photo"
    assert len(http.get(f"/customers/{customer}", "alice").json()["visits"]) == 1
    # An empty file is no JPEG; with the photo it goes through.
    assert_error(http.post(f"/customers/{customer}/visits", "alice",
                           files={"photo": ("empty.jpg", b"", "image/jpeg")}), 415, "unsupported_media_type")
    taken = clock.now().replace(microsecond=0) - timedelta(minutes=10)
    made = ok(visit(http, customer, photo=jpeg(taken, gps=SHOP), notes="拍照打卡"))
    assert (made["far_from_customer"], made["distance_m"], made["distance_check"], made["late_entry"]) == (
        False, 0, "checked", False)
    assert sorted(v["distance_check"] for v in http.get(f"/customers/{customer}", "alice").json()["visits"]) == [
        "checked", "no_photo"]


def test_a_photo_far_from_the_customer_is_flagged_and_shown_in_q3(http: Http, clock: ManualClock) -> None:
    org_with_two_salespeople(http)
    ok(http.put("/settings", "root", json={"rules": {"visit_photo_required": True}}), 200)
    shop = ok(http.post("/customers", "alice", json={
        "name": "定位客户", "lat": SHOP[0], "lng": SHOP[1], "address": "上海市黄浦区人民大道200号", "region": "华东",
        "contacts": [{"name": "王总", "phone": "13800000001"}]}))["id"]
    unplaced = ok(http.post("/customers", "alice", json={"name": "无位置客户", "address": "杭州市某路1号"}))["id"]
    now = clock.now().replace(microsecond=0)

    far = ok(visit(http, shop, photo=jpeg(now - timedelta(hours=1), gps=EIGHTY_KM_NORTH)))
    assert far["far_from_customer"] is True and 79_000 < far["distance_m"] < 81_000
    assert (far["distance_check"], far["late_entry"]) == ("checked", False)
    near = ok(visit(http, shop, photo=jpeg(now - timedelta(hours=2), gps=(SHOP[0] + 0.003, SHOP[1]),
                                            colour="blue")))
    assert (near["far_from_customer"], near["distance_check"]) == (False, "checked")
    assert 300 < near["distance_m"] < 370
    blind = ok(visit(http, shop, photo=jpeg(now - timedelta(hours=3), colour="green")))
    assert (blind["far_from_customer"], blind["distance_m"], blind["distance_check"]) == (
        False, None, "no_photo_gps")
    nowhere = ok(visit(http, unplaced, photo=jpeg(now - timedelta(hours=4), gps=EIGHTY_KM_NORTH, colour="white"),
                       address="客户临时展位", region="华南", contact="李经理"))
    assert (nowhere["far_from_customer"], nowhere["distance_check"]) == (False, "no_customer_location")
    # A hand-typed time two weeks back, on a photo without a time of its own, stays a late entry.
    late = ok(visit(http, shop, photo=jpeg(gps=SHOP, colour="black"),
                    visited_at=(now - timedelta(days=14)).isoformat()))
    assert (late["late_entry"], late["far_from_customer"]) == (True, False)

    # The customer's view shows the flags; address, contact and region come from the customer.
    seen = {v["visit_id"]: v for v in http.get(f"/customers/{shop}", "alice").json()["visits"]}
    assert (seen[far["visit_id"]]["far_from_customer"], seen[far["visit_id"]]["distance_m"]) == (
        True, far["distance_m"])
    assert {(v["address"], v["contact"], v["region"]) for v in seen.values()} == {
        ("上海市黄浦区人民大道200号", "王总", "华东")}
    assert round(seen[far["visit_id"]]["lat"], 4) == round(EIGHTY_KM_NORTH[0], 4)  # where the photo was

    rows = {r["visit_id"]: r for r in q3(http)}
    assert len(rows) == 5
    row = rows[far["visit_id"]]
    assert (row["customer_name"], row["visitor_name"], row["address"], row["region"]) == (
        "定位客户", "Alice", "上海市黄浦区人民大道200号", "华东")
    assert (row["far_from_customer"], row["distance_m"], row["distance_check"], row["distance_note"],
            row["late_entry"]) == (True, far["distance_m"], "checked", "已核验", False)
    assert (rows[blind["visit_id"]]["distance_m"], rows[blind["visit_id"]]["distance_note"]) == (
        None, "照片无定位，未核验")
    other = rows[nowhere["visit_id"]]
    assert (other["address"], other["region"], other["distance_note"]) == (
        "客户临时展位", "华南", "客户无位置，未核验")
    assert rows[late["visit_id"]]["late_entry"] is True
    # Filterable like late_entry, and by what the check found.
    assert [r["visit_id"] for r in q3(http, far_from_customer=True)] == [far["visit_id"]]
    assert len(q3(http, far_from_customer=False)) == 4
    assert [r["visit_id"] for r in q3(http, distance_check="no_customer_location")] == [nowhere["visit_id"]]
    assert {r["visit_id"] for r in q3(http, distance_check="checked", late_entry=False)} == {
        far["visit_id"], near["visit_id"]}
    assert [r["visit_id"] for r in q3(http, region="华南")] == [nowhere["visit_id"]]
    assert q3(http, far_from_customer=True, late_entry=True) == []
    assert q3(http, distance_check="nearby") == []
    assert_error(http.get("/reports/Q-1", "boss", params={"far_from_customer": True}), 422, "unsupported_filter")
    # Visibility as before: bob sees none of alice's visits.
    assert q3(http, "bob") == []
    # The export has the Chinese columns.
    export = http.get("/reports/Q-3", "boss", params={"year": 2026, "format": "csv"})
    assert export.status_code == 200
    header = export.content.decode("utf-8-sig").splitlines()[0].split(",")
    assert {"远离客户", "距客户(米)", "距离核验", "距离核验说明"} <= set(header)


def test_a_smaller_limit_flags_what_a_larger_one_accepts(http: Http, clock: ManualClock) -> None:
    org_with_two_salespeople(http)
    shop = ok(http.post("/customers", "alice", json={"name": "近处客户", "lat": SHOP[0], "lng": SHOP[1]}))["id"]
    nearby = (SHOP[0], SHOP[1] + 0.004)  # about 380 m east
    assert ok(visit(http, shop, photo=jpeg(gps=nearby)))["far_from_customer"] is False
    ok(http.put("/settings", "root", json={"rules": {"visit_max_distance_m": 100}}), 200)
    assert ok(visit(http, shop, photo=jpeg(gps=nearby, colour="blue")))["far_from_customer"] is True
    # The flag is the one recorded at the time: changing the limit back does not move it.
    ok(http.put("/settings", "root", json={"rules": {"visit_max_distance_m": 1000}}), 200)
    assert sorted(r["far_from_customer"] for r in q3(http)) == [False, True]


def test_every_demo_visit_carries_its_photo(service: Service, http: Http) -> None:
    assert seed_demo(service)
    rules = http.get("/settings", "root").json()["rules"]
    assert rules["visit_photo_required"] is True
    rows = q3(http, "root", page_size=500)
    assert len(rows) > 100
    checks = {r["distance_check"] for r in rows}
    assert "no_photo" not in checks and "checked" in checks
    assert any(r["far_from_customer"] for r in rows) and not all(r["far_from_customer"] for r in rows)
    assert all(r["address"] for r in rows)  # the customer's address
    assert any(r["late_entry"] for r in rows)
    some = rows[0]
    photo = http.get(f"/customers/{some['customer_id']}/visits/{some['visit_id']}/photo", "root")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
