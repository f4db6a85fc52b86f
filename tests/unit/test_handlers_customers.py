"""Customer handlers through `handle` with fakes (C-1..C-4, C-8..C-11, H-4): registration
and its numbers, unique and look-alike names, info changes, contacts, shares, deletion,
visits and photos. Given earlier commands, when a command, then the result, the refusal
code or the state read back from the in-memory store."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from PIL import Image

from aggregates.customer import Customer
from aggregates.names import CustomerName
from commands import messages as m
from tests.unit.fakes import Team, World


@pytest.fixture
def team(w: World) -> Team:
    w.rules(approval_required=[])  # info changes apply at once here; approvals have their own tests
    return w.team()


def jpeg(taken: str | None = None, gps: tuple[float, float] | None = None, colour: str = "red") -> bytes:
    image = Image.new("RGB", (4, 4), colour)
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken  # DateTimeOriginal
    if gps:
        place = exif.get_ifd(0x8825)
        place[1], place[2] = "N", (gps[0], 0.0, 0.0)
        place[3], place[4] = "E", (gps[1], 0.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


# ---- registration (C-1, C-2) --------------------------------------------------------------------


def test_registration_numbers_come_from_the_month_sequence(w: World, team: Team) -> None:
    first = w.do(m.RegisterCustomer(name="一号客户"), team.alice)
    second = w.do(m.RegisterCustomer(name="二号客户"), team.alice)
    assert (first.ids["number"], second.ids["number"]) == ("KH202611000001", "KH202611000002")
    assert [c for c in w.sequences.calls if c[1].startswith("customer:")] == [
        ("take", "customer:202611", 1), ("take", "customer:202611", 1)]
    customer = w.customer_state(first.ids["id"])
    assert (customer.number, customer.name, customer.owner_id, customer.status) == (
        "KH202611000001", "一号客户", team.alice.person_id, "potential")
    assert w.profile(team.alice).held == [first.ids["id"], second.ids["id"]]
    assert w.commits[-1] == second.position == w.store.head()


@pytest.mark.parametrize(("utc", "number"), [
    (datetime(2026, 10, 31, 15, 59, tzinfo=UTC), "KH202610000001"),  # 23:59 in Shanghai
    (datetime(2026, 10, 31, 16, 0, tzinfo=UTC), "KH202611000001"),  # midnight in Shanghai
])
def test_the_number_month_is_the_business_month(w: World, team: Team, utc: datetime, number: str) -> None:
    w.clock.set(utc)
    assert w.do(m.RegisterCustomer(name="跨月客户"), team.alice).ids["number"] == number


def test_the_number_month_follows_the_timezone_setting(w: World, team: Team) -> None:
    w.rules(timezone="UTC")
    w.clock.set(datetime(2026, 10, 31, 17, 0, tzinfo=UTC))  # 1 November in Shanghai, still October in UTC
    assert w.do(m.RegisterCustomer(name="时区客户"), team.alice).ids["number"] == "KH202610000001"


@pytest.mark.parametrize("again", [
    "上海示例科技有限公司",
    "  上海示例科技有限公司  ",  # trimmed
    "上海示例科技\u200b有限公司",  # a zero-width space
    "上海示例科技\u202e有限公司",  # a bidi override
    "上海示例科技\ufeff有限公司",  # a byte-order mark
])
def test_the_same_name_is_refused(w: World, team: Team, again: str) -> None:
    first = w.do(m.RegisterCustomer(name="上海示例科技有限公司"), team.alice)
    refused = w.refused(m.RegisterCustomer(name=again), team.bob)
    assert (refused.code, refused.field, refused.details["number"]) == ("duplicate_name", "name", first.ids["number"])
    assert "reason" not in refused.details


@pytest.mark.parametrize(("taken", "again"), [
    ("ACME Trading", "acme   trading"),  # case and white space
    ("ＡＣＭＥ贸易", "ACME贸易"),  # full-width letters (NFKC)
    ("Ａpple", "apple"),
])
def test_names_equal_once_normalised_are_one_name(w: World, team: Team, taken: str, again: str) -> None:
    w.customer(team.alice, taken)
    assert w.refused(m.RegisterCustomer(name=again), team.bob).code == "duplicate_name"


@pytest.mark.parametrize(("taken", "look_alike"), [
    ("Apple", "\u0410pple"),  # Cyrillic А
    ("Micro Soft", "Micr\u043e Soft"),  # Cyrillic о
    ("Studio 0", "Studio O"),  # digit zero and letter O
])
def test_look_alike_names_are_refused_as_confusable(w: World, team: Team, taken: str, look_alike: str) -> None:
    number = w.do(m.RegisterCustomer(name=taken), team.alice).ids["number"]
    refused = w.refused(m.RegisterCustomer(name=look_alike), team.bob)
    assert (refused.code, refused.details) == ("duplicate_name", {"number": number, "reason": "confusable"})


def test_names_that_differ_are_both_registered(w: World, team: Team) -> None:
    w.customer(team.alice, "Apple")
    w.customer(team.bob, "Apples")
    w.customer(team.bob, "苹果")
    assert len(w.profile(team.bob).held) == 2


def test_legacy_names_from_the_port_are_taken_too(w: World, team: Team) -> None:
    w.legacy_names.add("老客户有限公司", "KH201901000007")
    refused = w.refused(m.RegisterCustomer(name="老客户有限公司"), team.alice)
    assert (refused.code, refused.details) == ("duplicate_name", {"number": "KH201901000007", "reason": "confusable"})
    assert w.legacy_names.asked and w.legacy_names.asked[0][1] is None
    w.customer(team.alice, "新客户有限公司")  # other names are free


@pytest.mark.parametrize(("name", "code"), [
    ("", "validation_error"),
    ("    ", "validation_error"),
    ("\u200b\u200d\ufeff", "validation_error"),  # nothing visible
    ("\u3000", "validation_error"),  # an ideographic space
    ("公司\x00名", "control_character"),
    ("公司\x1b[31m名", "control_character"),  # an escape sequence
    ("名" * 201, "too_long"),
    ("\ufdfa" * 12, "too_long"),  # one character, 18 once normalised (NFKC)
])
def test_bad_names_are_refused(w: World, team: Team, name: str, code: str) -> None:
    refused = w.refused(m.RegisterCustomer(name=name), team.alice)
    assert (refused.code, refused.field) == (code, "name")


def test_odd_but_visible_unicode_names_are_kept_as_cleaned(w: World, team: Team) -> None:
    # White space inside a name collapses to one space: a newline or tab never reaches an event.
    spaced = w.customer(team.alice, "公司\n\t 名")
    assert w.customer_state(spaced).name == "公司 名"
    emoji = w.customer(team.alice, "🍎 水果 👨‍👩‍👧 行")  # the zero-width joiners of the family emoji go
    assert w.customer_state(emoji).name == "🍎 水果 👨👩👧 行"
    combining = w.customer(team.alice, "Cafe\u0301 Zoë")
    assert w.customer_state(combining).name == "Café Zoë"  # NFKC composes
    longest = w.customer(team.alice, "名" * 200)
    assert len(w.customer_state(longest).name) == 200
    # The composed and decomposed spellings are one name.
    assert w.refused(m.RegisterCustomer(name="Café Zoe\u0308"), team.bob).code == "duplicate_name"


def test_dictionary_values_are_checked(w: World, team: Team) -> None:
    refused = w.refused(m.RegisterCustomer(name="火星客户", region="火星"), team.alice)
    assert (refused.code, refused.field) == ("unknown_value", "region")
    assert w.refused(m.RegisterCustomer(name="火星客户", type="外星企业"), team.alice).field == "type"
    assert w.refused(m.RegisterCustomer(name="火星客户", stage="签约了吗"), team.alice).field == "stage"
    done = w.do(m.RegisterCustomer(name="火星客户", type="学校", region="华东", source="展会", stage="签约"), team.alice)
    customer = w.customer_state(done.ids["id"])
    assert (customer.type, customer.region, customer.source, customer.stage) == ("学校", "华东", "展会", "签约")


def test_only_admins_backdate_a_registration(w: World, team: Team) -> None:
    refused = w.refused(m.RegisterCustomer(name="历史客户", created_at=datetime(2020, 5, 1, 9, 0)), team.boss)
    assert (refused.code, refused.field) == ("forbidden", "created_at")
    done = w.do(m.RegisterCustomer(name="历史客户", created_at=datetime(2020, 5, 1, 9, 0), to_pool=True), w.root)
    # Without an offset it is business time: 09:00 in Shanghai is 01:00 UTC.
    assert w.customer_state(done.ids["id"]).created_at == datetime(2020, 5, 1, 1, 0, tzinfo=UTC)


def test_registering_into_the_pool(w: World, team: Team) -> None:
    done = w.do(m.RegisterCustomer(name="公海客户", to_pool=True, share_with=[team.bob.person_id]), team.alice)
    customer = w.customer_state(done.ids["id"])
    assert (customer.owner_id, customer.in_pool, customer.shared_with) == (None, True, [])
    assert customer.pool_entered_at is not None
    assert w.profile(team.alice).held == []
    # A manager without a salesperson profile registers into the pool only.
    refused = w.refused(m.RegisterCustomer(name="经理的客户"), team.boss)
    assert (refused.code, refused.field) == ("not_a_salesperson", "to_pool")
    w.do(m.RegisterCustomer(name="经理的客户", to_pool=True), team.boss)


def test_registration_shares_with_known_people_only(w: World, team: Team) -> None:
    refused = w.refused(m.RegisterCustomer(name="共享客户", share_with=[str(uuid4())]), team.alice)
    assert (refused.code, refused.field) == ("unknown_person", "share_with")
    assert w.refused(m.RegisterCustomer(name="共享客户", share_with=["bob"]), team.alice).code == "validation_error"
    done = w.do(m.RegisterCustomer(name="共享客户", share_with=[team.bob.person_id, team.alice.person_id]), team.alice)
    assert w.customer_state(done.ids["id"]).shared_with == [team.bob.person_id]  # not with the owner


def test_a_registration_past_the_cap_is_refused_and_leaves_the_name_free(w: World) -> None:
    team = w.team(cap=2)
    w.customer(team.alice, "甲")
    w.customer(team.alice, "乙")
    refused = w.refused(m.RegisterCustomer(name="丙"), team.alice)
    assert (refused.code, refused.details) == ("cap_reached", {"held": 2, "max_customers": 2})
    assert w.store.find(CustomerName.id_for("丙"), CustomerName) is None
    assert w.do(m.RegisterCustomer(name="丙"), team.bob).ids["number"] == "KH202611000004"  # numbers may skip


def test_the_default_cap_comes_from_the_settings(w: World) -> None:
    team = w.team(cap=None)
    w.rules(default_max_customers=1)
    w.customer(team.alice, "甲")
    assert w.refused(m.RegisterCustomer(name="乙"), team.alice).code == "cap_reached"


def test_contacts_get_ids_and_exactly_one_primary(w: World, team: Team) -> None:
    refused = w.refused(m.RegisterCustomer(name="联系人客户", contacts=[{"name": "甲", "primary": True},
                                                                         {"name": "乙", "primary": True}]), team.alice)
    assert refused.code == "primary_required"
    assert w.refused(m.RegisterCustomer(name="联系人客户", contacts=[{"phone": "1"}]), team.alice).field == "contacts"
    cid = w.customer(team.alice, "联系人客户", contacts=[{"name": "甲", "phone": "1"}, {"name": "乙"}])
    assert [(c["name"], c["primary"]) for c in w.customer_state(cid).contacts] == [("甲", True), ("乙", False)]
    added = w.do(m.AddContact(cid, {"name": "丙", "primary": True}), team.alice).ids["id"]
    assert [c["name"] for c in w.customer_state(cid).contacts if c["primary"]] == ["丙"]
    w.do(m.RemoveContact(cid, added), team.alice)
    assert [(c["name"], c["primary"]) for c in w.customer_state(cid).contacts] == [("甲", True), ("乙", False)]
    second = w.customer_state(cid).contacts[1]["id"]
    w.do(m.EditContact(cid, second, {"primary": True, "phone": "9"}), team.alice)
    assert [(c["name"], c["primary"], c["phone"]) for c in w.customer_state(cid).contacts] == [
        ("甲", False, "1"), ("乙", True, "9")]
    assert w.refused(m.EditContact(cid, second, {"primary": False}), team.alice).code == "primary_required"
    assert w.refused(m.EditContact(cid, second, {"phone": "9"}), team.alice).code == "no_change"
    assert w.refused(m.EditContact(cid, "nope", {"phone": "1"}), team.alice).code == "unknown_contact"
    assert w.refused(m.RemoveContact(cid, "nope"), team.alice).code == "unknown_contact"
    assert w.refused(m.AddContact(cid, {"name": ""}), team.alice).code == "validation_error"
    assert w.refused(m.AddContact(cid, {"name": "丁" * 101}), team.alice).code == "too_long"


def test_sharees_read_but_do_not_change(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "共享客户")
    assert w.refused(m.AddContact(cid, {"name": "甲"}), team.bob).code == "not_found"  # hidden from bob
    w.do(m.ChangeShares(cid, add=[team.bob.person_id]), team.alice)
    assert w.customer_state(cid).shared_with == [team.bob.person_id]
    assert w.refused(m.AddContact(cid, {"name": "甲"}), team.bob).code == "not_owner"
    assert w.refused(m.ChangeShares(cid, remove=[team.bob.person_id]), team.bob).code == "not_owner"
    assert w.refused(m.ChangeCustomerInfo(cid, {"region": "华北"}), team.bob).code == "not_owner"
    # The manager of the owner changes the customer.
    w.do(m.ChangeCustomerInfo(cid, {"region": "华北"}), team.boss)
    assert w.customer_state(cid).region == "华北"


def test_share_rules(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "共享规则")
    assert w.refused(m.ChangeShares(cid, add=[team.alice.person_id]), team.alice).code == "share_with_owner"
    refused = w.refused(m.ChangeShares(cid, add=[str(uuid4())]), team.alice)
    assert (refused.code, refused.field) == ("unknown_person", "add")
    assert w.refused(m.ChangeShares(cid, remove=[team.bob.person_id]), team.alice).code == "no_change"
    w.do(m.ChangeShares(cid, add=[team.bob.person_id, team.bob.person_id, team.boss.person_id]), team.alice)
    assert w.customer_state(cid).shared_with == [team.bob.person_id, team.boss.person_id]
    w.do(m.ChangeShares(cid, remove=[team.boss.person_id]), team.alice)
    assert w.customer_state(cid).shared_with == [team.bob.person_id]
    pool = w.customer(team.alice, "公海共享", to_pool=True)
    assert w.refused(m.ChangeShares(pool, add=[team.bob.person_id]), w.root).code == "in_pool"
    assert w.refused(m.ChangeShares(pool, add=[team.bob.person_id]), team.alice).code == "not_owner"


# ---- info changes and restore (C-3, H-4) --------------------------------------------------------


def test_a_rename_moves_the_name_reservation(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "旧名字")
    w.customer(team.bob, "别人的名字")
    assert w.refused(m.ChangeCustomerInfo(cid, {"name": "别人的名字"}), team.alice).code == "duplicate_name"
    w.do(m.ChangeCustomerInfo(cid, {"name": "  新名字 ", "region": "华北"}, reason="工商变更"), team.alice)
    customer = w.customer_state(cid)
    assert (customer.name, customer.region) == ("新名字", "华北")
    [changed] = [e for e in w.events(cid) if type(e).__name__ == "InfoChanged"]
    assert {(c["field"], c["old"], c["new"]) for c in changed.changes} == {
        ("name", "旧名字", "新名字"), ("region", None, "华北")}
    assert (changed.reason, changed.approved_by, changed.actor_id) == ("工商变更", None, team.alice.person_id)
    w.customer(team.bob, "旧名字")  # free again
    assert w.refused(m.RegisterCustomer(name="新名字"), team.bob).code == "duplicate_name"


def test_a_rename_to_a_look_alike_of_itself_keeps_its_own_skeleton(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "Apple")
    w.do(m.ChangeCustomerInfo(cid, {"name": "APPLE"}), team.alice)  # the same name, other case
    w.do(m.ChangeCustomerInfo(cid, {"name": "\u0410pple"}), team.alice)  # Cyrillic: the same skeleton
    assert w.customer_state(cid).name == "\u0410pple"
    assert w.refused(m.RegisterCustomer(name="Apple"), team.bob).details["reason"] == "confusable"
    w.customer(team.bob, "Orange")
    assert w.refused(m.ChangeCustomerInfo(cid, {"name": "0range"}), team.alice).code == "duplicate_name"


def test_info_change_refusals(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "变更客户", region="华东")
    assert w.refused(m.ChangeCustomerInfo(cid, {"region": "华东"}), team.alice).code == "no_change"
    assert w.refused(m.ChangeCustomerInfo(cid, {"owner_id": team.bob.person_id}), team.alice).code == "unknown_field"
    assert w.refused(m.ChangeCustomerInfo(cid, {"status": "dealt"}), team.alice).code == "invalid_status"
    assert w.refused(m.ChangeCustomerInfo(cid, {"region": "火星"}), team.alice).code == "unknown_value"
    assert w.refused(m.ChangeCustomerInfo(cid, {"name": "\u200b"}), team.alice).code == "validation_error"
    assert w.refused(m.ChangeCustomerInfo(cid, {"address": "路" * 501}), team.alice).code == "too_long"
    assert w.refused(m.ChangeCustomerInfo(cid, {"lat": float("nan")}), team.alice).code == "validation_error"
    assert w.refused(m.ChangeCustomerInfo(str(uuid4()), {"region": "华北"}), team.alice).code == "not_found"
    assert w.refused(m.ChangeCustomerInfo("not-an-id", {"region": "华北"}), team.alice).field == "customer_id"
    w.do(m.ChangeCustomerInfo(cid, {"status": "lost"}), team.alice)
    assert w.customer_state(cid).status == "lost"


def test_only_admins_restore_an_earlier_version(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "原名", region="华东")
    w.do(m.ChangeCustomerInfo(cid, {"name": "改名", "region": "华北"}), team.alice)
    assert w.refused(m.RestoreCustomer(cid, version=1), team.boss).code == "forbidden"
    for version in (0, 2, 99):
        assert w.refused(m.RestoreCustomer(cid, version=version), w.root).code == "invalid_version"
    w.do(m.RestoreCustomer(cid, version=1, reason="误改"), w.root)
    customer = w.customer_state(cid)
    assert (customer.name, customer.region) == ("原名", "华东")
    assert w.event_types(cid)[-1] == "Restored"
    w.customer(team.bob, "改名")  # the reservation moved back
    assert w.refused(m.RestoreCustomer(cid, version=2), w.root).code == "duplicate_name"


# ---- deletion (C-8) --------------------------------------------------------------------------------


def test_only_pool_customers_are_deleted_and_their_name_is_free_again(w: World, team: Team) -> None:
    held = w.customer(team.alice, "在手客户")
    assert w.refused(m.DeleteCustomer(held), team.boss).code == "not_in_pool"
    pool = w.do(m.RegisterCustomer(name="公海客户", to_pool=True), team.alice).ids
    w.do(m.DeleteCustomer(pool["id"]), team.boss)
    assert w.customer_state(pool["id"]).deleted is True
    assert w.refused(m.DeleteCustomer(pool["id"]), team.boss).code == "not_found"
    assert w.refused(m.ClaimCustomer(pool["id"]), team.bob).code == "not_found"
    again = w.do(m.RegisterCustomer(name="公海客户"), team.bob).ids
    assert again["number"] != pool["number"]


# ---- visits and photos (C-10, C-11) ---------------------------------------------------------------


def test_who_records_visits(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "拜访客户")
    assert w.refused(m.RecordVisit(cid), team.bob).code == "not_found"
    w.do(m.ChangeShares(cid, add=[team.bob.person_id]), team.alice)
    for who in (team.alice, team.bob, team.boss, w.root):
        w.do(m.RecordVisit(cid, notes=f"{who.name} 来访"), who)
    assert w.customer_state(cid).visit_count == 4
    outsider = w.person("carol", ["sales"], department=w.department("华南部"))
    assert w.refused(m.RecordVisit(cid), outsider).code == "not_found"
    pool = w.customer(team.alice, "公海拜访", to_pool=True)
    assert w.refused(m.RecordVisit(pool), team.alice).code == "not_owner"
    assert w.refused(m.RecordVisit(pool), w.root).code == "in_pool"


def test_visits_move_status_and_stage_and_flag_late_entries(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "拜访状态")
    fresh = w.do(m.RecordVisit(cid, stage="需求确认"), team.alice)
    assert fresh.ids["late_entry"] is False
    customer = w.customer_state(cid)
    assert (customer.status, customer.stage, customer.visit_count) == ("following", "需求确认", 1)
    now = w.clock.now()
    assert w.do(m.RecordVisit(cid, visited_at=now - timedelta(hours=23)), team.alice).ids["late_entry"] is False
    assert w.do(m.RecordVisit(cid, visited_at=now - timedelta(hours=25)), team.alice).ids["late_entry"] is True
    w.rules(late_entry_hours=48)
    assert w.do(m.RecordVisit(cid, visited_at=now - timedelta(hours=25)), team.alice).ids["late_entry"] is False
    # A naive time is business time: 09:00 on 1 November in Shanghai is 01:00 UTC.
    w.do(m.RecordVisit(cid, visited_at=datetime(2026, 11, 1, 9, 0)), team.alice)
    assert w.events(cid)[-1].visited_at == datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
    first_visit = next(e for e in w.events(cid) if type(e).__name__ == "VisitRecorded")
    assert w.customer_state(cid).last_visit_at == first_visit.visited_at  # the latest visit, not the last entered
    refused = w.refused(m.RecordVisit(cid, visited_at=now + timedelta(hours=1)), team.alice)
    assert (refused.code, refused.field) == ("visit_in_future", "visited_at")
    assert w.refused(m.RecordVisit(cid, stage="乱写"), team.alice).code == "unknown_value"
    assert w.refused(m.RecordVisit(cid, notes="x" * 5001), team.alice).code == "too_long"
    w.do(m.RecordVisit(cid, notes="多行\n备注\t可以"), team.alice)


@pytest.mark.parametrize("moment", [datetime(1, 1, 1, 0, 0), datetime(9999, 12, 31, 23, 59),
                                    datetime(1899, 12, 31, tzinfo=UTC)])
def test_visit_times_outside_the_business_range_are_refused(w: World, team: Team, moment: datetime) -> None:
    cid = w.customer(team.alice, "远古客户")
    refused = w.refused(m.RecordVisit(cid, visited_at=moment), team.alice)
    assert (refused.code, refused.field) == ("date_out_of_range", "visited_at")


def test_a_photo_gives_the_visit_its_time_and_place_and_lands_in_the_blobs(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "照片客户")
    photo = jpeg(taken="2026:11:01 10:30:00", gps=(31.0, 121.0))
    done = w.do(m.RecordVisit(cid, photo=photo, lat=1.0, lng=2.0), team.alice)
    [visit] = [e for e in w.events(cid) if type(e).__name__ == "VisitRecorded"]
    assert visit.visited_at == datetime(2026, 11, 1, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai
    assert (visit.lat, visit.lng) == (31.0, 121.0)
    assert visit.photo in w.blobs.files and w.blobs.files[visit.photo] == photo
    assert done.ids["late_entry"] is False  # 22.5 hours before the entry


def test_refused_photos_and_visits_store_no_blob(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "照片拒绝")
    refused = w.refused(m.RecordVisit(cid, photo=b"GIF89a not a jpeg"), team.alice)
    assert refused.code == "unsupported_media_type"
    assert w.refused(m.RecordVisit(cid, photo=b"\xff\xd8\xff broken"), team.alice).code == "unsupported_media_type"
    assert w.refused(m.RecordVisit(cid, photo=jpeg()), team.bob).code == "not_found"
    w.deps.max_photo_bytes = 100
    assert w.refused(m.RecordVisit(cid, photo=jpeg()), team.alice).code == "too_large"
    assert w.blobs.puts == []


def test_a_logo_is_stored_by_its_hash(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "标志客户")
    logo = jpeg(colour="blue")
    done = w.do(m.ChangeLogo(cid, logo), team.alice)
    assert w.customer_state(cid).logo == done.ids["photo"] == w.blobs.puts[0]
    assert w.blobs.get(done.ids["photo"]) == logo
    assert w.refused(m.ChangeLogo(cid, logo), team.alice).code == "no_change"
    w.do(m.ChangeShares(cid, add=[team.bob.person_id]), team.alice)
    assert w.refused(m.ChangeLogo(cid, jpeg(colour="green")), team.bob).code == "not_owner"
    assert len(w.blobs.puts) == 1


def test_a_customer_read_back_is_a_customer(w: World, team: Team) -> None:
    cid = w.customer(team.alice, "类型客户")
    assert isinstance(w.customer_state(cid), Customer)
    # An id of another aggregate is no customer: a person's id is not found.
    assert w.refused(m.RecordVisit(team.alice.person_id), team.alice).code == "not_found"
