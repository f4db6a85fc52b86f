"""Visits that prove themselves (C-10, C-11; seed 000 §2: 杜绝编造、补录), on the aggregates:
the haversine distance, what a visit's distance check finds, the photo a visit may need, the
address, contact and region a visit takes from its customer, the visit settings and their
bounds, and version 1 visit and settings events read as version 2 (O-2)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from aggregates.base import Conflict, Invalid
from aggregates.customer import Customer
from aggregates.settings import DEFAULT_RULES, Settings
from aggregates.visit_evidence import (
    CHECKED,
    NO_CUSTOMER_LOCATION,
    NO_PHOTO,
    NO_PHOTO_GPS,
    UNCHECKED,
    check_distance,
    haversine_m,
)
from tests.unit.helpers import T0, ctx, customer, refused

# ---- the distance --------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b", "metres", "within"), [
    ((31.2304, 121.4737), (31.2304, 121.4737), 0, 0.001),  # the same place
    ((0.0, 0.0), (1.0, 0.0), 111_195, 1),  # one degree of latitude on the mean sphere
    ((0.0, 0.0), (0.0, 1.0), 111_195, 1),  # one degree of longitude on the equator
    ((60.0, 10.0), (60.0, 11.0), 55_597, 1),  # shrinks with the cosine of the latitude
    ((39.9042, 116.4074), (31.2304, 121.4737), 1_067_000, 1500),  # Beijing to Shanghai
    ((0.0, 179.9999), (0.0, -179.9999), 22, 1),  # across the antimeridian, not round the world
    ((90.0, 0.0), (90.0, 123.0), 0, 0.001),  # every longitude meets at the pole
    ((0.0, 0.0), (0.0, 180.0), 20_015_115, 10),  # half way round
    ((-33.8688, 151.2093), (-33.8688, 151.2093 + 0.0001), 9, 1),  # the south and east signs
])
def test_haversine_distances(a: tuple[float, float], b: tuple[float, float], metres: float,
                             within: float) -> None:
    assert haversine_m(a, b) == pytest.approx(metres, abs=within)
    assert haversine_m(b, a) == pytest.approx(haversine_m(a, b))


def test_what_a_distance_check_finds() -> None:
    shop, near, far = (31.0, 121.0), (31.0, 121.005), (31.2, 121.0)  # about 477 m and 22 km
    assert check_distance(has_photo=False, photo_position=None, customer_position=shop,
                          max_distance_m=1000).status == NO_PHOTO
    assert check_distance(has_photo=True, photo_position=None, customer_position=shop,
                          max_distance_m=1000).status == NO_PHOTO_GPS
    assert check_distance(has_photo=True, photo_position=near, customer_position=None,
                          max_distance_m=1000).status == NO_CUSTOMER_LOCATION
    close = check_distance(has_photo=True, photo_position=near, customer_position=shop, max_distance_m=1000)
    assert (close.status, close.distance_m, close.far) == (CHECKED, 477, False)
    away = check_distance(has_photo=True, photo_position=far, customer_position=shop, max_distance_m=1000)
    assert (away.status, away.far) == (CHECKED, True) and 22_000 < (away.distance_m or 0) < 22_500
    # Farther than the limit, not at it.
    assert not check_distance(has_photo=True, photo_position=near, customer_position=shop,
                              max_distance_m=477).far
    assert check_distance(has_photo=True, photo_position=near, customer_position=shop, max_distance_m=476).far
    # Nothing unchecked is flagged.
    for check in (check_distance(has_photo=False, photo_position=far, customer_position=shop, max_distance_m=10),
                  check_distance(has_photo=True, photo_position=far, customer_position=None, max_distance_m=10)):
        assert (check.far, check.distance_m) == (False, None)


# ---- the visit on the customer -------------------------------------------------------------------


def located(**kw: Any) -> Customer:
    c = Customer.register(
        ctx(), id=uuid4(), number="KH202611000009", name="定位客户",
        fields={"lat": 31.0, "lng": 121.0, "address": "上海市某某路1号", "region": "华东", **kw},
        contacts=[{"name": "甲", "phone": "13800000000"}, {"name": "乙", "phone": "13900000000", "primary": True}],
        owner_id="alice", shared_with=[],
    )
    c.collect_events()
    return c


def exif(lat: float | None, lng: float | None) -> dict[str, Any]:
    return {"taken_at": None, "lat": lat, "lng": lng}


def visit(c: Customer, **kw: Any) -> Any:
    recorded = c.record_visit(ctx(at=T0 + timedelta(hours=1)), visited_at=T0, late_entry_hours=24, **kw)
    [event] = c.collect_events()
    return recorded, event


def test_a_photo_taken_far_from_the_customer_is_accepted_and_flagged() -> None:
    c = located()
    recorded, event = visit(c, photo="sha", photo_exif=exif(31.2, 121.0), lat=31.2, lng=121.0,
                            max_distance_m=1000)
    assert (recorded.late_entry, recorded.distance.far, recorded.distance.status) == (False, True, CHECKED)
    assert (event.far_from_customer, event.distance_check) == (True, CHECKED)
    assert event.distance_m == recorded.distance.distance_m and 22_000 < event.distance_m < 22_500
    assert c.visit_count == 1  # accepted
    _, near = visit(c, photo="sha", photo_exif=exif(31.0, 121.005), max_distance_m=1000)
    assert (near.far_from_customer, near.distance_m, near.distance_check) == (False, 477, CHECKED)
    _, strict = visit(c, photo="sha", photo_exif=exif(31.0, 121.005), max_distance_m=100)
    assert strict.far_from_customer is True  # the limit in force decides


def test_only_the_photo_is_evidence_of_the_place() -> None:
    c = located()
    # Far-away coordinates typed into the form are not checked: no photo, no check.
    _, typed = visit(c, lat=40.0, lng=116.0)
    assert (typed.far_from_customer, typed.distance_m, typed.distance_check) == (False, None, NO_PHOTO)
    _, blind = visit(c, photo="sha", photo_exif=exif(None, None), lat=40.0, lng=116.0)
    assert (blind.far_from_customer, blind.distance_check) == (False, NO_PHOTO_GPS)
    _, half = visit(c, photo="sha", photo_exif={"lat": 31.0})
    assert half.distance_check == NO_PHOTO_GPS
    nowhere = located(lat=None, lng=None)
    _, unplaced = visit(nowhere, photo="sha", photo_exif=exif(31.2, 121.0))
    assert (unplaced.far_from_customer, unplaced.distance_m, unplaced.distance_check) == (
        False, None, NO_CUSTOMER_LOCATION)
    half_placed = located(lng=None)
    assert visit(half_placed, photo="sha", photo_exif=exif(31.2, 121.0))[1].distance_check == NO_CUSTOMER_LOCATION


def test_a_visit_without_its_photo_is_refused_when_required() -> None:
    c = located()
    with refused(Invalid, "photo_required", field="photo"):
        c.record_visit(ctx(), visited_at=T0, late_entry_hours=24, photo_required=True)
    assert c.collect_events() == [] and c.visit_count == 0
    recorded, _ = visit(c, photo="sha", photo_exif=exif(None, None), photo_required=True)
    assert recorded.distance.status == NO_PHOTO_GPS
    # A pool customer is still refused for being in the pool first.
    pool = customer(owner=None)
    with refused(Conflict, "in_pool"):
        pool.record_visit(ctx(), visited_at=T0, late_entry_hours=24, photo_required=True)


def test_a_late_entry_stays_flagged_beside_the_distance() -> None:
    c = located()
    c.record_visit(ctx(at=T0 + timedelta(days=14)), visited_at=T0, late_entry_hours=24, photo="sha",
                   photo_exif=exif(31.2, 121.0))
    [event] = c.collect_events()
    assert (event.late_entry, event.far_from_customer) == (True, True)


def test_address_contact_and_region_are_the_customers_when_not_given() -> None:
    c = located()
    _, taken = visit(c)
    assert (taken.address, taken.contact, taken.region) == ("上海市某某路1号", "乙", "华东")  # the primary contact
    _, given = visit(c, address="客户新厂区", contact="丙", region="华南")
    assert (given.address, given.contact, given.region) == ("客户新厂区", "丙", "华南")
    _, blank = visit(c, address="  ", contact="", region=" ")
    assert (blank.address, blank.contact, blank.region) == ("上海市某某路1号", "乙", "华东")
    bare = customer()
    bare.collect_events()
    _, nothing = visit(bare)
    assert (nothing.address, nothing.contact, nothing.region) == (None, None, None)


def test_version_1_visits_read_as_unchecked() -> None:
    state: dict[str, Any] = {"visit_id": "v", "late_entry": True}
    Customer.VisitRecorded.upcast_v1_v2(state)
    assert state == {"visit_id": "v", "late_entry": True, "region": None, "far_from_customer": False,
                     "distance_m": None, "distance_check": UNCHECKED}
    assert Customer.VisitRecorded.class_version == 2


# ---- the visit settings --------------------------------------------------------------------------


def settings() -> Settings:
    s = Settings.create_default(ctx())
    s.collect_events()
    return s


def test_the_visit_settings_default_to_off_and_a_kilometre() -> None:
    s = settings()
    assert (s.rules["visit_photo_required"], s.rules["visit_max_distance_m"]) == (False, 1000)
    s.change(ctx(), {"visit_photo_required": True, "visit_max_distance_m": 250}, {})
    assert (s.rules["visit_photo_required"], s.rules["visit_max_distance_m"]) == (True, 250)


@pytest.mark.parametrize(("key", "value"), [
    ("visit_photo_required", 1), ("visit_photo_required", "true"),
    ("visit_max_distance_m", 9), ("visit_max_distance_m", 100_001), ("visit_max_distance_m", 0),
    ("visit_max_distance_m", -5), ("visit_max_distance_m", 10**30), ("visit_max_distance_m", 500.5),
    ("visit_max_distance_m", True), ("visit_max_distance_m", "1000"),
])
def test_visit_settings_out_of_bounds_are_refused(key: str, value: Any) -> None:
    s = settings()
    with refused(Invalid, "validation_error", field=f"rules.{key}"):
        s.change(ctx(), {key: value}, {})
    assert s.collect_events() == []


@pytest.mark.parametrize("distance", [10, 100_000])
def test_the_distance_bounds_are_inclusive(distance: int) -> None:
    s = settings()
    s.change(ctx(), {"visit_max_distance_m": distance}, {})
    assert s.rules["visit_max_distance_m"] == distance


def test_version_1_settings_read_with_the_visit_rules_at_their_defaults() -> None:
    old_rules = {k: v for k, v in DEFAULT_RULES.items() if not k.startswith("visit_")}
    for event_class in (Settings.Created, Settings.Changed):
        state: dict[str, Any] = {"rules": dict(old_rules), "dictionaries": {}}
        event_class.upcast_v1_v2(state)
        assert state["rules"] == {**old_rules, "visit_photo_required": False, "visit_max_distance_m": 1000}
        kept: dict[str, Any] = {"rules": {**old_rules, "visit_photo_required": True}, "dictionaries": {}}
        event_class.upcast_v1_v2(kept)
        assert kept["rules"]["visit_photo_required"] is True  # a value present is never replaced
