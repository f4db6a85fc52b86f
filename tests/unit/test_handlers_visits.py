"""Visits that prove themselves (seed 000 §2: 杜绝编造、补录) and two smaller rules, through
`handle` with the fakes: the photo a visit needs when `visit_photo_required` is on, the flag
of a photo taken farther than `visit_max_distance_m` from the customer, the region a visit
names; a work report dated after the business day (W-1)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import ExifTags, Image

from commands import messages as m
from tests.unit.fakes import Team, World

SHOP = (31.2304, 121.4737)


def photo(gps: tuple[float, float] | None = None, taken: datetime | None = None, colour: str = "red") -> bytes:
    image = Image.new("RGB", (4, 4), colour)
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = "+00:00"
    if gps is not None:
        place = exif.get_ifd(ExifTags.IFD.GPSInfo)
        for ref, tag, value, (plus, minus) in ((1, 2, gps[0], "NS"), (3, 4, gps[1], "EW")):
            whole = abs(value)
            minutes = whole % 1 * 60
            place[ref] = plus if value >= 0 else minus
            place[tag] = (float(int(whole)), float(int(minutes)), round(minutes % 1 * 60, 4))
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_a_visit_needs_its_photo_when_the_rule_says_so(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "拍照必需", lat=SHOP[0], lng=SHOP[1])
    assert w.do(m.RecordVisit(cid), team.alice).ids["distance_check"] == "no_photo"  # off by default
    w.rules(visit_photo_required=True)
    puts = list(w.blobs.puts)
    for bare in (m.RecordVisit(cid), m.RecordVisit(cid, lat=SHOP[0], lng=SHOP[1], address="现场", notes="忘带手机")):
        refused = w.refused(bare, team.alice)
        assert (refused.code, refused.field) == ("photo_required", "photo")
    assert w.blobs.puts == puts and w.customer_state(cid).visit_count == 1
    # The other checks come first: a refusal names what is wrong with what was sent.
    assert w.refused(m.RecordVisit(cid, photo=b"GIF89a"), team.alice).code == "unsupported_media_type"
    assert w.refused(m.RecordVisit(cid), team.bob).code == "not_found"
    done = w.do(m.RecordVisit(cid, photo=photo(SHOP)), team.alice)
    assert (done.ids["far_from_customer"], done.ids["distance_m"], done.ids["distance_check"]) == (
        False, 0, "checked")
    assert w.customer_state(cid).visit_count == 2 and len(w.blobs.puts) == len(puts) + 1
    w.rules(visit_photo_required=False)
    w.do(m.RecordVisit(cid), team.alice)


def test_a_photo_far_from_the_customer_is_flagged_by_the_limit_in_force(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "远处拍照", lat=SHOP[0], lng=SHOP[1], address="上海市人民大道200号",
                     region="华东", contacts=[{"name": "王总", "phone": "13800000000"}])
    eighty_km = (SHOP[0] + 0.72, SHOP[1])
    far = w.do(m.RecordVisit(cid, photo=photo(eighty_km), lat=SHOP[0], lng=SHOP[1]), team.alice)
    assert far.ids["far_from_customer"] is True and 79_000 < far.ids["distance_m"] < 81_000
    assert far.ids["late_entry"] is False
    [event] = [e for e in w.events(cid) if type(e).__name__ == "VisitRecorded"]
    assert (event.lat, event.lng) == pytest.approx(eighty_km, abs=1e-5)  # the photo's place, not the form's
    assert (event.far_from_customer, event.distance_m, event.distance_check) == (True, far.ids["distance_m"],
                                                                                  "checked")
    assert (event.address, event.contact, event.region) == ("上海市人民大道200号", "王总", "华东")
    about_600_m = (SHOP[0] + 0.0054, SHOP[1])
    assert w.do(m.RecordVisit(cid, photo=photo(about_600_m, colour="blue")), team.alice).ids[
        "far_from_customer"] is False
    w.rules(visit_max_distance_m=500)
    assert w.do(m.RecordVisit(cid, photo=photo(about_600_m, colour="green")), team.alice).ids[
        "far_from_customer"] is True
    assert w.customer_state(cid).visit_count == 3  # flagged visits are accepted


def test_what_is_not_checked_says_why(w: World, team: Team) -> None:
    placed = w.customer(team.alice, "有位置", lat=SHOP[0], lng=SHOP[1])
    unplaced = w.customer(team.alice, "无位置")
    assert w.do(m.RecordVisit(placed, photo=photo()), team.alice).ids["distance_check"] == "no_photo_gps"
    blind = w.do(m.RecordVisit(unplaced, photo=photo((40.0, 116.0))), team.alice).ids
    assert (blind["distance_check"], blind["distance_m"], blind["far_from_customer"]) == (
        "no_customer_location", None, False)
    typed = w.do(m.RecordVisit(placed, lat=40.0, lng=116.0), team.alice).ids
    assert (typed["distance_check"], typed["far_from_customer"]) == ("no_photo", False)


def test_a_hand_typed_time_two_weeks_back_stays_a_late_entry(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "补录客户", lat=SHOP[0], lng=SHOP[1])
    w.rules(visit_photo_required=True)
    old = w.clock.now() - timedelta(days=14)
    typed = w.do(m.RecordVisit(cid, visited_at=old, photo=photo(SHOP)), team.alice).ids
    assert typed["late_entry"] is True
    # The photo's own time wins over the form's: a photo taken now is no late entry.
    now = w.clock.now().replace(microsecond=0)
    fresh = w.do(m.RecordVisit(cid, visited_at=old, photo=photo(SHOP, taken=now, colour="blue")), team.alice)
    assert fresh.ids["late_entry"] is False


def test_a_visit_may_name_a_known_region(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "跨区客户", region="华东")
    w.do(m.RecordVisit(cid, region="华南"), team.alice)
    w.do(m.RecordVisit(cid), team.alice)
    assert [e.region for e in w.events(cid) if type(e).__name__ == "VisitRecorded"] == ["华南", "华东"]
    refused = w.refused(m.RecordVisit(cid, region="火星"), team.alice)
    assert (refused.code, refused.field) == ("unknown_value", "region")
    assert w.refused(m.RecordVisit(cid, address="x" * 501), team.alice).code == "too_long"
    assert w.refused(m.RecordVisit(cid, contact="\x07"), team.alice).code == "control_character"


@pytest.mark.parametrize(("rules", "field"), [
    ({"visit_max_distance_m": 5}, "rules.visit_max_distance_m"),
    ({"visit_max_distance_m": 10**9}, "rules.visit_max_distance_m"),
    ({"visit_photo_required": "yes"}, "rules.visit_photo_required"),
])
def test_visit_settings_are_bounded(w: World, rules: dict[str, object], field: str) -> None:
    refused = w.refused(m.ChangeSettings(rules=rules, dictionaries={}), w.root)
    assert (refused.code, refused.field) == ("validation_error", field)


# ---- work reports (W-1) --------------------------------------------------------------------------


def test_a_work_report_dated_after_today_is_refused(w: World, team: Team) -> None:
    w.clock.set(datetime(2026, 11, 2, 17, 0, tzinfo=UTC))  # 3 November, 01:00 in Shanghai
    for kind in ("daily", "weekly", "monthly"):
        refused = w.refused(m.SubmitWorkReport(kind, date(2026, 11, 4), summary="明天的事"), team.alice)
        assert (refused.code, refused.field, refused.details["today"]) == ("date_in_future", "date", "2026-11-03")
    refused = w.refused(m.SubmitWorkReport("daily", date(2199, 12, 31)), team.alice)
    assert refused.code == "date_in_future"
    assert w.target_figures.calls == []  # refused before any figure is read
    # Today is the business day, not the UTC date; today and earlier days are reports.
    assert w.do(m.SubmitWorkReport("daily", date(2026, 11, 3)), team.alice).ids["revision"] == 1
    assert w.do(m.SubmitWorkReport("monthly", date(2026, 11, 3)), team.alice).ids["end"] == date(2026, 11, 30)
    assert w.do(m.SubmitWorkReport("weekly", date(2026, 10, 1)), team.alice).ids["revision"] == 1
