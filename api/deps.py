"""Dependencies of the routes: the service, the signed-in person, role checks, read-your-writes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import jwt
from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer

from aggregates.organisation import Person
from api.errors import ApiError
from commands.bootstrap import Service
from readmodels.org import Viewer, get_person

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def issue_token(service: Service, person_id: str) -> tuple[str, int]:
    lifetime = service.config.token_minutes * 60
    now = datetime.now(UTC)
    claims = {"sub": person_id, "iat": now, "exp": now + timedelta(seconds=lifetime)}
    return jwt.encode(claims, service.config.secret_key, algorithm="HS256"), lifetime


def current_user(service: ServiceDep, token: Annotated[str | None, Depends(oauth2)]) -> Viewer:
    unauthenticated = {"WWW-Authenticate": "Bearer"}
    if not token:
        raise ApiError(401, "not_authenticated", "sign in first", headers=unauthenticated)
    try:
        claims = jwt.decode(token, service.config.secret_key, algorithms=["HS256"])
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "token_expired", "the token has expired", headers=unauthenticated) from None
    except jwt.PyJWTError:
        raise ApiError(401, "invalid_token", "the token is not valid", headers=unauthenticated) from None
    person_id = str(claims.get("sub"))
    with service.store.engine.connect() as conn:
        row = get_person(conn, person_id)
    person = dict(row) if row is not None else None
    if person is None:
        # A person created a moment ago may not be projected yet (distributed mode).
        person = person_from_events(service, person_id)
    if person is None or not person["active"]:
        raise ApiError(401, "invalid_token", "the token's person is unknown or inactive",
                       headers=unauthenticated)
    return Viewer(
        person_id=person["id"], name=person["name"], roles=frozenset(person["roles"] or []),
        department_id=person["department_id"],
    )


def person_from_events(service: Service, person_id: str) -> dict[str, Any] | None:
    try:
        found = service.store.find(UUID(person_id), Person)
    except ValueError:
        return None
    if found is None:
        return None
    return {"id": person_id, "name": found.name, "roles": found.roles,
            "department_id": found.department_id, "active": found.active}


CurrentUser = Annotated[Viewer, Depends(current_user)]


def require(*roles: str):  # type: ignore[no-untyped-def]
    """A dependency that lets through people holding any of the roles."""

    def check(user: CurrentUser) -> Viewer:
        if not user.roles & set(roles):
            raise ApiError(403, "forbidden", f"needs one of the roles: {', '.join(roles)}")
        return user

    return Depends(check)


def min_position(
    request: Request,
    x_min_position: Annotated[int | None, Header(ge=0)] = None,
    x_wait_seconds: Annotated[float | None, Header(ge=0, le=60)] = None,
) -> None:
    """Read-your-writes: wait until every read model has processed position N."""
    if x_min_position is None or request.method != "GET":
        return
    service: Service = request.app.state.service
    head = service.store.head()
    if x_min_position > head:
        # A position is known once its write commits; one past the head was never written.
        raise ApiError(422, "position_ahead", "that position is past the newest event", field="x-min-position",
                       details={"head": head})
    deadline = time.monotonic() + (5.0 if x_wait_seconds is None else x_wait_seconds)
    while True:
        positions = service.projector.positions()
        if min(positions.values(), default=0) >= x_min_position:
            return
        if time.monotonic() >= deadline:
            raise ApiError(503, "projection_lag", "the read models have not caught up yet",
                           details={"wanted": x_min_position, "positions": positions},
                           headers={"Retry-After": "1"})
        if service.embedded:
            service.projector.catch_up()
        time.sleep(0.02)
