"""Sign-in, the current person, departments, people and settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from api.deps import CurrentUser, ServiceDep, issue_token, require
from api.errors import ApiError
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
    Token,
)
from commands import organisation as org
from readmodels.org import (
    Viewer,
    all_departments,
    current_settings,
    get_person,
    list_people,
    managed_departments,
)

router = APIRouter()


@router.post("/auth/token", response_model=Token, tags=["identity"])
def sign_in(request: Request, service: ServiceDep,
            form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Exchange username and password for a bearer token."""
    request.state.op_target = form.username.strip().casefold()[:64]
    now = service.deps.clock.now()
    locked = service.deps.throttle.attempt(form.username, now)
    if locked is not None:
        wait = max(1, int((locked - now).total_seconds()))
        raise ApiError(429, "too_many_attempts", "too many failed sign-ins for this username; try again later",
                       field="username", details={"retry_after_seconds": wait}, headers={"Retry-After": str(wait)})
    person_id = service.deps.credentials.verify(form.username, form.password)
    request.state.op_actor = person_id
    if person_id is None:
        raise ApiError(401, "invalid_credentials", "wrong username or password",
                       headers={"WWW-Authenticate": "Bearer"})
    service.deps.throttle.succeeded(form.username)
    token, lifetime = issue_token(service, person_id)
    return Token(access_token=token, expires_in=lifetime)


@router.get("/me", response_model=Me, tags=["identity"])
def me(service: ServiceDep, user: CurrentUser) -> Me:
    """The signed-in person, their roles and the departments they manage."""
    with service.store.engine.connect() as conn:
        person = get_person(conn, user.person_id)
        managed = sorted(managed_departments(conn, user))
    if person is None:
        raise ApiError(503, "projection_lag", "your profile is not in the read models yet; retry",
                       headers={"Retry-After": "1"})
    return Me(**dict(person), departments=managed)


@router.post("/departments", response_model=Created, status_code=status.HTTP_201_CREATED,
             tags=["identity"])
def create_department(service: ServiceDep, body: DepartmentCreate,
                      user: Annotated[Viewer, require("admin")]) -> Created:
    """Add a department to the tree (admin)."""
    result = org.create_department(
        org.CreateDepartment(name=body.name, parent_id=body.parent_id, manager_ids=body.manager_ids),
        user, service.deps,
    )
    return Created(id=result.ids["id"], position=result.position)


@router.patch("/departments/{department_id}", response_model=Done, tags=["identity"])
def change_department(service: ServiceDep, department_id: str, body: DepartmentUpdate,
                      user: Annotated[Viewer, require("admin")]) -> Done:
    """Rename a department, move it, or set its managers (admin)."""
    changes = body.model_dump(exclude_unset=True)
    result = org.change_department(org.ChangeDepartment(department_id, changes), user, service.deps)
    return Done(position=result.position)


@router.get("/departments", response_model=list[DepartmentNode], tags=["identity"])
def departments(service: ServiceDep, _: CurrentUser) -> list[DepartmentNode]:
    """The department tree."""
    with service.store.engine.connect() as conn:
        rows = all_departments(conn)
    nodes = {r["id"]: DepartmentNode(id=r["id"], name=r["name"], parent_id=r["parent_id"],
                                     manager_ids=list(r["manager_ids"] or [])) for r in rows}
    roots: list[DepartmentNode] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots


@router.post("/people", response_model=Created, status_code=status.HTTP_201_CREATED,
             tags=["identity"])
def create_person(service: ServiceDep, body: PersonCreate,
                  user: Annotated[Viewer, require("admin")]) -> Created:
    """Add a person with a login; a salesperson profile comes with the `sales` role (admin)."""
    result = org.create_person(org.CreatePerson(**body.model_dump()), user, service.deps)
    return Created(id=result.ids["id"], position=result.position)


@router.patch("/people/{person_id}", response_model=Done, tags=["identity"])
def change_person(service: ServiceDep, person_id: str, body: PersonUpdate,
                  user: Annotated[Viewer, require("admin", "manager")]) -> Done:
    """Change a person (admin), or a salesperson's limits (their manager)."""
    result = org.change_person(
        org.ChangePerson(person_id, body.model_dump(exclude_unset=True)), user, service.deps
    )
    return Done(position=result.position)


@router.get("/people", response_model=list[PersonOut], tags=["identity"])
def people(service: ServiceDep, _: CurrentUser, department_id: str | None = None,
           role: str | None = Query(default=None, max_length=20)) -> list[PersonOut]:
    """The directory, by department (with its subtree) and role."""
    with service.store.engine.connect() as conn:
        rows = list_people(conn, department_id, role)
    return [PersonOut(**{k: r[k] for k in PersonOut.model_fields}) for r in rows]


@router.get("/settings", response_model=SettingsOut, tags=["settings"])
def read_settings(service: ServiceDep, _: CurrentUser) -> Any:
    """Rules and dictionaries."""
    with service.store.engine.connect() as conn:
        return current_settings(conn)


@router.put("/settings", response_model=SettingsOut, tags=["settings"])
def write_settings(service: ServiceDep, body: SettingsUpdate,
                   user: Annotated[Viewer, require("admin")]) -> Any:
    """Change rules and dictionaries (admin); keys left out keep their values."""
    org.change_settings(
        org.ChangeSettings(
            rules=body.rules.model_dump(exclude_unset=True),
            dictionaries=body.dictionaries.model_dump(exclude_unset=True),
        ),
        user, service.deps,
    )
    with service.store.engine.connect() as conn:
        return current_settings(conn)
