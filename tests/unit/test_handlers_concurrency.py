"""Load, decide, save — and again when another writer got there first (`retrying`): a
command that loses a race is decided afresh on what the winner stored; one that keeps losing
gives up with `concurrent_change`. The other writer is played by a fake port that runs a
command in the middle of the first one."""

from __future__ import annotations

import pytest

from aggregates.base import Conflict
from commands import base
from commands import messages as m
from tests.unit.fakes import Team, World


@pytest.fixture
def team(w: World) -> Team:
    return w.team(cap=5)


def test_a_registration_that_loses_the_race_for_its_name_is_refused_on_the_retry(w: World, team: Team) -> None:
    won: list[str] = []
    w.sequences.before_take = lambda: won.append(w.do(m.RegisterCustomer(name="抢注客户"), team.bob).ids["number"])
    with pytest.raises(Conflict) as refused:
        w.do(m.RegisterCustomer(name="抢注客户"), team.alice)
    assert (refused.value.code, refused.value.details["number"]) == ("duplicate_name", won[0])
    assert won == ["KH202611000001"]  # bob drew first, in the middle of alice's registration
    assert [c[1] for c in w.sequences.calls] == ["customer:202611"] * 2  # alice's number was drawn once
    assert w.profile(team.alice).held == []
    assert len(w.profile(team.bob).held) == 1


def test_a_command_that_loses_a_race_it_can_still_win_is_carried_out(w: World, team: Team) -> None:
    # Meanwhile the manager changes alice's limits: her profile moved on, the registration is
    # decided again on the new profile and saved with the number it drew the first time.
    w.sequences.before_take = lambda: w.do(m.ChangePerson(team.alice.person_id, {"max_customers": 7}), team.boss)
    done = w.do(m.RegisterCustomer(name="重试客户"), team.alice)
    assert done.ids["number"] == "KH202611000001"
    assert w.profile(team.alice).held == [done.ids["id"]]
    assert w.profile(team.alice).max_customers == 7
    assert w.event_types(w.profile(team.alice).id) == ["Created", "LimitsChanged", "CustomerTaken"]


def test_a_command_that_keeps_losing_gives_up(w: World, team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "RETRIES", 3)
    limits = iter(range(10, 100))
    w.legacy_names.meanwhile = lambda: w.do(
        m.ChangePerson(team.alice.person_id, {"max_customers": next(limits)}), team.boss)
    head = w.store.head()
    with pytest.raises(Conflict) as refused:
        w.do(m.RegisterCustomer(name="一直输"), team.alice)
    assert refused.value.code == "concurrent_change"
    w.legacy_names.meanwhile = None
    assert w.store.head() > head  # only the other writer's changes were stored
    assert w.profile(team.alice).held == []
    w.do(m.RegisterCustomer(name="一直输"), team.alice)  # the name was never taken
