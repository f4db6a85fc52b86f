"""C-11: a visit with a JPEG photo takes its time and place from the EXIF data, is flagged
`late_entry` when the photo is old, and the photo is stored by its sha256; logos the same
way; anything but a JPEG, or a file past the limit, is refused with a 4xx."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta

from PIL import Image

from commands.adapters.clock import ManualClock
from commands.bootstrap import Service
from tests.conftest import Http, assert_error
from tests.e2e.helpers import jpeg, ok, org_with_two_salespeople


def test_exif_time_and_gps_become_the_visit(http: Http, clock: ManualClock, service: Service) -> None:
    org_with_two_salespeople(http)
    customer = ok(http.post("/customers", "alice", json={"name": "拍照客户"}))["id"]
    two_days_ago = clock.now().astimezone().replace(microsecond=0) - timedelta(days=2)
    photo = jpeg(two_days_ago, gps=(31.2304, 121.4737))
    made = http.post(f"/customers/{customer}/visits", "alice", data={"notes": "现场拍照", "stage": "需求确认"},
                     files={"photo": ("visit.jpg", photo, "image/jpeg")})
    body = ok(made)
    assert body["late_entry"] is True
    view = http.get(f"/customers/{customer}", "alice").json()
    [visit] = view["visits"]
    assert datetime.fromisoformat(visit["visited_at"]) == two_days_ago
    assert (round(visit["lat"], 4), round(visit["lng"], 4)) == (31.2304, 121.4737)
    assert (visit["notes"], visit["stage"], visit["late_entry"]) == ("现场拍照", "需求确认", True)
    assert visit["photo"] == hashlib.sha256(photo).hexdigest()
    stored = http.get(f"/customers/{customer}/visits/{body['visit_id']}/photo", "alice")
    assert stored.status_code == 200 and stored.headers["content-type"] == "image/jpeg"
    assert stored.content == photo
    assert (service.deps.blobs.path(visit["photo"])).read_bytes() == photo
    # The visit query (Q-3's source) shows the late entry too.
    [history_visit] = [h for h in http.get(f"/customers/{customer}/history", "alice").json()["items"]
                       if h["type"] == "VisitRecorded"]
    assert history_visit["data"]["photo_exif"]["lat"] == visit["lat"]


def test_a_fresh_photo_without_gps_keeps_the_given_place(http: Http, clock: ManualClock) -> None:
    org_with_two_salespeople(http)
    customer = ok(http.post("/customers", "alice", json={"name": "现拍客户"}))["id"]
    fresh = clock.now().replace(microsecond=0) - timedelta(minutes=30)
    made = ok(http.post(f"/customers/{customer}/visits", "alice",
                        data={"lat": "30.5", "lng": "114.3", "address": "武汉"},
                        files={"photo": ("v.jpg", jpeg(fresh), "image/jpeg")}))
    assert made["late_entry"] is False
    [visit] = http.get(f"/customers/{customer}", "alice").json()["visits"]
    assert (visit["lat"], visit["lng"], visit["address"]) == (30.5, 114.3, "武汉")
    assert datetime.fromisoformat(visit["visited_at"]) == fresh
    # A photo without any EXIF time: the given (or current) time stands.
    plain = ok(http.post(f"/customers/{customer}/visits", "alice",
                         files={"photo": ("p.jpg", jpeg(colour="blue"), "image/jpeg")}))
    assert plain["late_entry"] is False


def test_only_jpegs_within_the_limit(http: Http, service: Service) -> None:
    org_with_two_salespeople(http)
    customer = ok(http.post("/customers", "alice", json={"name": "格式客户"}))["id"]
    png = io.BytesIO()
    Image.new("RGB", (4, 4)).save(png, "PNG")
    assert_error(http.post(f"/customers/{customer}/visits", "alice",
                           files={"photo": ("x.png", png.getvalue(), "image/png")}), 415, "unsupported_media_type")
    assert_error(http.post(f"/customers/{customer}/visits", "alice",
                           files={"photo": ("x.jpg", b"\xff\xd8\xff" + b"not really", "image/jpeg")}),
                 415, "unsupported_media_type")
    service.deps.max_photo_bytes = 200
    assert_error(http.post(f"/customers/{customer}/visits", "alice",
                           files={"photo": ("big.jpg", jpeg(), "image/jpeg")}), 413, "too_large")
    assert_error(http.post(f"/customers/{customer}/visits", "alice", data={"lat": "north"}), 422,
                 "validation_error")
    assert_error(http.post(f"/customers/{customer}/visits", "alice",
                           files={"other": ("x.jpg", jpeg(), "image/jpeg")}), 422)
    # Nothing was recorded by the refusals.
    assert http.get(f"/customers/{customer}", "alice").json()["visits"] == []


def test_logo(http: Http) -> None:
    org_with_two_salespeople(http)
    customer = ok(http.post("/customers", "alice", json={"name": "标志客户"}))["id"]
    logo = jpeg(colour="green")
    response = http.client.put(f"/api/v1/customers/{customer}/logo", headers=http.as_("alice"),
                               files={"logo": ("logo.jpg", logo, "image/jpeg")})
    assert response.status_code == 200, response.text
    assert http.get(f"/customers/{customer}", "alice").json()["logo"] == hashlib.sha256(logo).hexdigest()
    assert http.get(f"/customers/{customer}/logo", "alice").content == logo
    assert_error(http.get(f"/customers/{customer}/logo", "bob"), 404)
    denied = http.client.put(f"/api/v1/customers/{customer}/logo", headers=http.as_("bob"),
                             files={"logo": ("logo.jpg", logo, "image/jpeg")})
    assert_error(denied, 404, "not_found")  # hidden from bob, for writes as for reads
