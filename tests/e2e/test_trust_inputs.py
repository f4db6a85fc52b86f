"""N-1: bad input that was answered 500 is a 4xx that writes nothing — moments
outside the business range (1900-2199) in visits, EXIF, the operation log's period, sweeps,
registrations and work reports; JSON nested too deep and multipart bodies cut short; control
characters (NUL, which PostgreSQL cannot store) in query parameters and paths; and history
asked of an id that is not a customer's."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from PIL import ExifTags, Image

from aggregates.settings import SETTINGS_ID
from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from tests.conftest import Http, assert_error
from tests.e2e.helpers import jpeg, ok, org_with_two_salespeople

# Year 1 in the business time zone and year 9999 behind UTC: neither can even be moved to UTC.
OUT_OF_RANGE = ("0001-01-01T00:00:00", "9999-12-31T23:59:59-10:00")


def jpeg_taken(raw: str, offset: str | None = None) -> bytes:
    """A JPEG whose EXIF DateTimeOriginal is exactly `raw` (and OffsetTimeOriginal `offset`)."""
    exif = Image.Exif()
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = raw
    if offset is not None:
        details[ExifTags.Base.OffsetTimeOriginal] = offset
    out = io.BytesIO()
    Image.new("RGB", (16, 16), "blue").save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def customer(http: Http) -> str:
    org_with_two_salespeople(http)
    return str(ok(http.post("/customers", "alice", json={"name": "输入客户"}))["id"])


def visits_of(http: Http, customer: str) -> list[dict[str, Any]]:
    return list(http.get(f"/customers/{customer}", "alice").json()["visits"])


def test_visit_times_outside_the_range_are_422_as_json_and_as_form(http: Http, service: Service,
                                                                    customer: str) -> None:
    head = service.store.head()
    for moment in OUT_OF_RANGE:
        error = assert_error(http.post(f"/customers/{customer}/visits", "alice", json={"visited_at": moment}), 422)
        assert error["field"] == "visited_at", error
        # Multipart with text fields only ((None, value) parts), then with a photo beside them.
        error = assert_error(http.post(f"/customers/{customer}/visits", "alice",
                                       files={"visited_at": (None, moment), "notes": (None, "表单")}), 422)
        assert error["field"] == "visited_at", error
        error = assert_error(http.post(f"/customers/{customer}/visits", "alice", data={"visited_at": moment},
                                       files={"photo": ("v.jpg", jpeg(), "image/jpeg")}), 422)
        assert error["field"] == "visited_at", error
    assert service.store.head() == head
    assert visits_of(http, customer) == []


@pytest.mark.parametrize(("raw", "offset"), [("0001:01:01 00:00:00", None), ("9999:12:31 23:59:59", "-12:00"),
                                             ("1899:12:31 23:00:00", "+08:00")])
def test_an_exif_time_outside_the_range_is_no_evidence(http: Http, clock: ManualClock, customer: str, raw: str,
                                                       offset: str | None) -> None:
    """The camera's clock is not usable: the visit keeps the form's time (or now), as when the
    EXIF time is unreadable; the photo is still the visit's evidence."""
    photo = jpeg_taken(raw, offset)
    given = "2026-11-01T09:00:00+08:00"
    made = ok(http.post(f"/customers/{customer}/visits", "alice", data={"visited_at": given, "notes": "相机时钟坏了"},
                        files={"photo": ("v.jpg", photo, "image/jpeg")}))
    [visit] = visits_of(http, customer)
    assert visit["visit_id"] == made["visit_id"]
    assert datetime.fromisoformat(visit["visited_at"]) == datetime.fromisoformat(given)
    assert visit["photo"] is not None
    [recorded] = [h for h in http.get(f"/customers/{customer}/history", "alice").json()["items"]
                  if h["type"] == "VisitRecorded"]
    assert recorded["data"]["photo_exif"]["taken_at"] is None
    # Without a time in the form, the visit is now.
    ok(http.post(f"/customers/{customer}/visits", "alice", files={"photo": ("v.jpg", photo, "image/jpeg")}))
    latest = visits_of(http, customer)[0]
    assert abs(datetime.fromisoformat(latest["visited_at"]) - clock.now()) < timedelta(seconds=1)


def test_json_nested_too_deep_is_400_on_visits_as_on_the_other_routes(http: Http, service: Service,
                                                                       customer: str) -> None:
    head = service.store.head()
    for deep in ("[" * 100_000 + "]" * 100_000, '{"notes":' * 100_000 + "1" + "}" * 100_000):
        headers = {"content-type": "application/json"}
        assert_error(http.post("/customers", "alice", content=deep, headers=headers), 400, "bad_request")
        assert_error(http.post(f"/customers/{customer}/visits", "alice", content=deep, headers=headers), 400,
                     "bad_request")
    assert service.store.head() == head
    assert visits_of(http, customer) == []


def test_a_multipart_body_cut_short_is_422_not_an_empty_visit(http: Http, service: Service, customer: str) -> None:
    head = service.store.head()
    multipart = {"content-type": "multipart/form-data; boundary=x"}
    for body in (b"--x\r\n", b"--x\r\nContent-Disposition: form-data; name=\"notes\"\r\n\r\n", b"--x"):
        assert_error(http.post(f"/customers/{customer}/visits", "alice", content=body, headers=multipart), 422,
                     "validation_error")
        assert_error(http.put(f"/customers/{customer}/logo", "alice", content=body, headers=multipart), 422,
                     "validation_error")
        assert_error(http.post("/imports/customers", "root", content=body, headers=multipart), 422,
                     "validation_error")
    assert_error(http.post(f"/customers/{customer}/visits", "alice", content=b"--x\r\n",
                           headers={"content-type": "multipart/form-data"}), 422, "validation_error")
    assert service.store.head() == head
    assert visits_of(http, customer) == []
    # A whole form, closing boundary included, is still a visit.
    whole = b"--x\r\nContent-Disposition: form-data; name=\"notes\"\r\n\r\n\xe5\xae\x8c\xe6\x95\xb4\r\n--x--\r\n"
    ok(http.post(f"/customers/{customer}/visits", "alice", content=whole, headers=multipart))
    assert [v["notes"] for v in visits_of(http, customer)] == ["完整"]


def test_operation_log_periods_outside_the_range_are_422(http: Http) -> None:
    for params, field in (({"from": "0001-01-01"}, "from"), ({"to": "9999-12-31"}, "to"),
                          ({"from": "0001-01-01T00:00:00"}, "from"), ({"to": "9999-12-31T23:59:59-10:00"}, "to"),
                          ({"from": "1899-12-31", "to": "2026-01-01"}, "from")):
        for format in ("json", "csv"):
            error = assert_error(http.get("/operation-log", "root", params={**params, "format": format}), 422,
                                 "date_out_of_range")
            assert error["field"] == field
    assert http.get("/operation-log", "root", params={"from": "1900-01-01", "to": "2199-12-31"}).status_code == 200


def test_sweeps_registrations_and_work_reports_outside_the_range_are_422(http: Http, service: Service) -> None:
    org_with_two_salespeople(http)
    head = service.store.head()
    for moment in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-10:00", "0001-01-01T00:00:00"):
        assert_error(http.post("/admin/pool/sweep", "root", json={"now": moment}), 422)
        assert_error(http.post("/customers", "root", json={"name": "远古客户", "created_at": moment}), 422)
    for kind in ("daily", "weekly", "monthly"):
        for day in ("9999-12-31", "0001-01-01"):
            assert_error(http.post("/work-reports", "alice", json={"kind": kind, "date": day}), 422)
    assert service.store.head() == head
    assert http.get("/customers", "root", params={"q": "远古"}).json()["total"] == 0


CONTROL = ("\x00", "\x1f", "\n", "\x7f")


@pytest.mark.parametrize("ch", CONTROL)
def test_control_characters_in_query_parameters_are_422_naming_the_parameter(http: Http, ch: str) -> None:
    """On PostgreSQL a NUL reached the database and failed there (500); every query
    parameter and path segment is checked in one place, for every route."""
    org_with_two_salespeople(http)
    for who, path, name in (("alice", "/customers", "q"), ("alice", "/customers", "region"),
                            ("root", "/customers", "owner_id"), ("alice", "/reports/Q-1", "q"),
                            ("alice", "/reports/S-1", "q"), ("root", "/reports/Q-11", "region"),
                            ("root", "/operation-log", "operation"), ("root", "/operation-log", "target_id"),
                            ("root", "/operation-log", "actor_id"), ("alice", "/products", "q"),
                            ("alice", "/stock", "warehouse"), ("alice", "/problems", "status")):
        error = assert_error(http.get(path, who, params={name: f"13{ch}9"}), 422, "control_character")
        assert error["field"] == name, (path, error)
    # A key with a control character is refused too, without echoing it as the field.
    assert assert_error(http.get("/customers", "alice", params={f"q{ch}": "x"}), 422,
                        "control_character")["field"] == "query"


@pytest.mark.parametrize("ch", ("%00", "%0A", "%1F"))
def test_control_characters_in_path_segments_are_422(http: Http, service: Service, ch: str) -> None:
    org_with_two_salespeople(http)
    head = service.store.head()
    headers = http.as_("alice")
    for method, path in (("GET", f"/api/v1/customers/{ch}"), ("GET", f"/api/v1/reports/Q-1{ch}"),
                         ("POST", f"/api/v1/customers/{ch}/claim"), ("DELETE", f"/api/v1/customers/x{ch}"),
                         ("GET", f"/api/v1/nothing{ch}")):
        error = assert_error(http.client.request(method, path, headers=headers), 422, "control_character")
        assert error["field"] == "path"
    assert service.store.head() == head


def test_history_of_an_id_that_is_not_a_customers_is_404(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    ok(http.post("/people", "root", json={"name": "审计", "username": "audit", "password": "password123",
                                         "roles": ["auditor"]}))
    for who in ("root", "audit", "boss", "alice"):
        for other in (ids["alice"], ids["dept"], str(SETTINGS_ID)):
            assert_error(http.get(f"/customers/{other}/history", who), 404, "not_found")
