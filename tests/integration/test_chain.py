"""The tamper-evident log: the hash chains over the events and the operation log, written as
the events are projected and sealed; verification names the first position where the store
no longer matches: an edited state, a deleted event (a gap), an inserted one, a cut tail, a
chain recomputed without the key, a forged seal. A rebuild never touches the chain, and two
catch-ups at once still write one chain."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text, update

from commands import messages as m
from commands.actor import Actor
from commands.adapters.infra import operation_log
from commands.bootstrap import Service
from commands.handlers import handle
from projections.chain import EVENTS, GENESIS, OPLOG, ChainReport, Chains, event_link
from readmodels.tables import chain_heads, chain_seals, event_links, oplog_links
from tests.conftest import SYSTEM, make_service


def chains(service: Service) -> Chains:
    assert service.projector.chain is not None
    return service.projector.chain


def populate(service: Service, customers: int = 6) -> list[str]:
    deps = service.deps
    person = handle(m.CreatePerson(name="链", username=f"lian{uuid.uuid4().hex[:6]}", password="password123",
                                   roles=["sales"]), SYSTEM, deps).ids["id"]
    seller = Actor(person, "链", frozenset({"sales"}), None)
    return [handle(m.RegisterCustomer(name=f"链客户{uuid.uuid4().hex[:6]}{n}"), seller, deps).ids["id"]
            for n in range(customers)]


def log_entry(service: Service, n: int) -> None:
    """An operation-log entry as the API's middleware writes it."""
    with service.store.engine.begin() as conn:
        conn.execute(operation_log.insert().values(
            at=datetime(2026, 11, 2, 1, n, tzinfo=UTC), actor_id="someone", method="POST",
            operation="customer.claim", path=f"/api/v1/customers/{n}/claim", target_id=str(n), status=200,
            outcome="accepted", duration_ms=3, route="POST /api/v1/customers/{customer_id}/claim"))


def sealed(service: Service) -> None:
    """Caught up with every chain sealed at its head."""
    chains(service).seal_seconds = 0
    service.projector.catch_up()
    chains(service).seal(force=True)


def verified(service: Service) -> dict[str, ChainReport]:
    return {r.chain: r for r in chains(service).verify(service.store.recorder)}


def first(report: ChainReport) -> tuple[str, int]:
    assert report.breaks, report
    return report.breaks[0].reason, report.breaks[0].position


def stored_positions(service: Service) -> list[int]:
    with service.store.engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM crm_events ORDER BY id")).scalars())


def test_a_sound_store_verifies_with_its_head_and_seal(service: Service) -> None:
    populate(service)
    for n in range(3):
        log_entry(service, n)
    sealed(service)
    reports = verified(service)
    events, oplog = reports[EVENTS], reports[OPLOG]
    assert events.sound and oplog.sound
    assert events.head == service.store.head() == events.links == len(stored_positions(service))
    assert events.last_seal is not None and events.last_seal["position"] == events.head
    assert oplog.head == oplog.links == 3 and oplog.last_seal is not None
    # The chain is in its own tables, one link per event, ending at the head.
    with service.store.engine.connect() as conn:
        assert conn.execute(select(func.max(event_links.c.position))).scalar() == events.head


def test_an_edited_state_is_named_at_its_position(service: Service) -> None:
    populate(service)
    sealed(service)
    positions = stored_positions(service)
    victim = positions[len(positions) // 2]
    with service.store.engine.begin() as conn:
        state = conn.execute(text("SELECT state FROM crm_events WHERE id = :id"), {"id": victim}).scalar_one()
        edited = bytes(state).replace(b'"2026-11-02T', b'"2026-10-02T', 1)  # its timestamp, a month earlier
        assert edited != bytes(state)
        conn.execute(text("UPDATE crm_events SET state = :state WHERE id = :id"), {"state": edited, "id": victim})
    report = verified(service)[EVENTS]
    assert first(report) == ("edited", victim)
    assert len(report.breaks) == 1  # each link is checked against the one kept before it


def test_edited_metadata_is_named_too(service: Service) -> None:
    populate(service)
    sealed(service)
    victim = stored_positions(service)[3]
    with service.store.engine.begin() as conn:
        conn.execute(text("UPDATE crm_events SET originator_version = originator_version + 100 WHERE id = :id"),
                     {"id": victim})
    assert first(verified(service)[EVENTS]) == ("edited", victim)


def test_a_deleted_event_is_a_gap_at_its_position(service: Service) -> None:
    populate(service)
    sealed(service)
    positions = stored_positions(service)
    victim = positions[len(positions) // 2]
    with service.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM crm_events WHERE id = :id"), {"id": victim})
    report = verified(service)[EVENTS]
    assert first(report) == ("deleted", victim)
    assert len(report.breaks) == 1


def test_a_deleted_tail_shows_against_the_chain_and_the_seal(service: Service) -> None:
    populate(service)
    sealed(service)
    positions = stored_positions(service)
    cut = positions[-3]
    with service.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM crm_events WHERE id >= :id"), {"id": cut})
    found = verified(service)[EVENTS].breaks[0]
    assert (found.reason, found.position, found.end) == ("tail_deleted", cut, positions[-4])

    # The links and the head taken back too: the seal still names the lost head.
    with service.store.engine.begin() as conn:
        conn.execute(event_links.delete().where(event_links.c.position >= cut))
        link = conn.execute(select(event_links.c.link).where(event_links.c.position == positions[-4])).scalar()
        conn.execute(update(chain_heads).where(chain_heads.c.chain == EVENTS)
                     .values(position=positions[-4], link=link))
    report = verified(service)[EVENTS]
    [found] = report.breaks
    assert (found.reason, found.end, found.sealed) == ("tail_deleted", positions[-4], positions[-1])


def test_a_chain_recomputed_without_the_key_fails_its_seal(service: Service) -> None:
    populate(service)
    sealed(service)
    early = stored_positions(service)[2]
    populate(service, 2)
    sealed(service)  # a second seal, after `early`'s
    with service.store.engine.connect() as conn:
        seals = list(conn.execute(select(chain_seals).where(chain_seals.c.chain == EVENTS)
                                  .order_by(chain_seals.c.number)).mappings())
    assert len(seals) >= 2
    victim = next(p for p in stored_positions(service) if p > seals[-2]["position"])
    with service.store.engine.begin() as conn:
        conn.execute(text("UPDATE crm_events SET topic = topic || ' ' WHERE id = :id"), {"id": victim})
    # Whoever edited it recomputes every link from there on and moves the head: the chain
    # agrees with the store again, but the seal, made with the key, does not.
    notifications = service.store.recorder.select_notifications(start=1, limit=10_000)
    with service.store.engine.begin() as conn:
        link = conn.execute(select(event_links.c.link).where(event_links.c.position < victim)
                            .order_by(event_links.c.position.desc()).limit(1)).scalar_one()
        for n in notifications:
            if n.id >= victim:
                link = event_link(link, n.id, n.originator_id, n.originator_version, n.topic, n.state)
                conn.execute(update(event_links).where(event_links.c.position == n.id).values(link=link))
        conn.execute(update(chain_heads).where(chain_heads.c.chain == EVENTS).values(link=link))
    report = verified(service)[EVENTS]
    [found] = report.breaks
    assert found.reason == "rewritten" and found.seal == seals[-1]["number"]
    assert found.since == seals[-2]["position"] < victim <= seals[-1]["position"]
    assert early < victim


def test_a_forged_or_removed_seal_shows(service: Service) -> None:
    populate(service)
    sealed(service)
    populate(service, 1)
    sealed(service)
    with service.store.engine.begin() as conn:
        conn.execute(update(chain_seals).where(chain_seals.c.chain == EVENTS, chain_seals.c.number == 1)
                     .values(position=chain_seals.c.position - 1))
    found = verified(service)[EVENTS].breaks[0]
    assert (found.reason, found.seal) == ("forged", 1)
    with service.store.engine.begin() as conn:
        conn.execute(chain_seals.delete().where(chain_seals.c.chain == EVENTS, chain_seals.c.number == 1))
    found = verified(service)[EVENTS].breaks[0]
    assert (found.reason, found.seal) == ("forged", 2)  # the seal after it names a seal no longer kept


def test_an_event_inserted_into_a_gap_is_named(service: Service) -> None:
    populate(service)
    service.projector.catch_up()
    head = service.store.head()
    [model] = service.store.recorder.select_notifications(start=head, limit=1)
    columns = "(id, originator_id, originator_version, topic, state)"

    def new_id() -> Any:  # as the library's UUID column stores it
        return uuid.uuid4().bytes if service.store.engine.dialect.name == "sqlite" else str(uuid.uuid4())

    # A gap, as a rolled-back write leaves one on PostgreSQL: positions head+1..head+4 unused.
    with service.store.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO crm_events {columns} VALUES (:id, :o, 1, :topic, :state)"),
                     {"id": head + 5, "o": new_id(), "topic": model.topic, "state": model.state})
    sealed(service)
    assert verified(service)[EVENTS].sound
    with service.store.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO crm_events {columns} VALUES (:id, :o, 1, :topic, :state)"),
                     {"id": head + 2, "o": new_id(), "topic": model.topic, "state": model.state})
    assert first(verified(service)[EVENTS]) == ("inserted", head + 2)


def test_an_edited_or_deleted_oplog_entry_is_named(service: Service) -> None:
    for n in range(6):
        log_entry(service, n)
    sealed(service)
    assert verified(service)[OPLOG].sound
    with service.store.engine.begin() as conn:
        conn.execute(update(operation_log).where(operation_log.c.id == 3).values(outcome="refused"))
    assert first(verified(service)[OPLOG]) == ("edited", 3)
    with service.store.engine.begin() as conn:
        conn.execute(update(operation_log).where(operation_log.c.id == 3).values(outcome="accepted"))
        conn.execute(operation_log.delete().where(operation_log.c.id == 5))
    assert first(verified(service)[OPLOG]) == ("deleted", 5)
    with service.store.engine.begin() as conn:
        conn.execute(operation_log.delete().where(operation_log.c.id == 6))
    # 5 and 6 gone: the log now ends at 4, before the chain's and the seal's head.
    [found] = verified(service)[OPLOG].breaks
    assert (found.reason, found.position, found.end, found.sealed) == ("tail_deleted", 5, 4, 6)


def test_a_rebuild_neither_touches_nor_launders_the_chain(service: Service) -> None:
    populate(service)
    sealed(service)
    victim = stored_positions(service)[4]
    with service.store.engine.connect() as conn:
        before = list(conn.execute(select(event_links).order_by(event_links.c.position)))
    with service.store.engine.begin() as conn:
        state = conn.execute(text("SELECT state FROM crm_events WHERE id = :id"), {"id": victim}).scalar_one()
        conn.execute(text("UPDATE crm_events SET state = :state WHERE id = :id"),
                     {"state": bytes(state) + b" ", "id": victim})
    service.projector.rebuild_all()
    service.projector.catch_up()
    with service.store.engine.connect() as conn:
        after = list(conn.execute(select(event_links).order_by(event_links.c.position)))
    assert after == before
    assert first(verified(service)[EVENTS]) == ("edited", victim)


def test_a_service_started_again_goes_on_with_the_same_chain(service: Service, tmp_path: Any) -> None:
    populate(service)
    sealed(service)
    head = chains(service).head()
    again = make_service(service.config.database_url, service.deps.clock)  # type: ignore[arg-type]
    try:
        assert chains(again).head() == head
        populate(again, 2)
        sealed(again)
        report = verified(again)[EVENTS]
        assert report.sound and report.head == again.store.head() > head.position
    finally:
        again.close()


def test_two_catch_ups_at_once_write_one_chain(service: Service) -> None:
    other = make_service(service.config.database_url, service.deps.clock)  # type: ignore[arg-type]
    try:
        for svc in (service, other):
            svc.deps.after_commit = lambda _position: None  # a backlog for both to catch up
            svc.projector.batch = 7
            chains(svc).seal_seconds = 0
        populate(service, 40)
        populate(other, 40)
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def run(svc: Service) -> None:
            barrier.wait()
            try:
                for _ in range(3):
                    svc.projector.catch_up()
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=run, args=(svc,)) for svc in (service, other, service, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors
        report = verified(service)[EVENTS]
        assert report.sound, report.breaks
        assert report.head == service.store.head() == report.links == len(stored_positions(service))
        with service.store.engine.connect() as conn:
            numbers = list(conn.execute(select(chain_seals.c.number).where(chain_seals.c.chain == EVENTS)
                                        .order_by(chain_seals.c.number)).scalars())
        assert numbers == list(range(1, len(numbers) + 1))
    finally:
        other.close()


def test_the_chains_tables_hold_nothing_for_an_empty_log(service: Service) -> None:
    sealed(service)
    with service.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(oplog_links)).scalar() == 0
    assert verified(service)[OPLOG].sound


def test_a_chain_far_behind_does_not_hold_the_read_models_back(service: Service) -> None:
    """A store the chain never saw (or a chain that waited after a fault): the projections
    reach the head in one catch-up, and the chain follows a slice per catch-up, none of them
    in a catch-up a request waits for."""
    populate(service, 3)
    sealed(service)
    with service.store.engine.begin() as conn:  # as if the chain had never run on this store
        conn.execute(event_links.delete())
        conn.execute(chain_seals.delete().where(chain_seals.c.chain == EVENTS))
        conn.execute(update(chain_heads).where(chain_heads.c.chain == EVENTS).values(position=0, link=GENESIS))
    service.deps.after_commit = lambda _position: None
    populate(service, 12)
    head = service.store.head()
    service.projector.rebuild_batch = 5
    chains(service).seal_seconds = 0
    service.projector.chain_slice_seconds = 0  # one batch of the backlog per catch-up

    assert service.projector.catch_up(chain_backlog=False) == head
    assert chains(service).position() == 0
    assert min(service.projector.positions().values()) == head
    service.projector.catch_up()
    assert chains(service).position() == 5
    rounds = 1
    while chains(service).position() < head:
        service.projector.catch_up()
        rounds += 1
        assert rounds <= head, "the chain stopped short of the head"
    assert rounds == -(-head // 5)
    populate(service, 2)  # and from there it goes on with the projections
    service.projector.catch_up()
    chains(service).seal(force=True)
    report = verified(service)[EVENTS]
    assert report.sound, report.breaks
    assert report.head == service.store.head() == report.links
