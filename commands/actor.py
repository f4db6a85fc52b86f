"""Who acts: the person behind a command or a read, and the visibility rules R-2..R-4 that
both sides decide with."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """Who is asking: enough to apply the visibility rules R-2..R-4."""

    person_id: str
    name: str
    roles: frozenset[str]
    department_id: str | None

    @property
    def sees_everything(self) -> bool:
        return bool(self.roles & {"admin", "auditor"})

    @property
    def is_manager(self) -> bool:
        return "manager" in self.roles


def sight(actor: Actor, owner_id: str | None, deleted: bool, in_team: Callable[[], bool],
          shared: Callable[[], bool]) -> str | None:
    """R-2..R-4 for one customer: 'full', 'public' (the pool fields of R-3) or None (hidden).
    `in_team` (the owner is one of the manager's people) and `shared` (the customer is
    shared with the actor, by name or through a department: `is_sharee`) are asked only
    when the answer depends on them. The read side and the commands (on the aggregate) both
    decide with this."""
    if deleted:
        return "full" if actor.sees_everything else None
    if actor.sees_everything or owner_id == actor.person_id:
        return "full"
    if owner_id is None:
        return "full" if actor.is_manager else "public"
    if actor.is_manager and in_team():
        return "full"
    return "full" if shared() else None


def is_sharee(person_id: str, department_id: str | None, people: Collection[str],
              departments_below: Callable[[], Collection[str]]) -> bool:
    """C-4, seed 002 §2.2.5: shared with the person by name, or with their department or a
    department above it. `departments_below` gives the shared departments with every
    department under them, as the tree is now (asked only when the name is not shared), so
    whoever belongs to such a department at the time reads the customer, and a person who
    leaves it stops, unless shared by name."""
    if person_id in people:
        return True
    return department_id is not None and department_id in departments_below()
