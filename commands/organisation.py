"""Handlers for departments, people, salesperson profiles and settings."""

from __future__ import annotations

from uuid import uuid4

from aggregates.base import Conflict, Forbidden, Invalid, NotFound
from aggregates.organisation import Department, Person, Salesperson, Username
from aggregates.settings import Settings
from commands.actor import Actor
from commands.base import (
    Deps,
    Result,
    check_people,
    context,
    load_settings,
    parse_uuid,
    retrying,
    save,
)
from commands.messages import ChangeDepartment, ChangePerson, ChangeSettings, CreateDepartment, CreatePerson

LIMIT_FIELDS = ("max_customers", "max_follow_days")



def _check_department(deps: Deps, department_id: str | None, field_name: str) -> None:
    if department_id is None:
        return
    if deps.store.find(parse_uuid(department_id, field_name), Department) is None:
        raise Invalid("unknown_department", "no such department", field=field_name)


def create_department(cmd: CreateDepartment, actor: Actor, deps: Deps) -> Result:
    _check_department(deps, cmd.parent_id, "parent_id")
    check_people(deps, cmd.manager_ids, "manager_ids")
    department = Department.create(
        context(deps, actor), id=uuid4(), name=cmd.name, parent_id=cmd.parent_id,
        manager_ids=cmd.manager_ids,
    )
    return Result(save(deps, department), {"id": str(department.id)})


def change_department(cmd: ChangeDepartment, actor: Actor, deps: Deps) -> Result:
    department = deps.store.find(parse_uuid(cmd.department_id, "department_id"), Department)
    if department is None:
        raise NotFound("not_found", "no such department")
    changes = dict(cmd.changes)
    if "parent_id" in changes:
        _check_department(deps, changes["parent_id"], "parent_id")
        if changes["parent_id"] in deps.organisation.subtree([cmd.department_id]):
            raise Invalid("invalid_parent", "a department cannot move below itself", field="parent_id")
    if "manager_ids" in changes:
        if not isinstance(changes["manager_ids"], list):
            raise Invalid("validation_error", "manager_ids must be a list of people", field="manager_ids")
        check_people(deps, changes["manager_ids"], "manager_ids")
    department.change(context(deps, actor), changes)
    return Result(save(deps, department), {"id": cmd.department_id})


def create_person(cmd: CreatePerson, actor: Actor, deps: Deps) -> Result:
    """An admin adds a person with credentials; a salesperson profile comes with role `sales`."""
    username = cmd.username.strip()
    if not username or len(username) > 64:
        raise Invalid("validation_error", "username must be 1 to 64 characters", field="username")
    if len(cmd.password) < 8:
        raise Invalid("weak_password", "the password needs at least 8 characters", field="password")
    _check_department(deps, cmd.department_id, "department_id")
    if deps.store.find(Username.id_for(username), Username) is not None:
        raise Conflict("duplicate_username", "that username is taken", field="username")
    ctx = context(deps, actor)
    person = Person.create(
        ctx, id=uuid4(), name=cmd.name, username=username, department_id=cmd.department_id,
        roles=cmd.roles, position=cmd.position, mobile=cmd.mobile, gender=cmd.gender,
    )
    person_id = str(person.id)
    index = Username.reserve(ctx, username, person_id)
    profile = (
        Salesperson.create(ctx, person_id, cmd.max_customers, cmd.max_follow_days)
        if "sales" in cmd.roles
        else None
    )
    # Credentials and events commit together: no person without a login, or the reverse.
    aggregates = [a for a in (person, index, profile) if a is not None]
    try:
        position = deps.credentials.register(deps.store, aggregates, person_id, username, cmd.password, ctx.at)
    except Exception as error:
        if "unique" in str(error).lower() or "integrity" in type(error).__name__.lower():
            raise Conflict("duplicate_username", "that username is taken", field="username") from None
        raise
    deps.after_commit(position)
    return Result(position, {"id": person_id})


def change_person(cmd: ChangePerson, actor: Actor, deps: Deps) -> Result:
    """Admins change anything but the username; managers change the limits of their people."""
    person = deps.store.find(parse_uuid(cmd.person_id, "person_id"), Person)
    if person is None:
        raise NotFound("not_found", "no such person")
    changes = dict(cmd.changes)
    if "admin" not in actor.roles:
        if set(changes) - set(LIMIT_FIELDS):
            raise Forbidden("forbidden", "managers change limits only")
        if cmd.person_id not in deps.organisation.managed_people(actor):
            raise Forbidden("forbidden", "that person is outside your departments")
    password = changes.pop("password", None)
    if password is not None and len(password) < 8:
        raise Invalid("weak_password", "the password needs at least 8 characters", field="password")
    limits = {k: changes.pop(k) for k in LIMIT_FIELDS if k in changes}
    if "department_id" in changes:
        _check_department(deps, changes["department_id"], "department_id")

    ends_sessions = False

    def attempt() -> int:
        nonlocal ends_sessions
        ctx = context(deps, actor)
        current = deps.store.find(person.id, Person)
        assert current is not None
        roles_before, active_before = set(current.roles), current.active
        current.change(ctx, changes)
        # A deactivation or a lost role ends the person's sessions (a new password does too).
        ends_sessions = bool(roles_before - set(current.roles)) or (active_before and not current.active)
        roles = changes.get("roles", current.roles)
        profile = deps.store.find(Salesperson.id_for(cmd.person_id), Salesperson)
        if profile is None and ("sales" in roles or limits):
            profile = Salesperson.create(
                ctx, cmd.person_id, limits.get("max_customers"), limits.get("max_follow_days")
            )
        elif profile is not None and limits:
            profile.change_limits(
                ctx,
                limits.get("max_customers", profile.max_customers),
                limits.get("max_follow_days", profile.max_follow_days),
            )
        return save(deps, current, profile)

    position = retrying(attempt)
    if ends_sessions:
        deps.credentials.end_sessions(cmd.person_id, deps.clock.now())
    if password is not None:
        deps.credentials.set_password(cmd.person_id, password, deps.clock.now())
    return Result(position, {"id": cmd.person_id})


def ensure_settings(deps: Deps, actor_id: str = "system") -> None:
    from aggregates.base import Context

    try:
        load_settings(deps)
    except NotFound:
        ctx = Context(actor_id=actor_id, command_id=uuid4().hex, at=deps.clock.now())
        try:
            save(deps, Settings.create_default(ctx))
        except Exception:
            load_settings(deps)  # another process created them first


def change_settings(cmd: ChangeSettings, actor: Actor, deps: Deps) -> Result:
    def attempt() -> int:
        current = load_settings(deps)
        current.change(context(deps, actor), cmd.rules, cmd.dictionaries)
        return save(deps, current)

    return Result(retrying(attempt))
