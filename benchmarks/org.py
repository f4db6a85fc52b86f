"""A small organisation made through the command layer, for the benchmarks that need
people: a department with a manager, salespeople with a large cap, an admin."""

from __future__ import annotations

from dataclasses import dataclass, field

import argon2

from commands import messages as m
from commands.actor import Actor
from commands.bootstrap import Service
from commands.handlers import handle

SYSTEM = Actor("system", "system", frozenset({"admin"}), None)
PASSWORD = "bench1234"


@dataclass
class Org:
    department_id: str
    admin: Actor
    manager: Actor
    salespeople: list[Actor] = field(default_factory=list)
    usernames: dict[str, str] = field(default_factory=dict)  # person id → username


def cheap_hashing(service: Service) -> None:
    """Cheap password hashes for the many benchmark logins; never outside benchmarks."""
    service.deps.credentials.hasher = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def build_org(service: Service, salespeople: int, prefix: str = "bench", cap: int = 100_000,
              department_id: str | None = None) -> Org:
    """People `{prefix}admin`, `{prefix}manager` and `{prefix}sales001…`, all with the
    password `bench1234`, in a new department (under `department_id` when given)."""
    deps = service.deps
    cheap_hashing(service)
    department = handle(
        m.CreateDepartment(name=f"{prefix}压测部", parent_id=department_id), SYSTEM, deps).ids["id"]

    def person(username: str, name: str, roles: list[str], max_customers: int | None = None) -> Actor:
        command = m.CreatePerson(name=name, username=username, password=PASSWORD, roles=roles,
                                 department_id=department, position="压测", max_customers=max_customers)
        person_id = str(handle(command, SYSTEM, deps).ids["id"])
        return Actor(person_id, name, frozenset(roles), department)

    admin = person(f"{prefix}admin", "压测管理员", ["admin"])
    manager = person(f"{prefix}manager", "压测经理", ["manager"])
    handle(m.ChangeDepartment(department, {"manager_ids": [manager.person_id]}), SYSTEM, deps)
    org = Org(department, admin, manager)
    for n in range(salespeople):
        username = f"{prefix}sales{n + 1:03d}"
        seller = person(username, f"压测业务员{n + 1}", ["sales"], cap)
        org.salespeople.append(seller)
        org.usernames[seller.person_id] = username
    return org
