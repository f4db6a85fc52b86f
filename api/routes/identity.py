"""Sign-in, the current person, departments, people and settings."""

from __future__ import annotations

import contextlib
import math
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import Field
from sqlalchemy.engine import Connection

from aggregates.base import Forbidden, NotFound
from aggregates.organisation import Person
from aggregates.settings import SETTINGS_ID
from api.deps import ConnDep, CurrentSession, CurrentUser, Id, ServiceDep, client_address, issue_token, require
from api.errors import ApiError
from api.records import AsOf, AtVersion, history_of, past_record, wants_past
from api.schemas import (
    Created,
    DepartmentCreate,
    DepartmentNode,
    DepartmentUpdate,
    Done,
    Me,
    PersonCreate,
    PersonOut,
    PersonUpdate,
    SettingsOut,
    SettingsUpdate,
    Strict,
    Token,
)
from api.schemas.customers import History
from api.schemas.identity import DepartmentAt, PersonAt, SettingsAt
from commands import messages as m
from commands.actor import Actor
from commands.adapters.infra import MIN_PASSWORD_LENGTH, Attempt
from commands.bootstrap import Service
from commands.handlers import handle
from readmodels.org import (
    all_departments,
    current_settings,
    get_department,
    get_person,
    list_people,
    managed_departments,
    managed_people,
)

router = APIRouter()


# Control characters (and lone surrogates) cannot be in a username, and PostgreSQL cannot
# even be asked about some of them (NUL).
CONTROL = ("Cc", "Cs")


def _printable(text: str) -> str:
    return "".join("\ufffd" if unicodedata.category(c) in CONTROL else c for c in text)


class PasswordChange(Strict):
    old_password: str = Field(min_length=1, max_length=200, description="the current password")
    new_password: str = Field(min_length=1, max_length=200,
                              description=f"at least {MIN_PASSWORD_LENGTH} characters")


def _throttled(service: Service, request: Request, username: str, now: datetime) -> Attempt:
    """Count a password check for (username, client address); 429 while it is throttled."""
    attempt = service.deps.throttle.attempt(username, client_address(request), now)
    if attempt.retry_at is not None:
        wait = max(1, math.ceil((attempt.retry_at - now).total_seconds()))
        raise ApiError(429, "too_many_attempts",
                       "too many failed sign-ins for this username from your address; try again later",
                       field="username", details={"retry_after_seconds": wait}, headers={"Retry-After": str(wait)})
    return attempt


def _active_person(service: Service, person_id: str) -> Person | None:
    """The person as the event store has them (the truth, even while read models lag), if active."""
    try:
        person = service.store.find(UUID(person_id), Person)
    except ValueError:
        return None
    return person if person is not None and person.active else None


@router.post("/auth/token", response_model=Token, tags=["identity"])
def sign_in(request: Request, service: ServiceDep,
            form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Exchange username and password for a bearer token. Wrong passwords for a username from
    one address are throttled with growing delays (429 `too_many_attempts`, `Retry-After`);
    an inactive person cannot sign in."""
    request.state.op_target = _printable(form.username).strip().casefold()[:64]
    if any(unicodedata.category(c) in CONTROL for c in form.username):
        raise ApiError(422, "validation_error", "a username cannot hold control characters", field="username")
    now = service.deps.clock.now()
    attempt = _throttled(service, request, form.username, now)
    try:
        person_id = service.deps.credentials.verify(form.username, form.password)
        if person_id is not None and _active_person(service, person_id) is None:
            person_id = None  # answered like a wrong password: the password is not confirmed
    except BaseException:
        with contextlib.suppress(Exception):
            service.deps.throttle.forget(attempt)  # it was not a password check after all
        raise
    if person_id is None:
        service.deps.throttle.failed(attempt, now)
        raise ApiError(401, "invalid_credentials", "wrong username or password",
                       headers={"WWW-Authenticate": "Bearer"})
    service.deps.throttle.succeeded(attempt)
    request.state.op_actor = person_id
    token, lifetime = issue_token(service, person_id)
    return Token(access_token=token, expires_in=lifetime)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
             tags=["identity"])
def sign_out(service: ServiceDep, session: CurrentSession) -> Response:
    """End this session: the token it is called with is refused from now on (401
    `session_ended`); the person's other sessions go on."""
    service.deps.credentials.end_session(session.token_id, session.viewer.person_id, session.expires_at,
                                         datetime.now(UTC))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/me/password", response_model=Token, tags=["identity"])
def change_own_password(request: Request, service: ServiceDep, body: PasswordChange,
                        user: CurrentUser) -> Token:
    """Change one's own password; the current one is needed (403 `wrong_password`). Every
    session of the caller signed before ends; the answer is a fresh token for this one."""
    if len(body.new_password) < MIN_PASSWORD_LENGTH:
        raise ApiError(422, "weak_password", "the password needs at least {min_password_length} characters",
                       field="new_password", min_password_length=MIN_PASSWORD_LENGTH)
    if body.new_password == body.old_password:
        raise ApiError(422, "same_password", "the new password is the current one", field="new_password")
    person = _active_person(service, user.person_id)
    if person is None:
        raise ApiError(401, "invalid_token", "the token's person is unknown or inactive",
                       headers={"WWW-Authenticate": "Bearer"})
    now = service.deps.clock.now()
    # Guessing the current password with a token counts like guessing it at sign-in.
    attempt = _throttled(service, request, person.username, now)
    try:
        changed = service.deps.credentials.change_own_password(user.person_id, body.old_password,
                                                               body.new_password, now)
    except BaseException:
        with contextlib.suppress(Exception):
            service.deps.throttle.forget(attempt)
        raise
    if not changed:
        service.deps.throttle.failed(attempt, now)
        raise ApiError(403, "wrong_password", "the current password is not right", field="old_password")
    service.deps.throttle.succeeded(attempt)
    token, lifetime = issue_token(service, user.person_id)
    return Token(access_token=token, expires_in=lifetime)


@router.get("/me", response_model=Me, tags=["identity"])
def me(user: CurrentUser, conn: ConnDep) -> Me:
    """The signed-in person, their roles and the departments they manage."""
    person = get_person(conn, user.person_id)
    managed = sorted(managed_departments(conn, user))
    if person is None:
        raise ApiError(503, "projection_lag", "your profile is not in the read models yet; retry",
                       headers={"Retry-After": "1"})
    return Me(**dict(person), departments=managed)


@router.post("/departments", response_model=Created, status_code=status.HTTP_201_CREATED,
             tags=["identity"])
def create_department(service: ServiceDep, body: DepartmentCreate,
                      user: Annotated[Actor, require("admin")]) -> Created:
    """Add a department to the tree (admin)."""
    result = handle(m.CreateDepartment(name=body.name, parent_id=body.parent_id, manager_ids=body.manager_ids),
                    user, service.deps)
    return Created(id=result.ids["id"], position=result.position)


@router.patch("/departments/{department_id}", response_model=Done, tags=["identity"])
def change_department(service: ServiceDep, department_id: Id, body: DepartmentUpdate,
                      user: Annotated[Actor, require("admin")]) -> Done:
    """Rename a department, move it, or set its managers (admin)."""
    changes = body.model_dump(exclude_unset=True)
    result = handle(m.ChangeDepartment(str(department_id), changes), user, service.deps)
    return Done(position=result.position)


def _department_nodes(conn: Connection) -> tuple[dict[str, DepartmentNode], list[DepartmentNode]]:
    """Every department as a node of the tree, by id, and the roots."""
    rows = all_departments(conn)
    nodes = {r["id"]: DepartmentNode(id=r["id"], name=r["name"], parent_id=r["parent_id"],
                                     manager_ids=list(r["manager_ids"] or [])) for r in rows}
    roots: list[DepartmentNode] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        (parent.children if parent else roots).append(node)
    return nodes, roots


@router.get("/departments", response_model=list[DepartmentNode], tags=["identity"])
def departments(_: CurrentUser, conn: ConnDep) -> list[DepartmentNode]:
    """The department tree."""
    return _department_nodes(conn)[1]


# Who reads a record's history here (H-2): admins and auditors everybody's; managers the
# people and departments they manage (settings: all managers); a person their own.
EVERYTHING = frozenset({"admin", "auditor"})


def _check_history(user: Actor, allowed: bool, outside: str) -> None:
    if user.roles & EVERYTHING or allowed:
        return
    if user.is_manager:
        raise Forbidden("forbidden", outside)
    raise Forbidden("forbidden", "history is for managers, admins and auditors")


@router.get("/departments/{department_id}", response_model=DepartmentNode | DepartmentAt, tags=["identity"])
def department(service: ServiceDep, user: CurrentUser, conn: ConnDep, department_id: Id,
               as_of: AsOf = None, version: AtVersion = None) -> Any:
    """One department as the tree shows it, with the departments below; or, with `as_of` or
    `version`, as it was then (managers, admins, auditors; without its children) (H-3)."""
    node = _department_nodes(conn)[0].get(str(department_id))
    if node is None:
        raise NotFound("not_found", "no such department")
    if wants_past(as_of, version):
        return DepartmentAt(**past_record(service, user, "department", department_id, as_of, version))
    return node


@router.get("/departments/{department_id}/history", response_model=History, tags=["identity"])
def department_history(service: ServiceDep, user: CurrentUser, conn: ConnDep, department_id: Id) -> Any:
    """Every event of the department: renames, moves, managers, with actor, time, command id and
    old → new (H-2). Admins, auditors, and managers of the department (or one above it)."""
    if get_department(conn, str(department_id)) is None:
        raise NotFound("not_found", "no such department")
    _check_history(user, str(department_id) in managed_departments(conn, user),
                   "that department is outside your departments")
    found = history_of(service, conn, "department", department_id)
    if found is None:
        raise NotFound("not_found", "no such department")
    return found


@router.post("/people", response_model=Created, status_code=status.HTTP_201_CREATED,
             tags=["identity"])
def create_person(service: ServiceDep, body: PersonCreate,
                  user: Annotated[Actor, require("admin")]) -> Created:
    """Add a person with a login; a salesperson profile comes with the `sales` role (admin)."""
    result = handle(m.CreatePerson(**body.model_dump()), user, service.deps)
    return Created(id=result.ids["id"], position=result.position)


@router.patch("/people/{person_id}", response_model=Done, tags=["identity"])
def change_person(service: ServiceDep, person_id: Id, body: PersonUpdate,
                  user: Annotated[Actor, require("admin", "manager")]) -> Done:
    """Change a person (admin), or a salesperson's limits (their manager)."""
    result = handle(m.ChangePerson(str(person_id), body.model_dump(exclude_unset=True)), user, service.deps)
    return Done(position=result.position)


@router.get("/people", response_model=list[PersonOut], tags=["identity"])
def people(_: CurrentUser, conn: ConnDep, department_id: str | None = None,
           role: str | None = Query(default=None, max_length=20)) -> list[PersonOut]:
    """The directory, by department (with its subtree) and role."""
    rows = list_people(conn, department_id, role)
    return [PersonOut(**{k: r[k] for k in PersonOut.model_fields}) for r in rows]


@router.get("/people/{person_id}", response_model=PersonOut | PersonAt, tags=["identity"])
def person(service: ServiceDep, user: CurrentUser, conn: ConnDep, person_id: Id,
           as_of: AsOf = None, version: AtVersion = None) -> Any:
    """One person as the directory lists them; or, with `as_of` or `version`, as they were then,
    their salesperson limits included (managers, admins, auditors) (H-3)."""
    row = get_person(conn, str(person_id))
    if row is None:
        raise NotFound("not_found", "no such person")
    if wants_past(as_of, version):
        return PersonAt(**past_record(service, user, "person", person_id, as_of, version))
    return PersonOut(**{k: row[k] for k in PersonOut.model_fields})


@router.get("/people/{person_id}/history", response_model=History, tags=["identity"])
def person_history(service: ServiceDep, user: CurrentUser, conn: ConnDep, person_id: Id) -> Any:
    """Every change of the person and of their salesperson limits, with actor, time, command id
    and old → new (H-2); never a credential. Admins, auditors, the person's managers, the
    person themselves."""
    if get_person(conn, str(person_id)) is None:
        raise NotFound("not_found", "no such person")
    _check_history(user, str(person_id) == user.person_id or str(person_id) in managed_people(conn, user),
                   "that person is outside your departments")
    found = history_of(service, conn, "person", person_id)
    if found is None:
        raise NotFound("not_found", "no such person")
    return found


@router.get("/settings", response_model=SettingsOut | SettingsAt, tags=["settings"])
def read_settings(service: ServiceDep, user: CurrentUser, conn: ConnDep, as_of: AsOf = None,
                  version: AtVersion = None) -> Any:
    """Rules and dictionaries; with `as_of` or `version`, as they were then (managers, admins,
    auditors) (H-3)."""
    if wants_past(as_of, version):
        return SettingsAt(**past_record(service, user, "settings", SETTINGS_ID, as_of, version))
    return current_settings(conn)


@router.get("/settings/history", response_model=History, tags=["settings"])
def settings_history(service: ServiceDep, user: CurrentUser, conn: ConnDep) -> Any:
    """Every change of the rules and dictionaries, with actor, time, command id and old → new
    (H-2): managers, admins, auditors."""
    _check_history(user, user.is_manager, "history is for managers, admins and auditors")
    found = history_of(service, conn, "settings", SETTINGS_ID)
    if found is None:
        raise NotFound("not_found", "no such record")
    return found


@router.put("/settings", response_model=SettingsOut, tags=["settings"])
def write_settings(service: ServiceDep, body: SettingsUpdate,
                   user: Annotated[Actor, require("admin")]) -> Any:
    """Change rules and dictionaries (admin); keys left out keep their values."""
    handle(
        m.ChangeSettings(
            rules=body.rules.model_dump(exclude_unset=True),
            dictionaries=body.dictionaries.model_dump(exclude_unset=True),
        ),
        user, service.deps,
    )
    with service.store.engine.connect() as conn:
        return current_settings(conn)
