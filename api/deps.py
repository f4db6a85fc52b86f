"""Dependencies of the routes: the service, the signed-in person, role checks, read-your-writes."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID, uuid4

import jwt
from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic import WithJsonSchema
from sqlalchemy.engine import Connection

from aggregates.organisation import Person
from api.errors import ApiError
from commands.actor import Actor
from commands.bootstrap import Service
from commands.config import trusted_networks
from readmodels.org import person_query

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def read_connection(service: ServiceDep) -> Iterator[Connection]:
    """A read connection for the request. Scoped to the route function: it goes back to the
    pool when the function returns, before the response is sent, as the `with` blocks it
    stands for did. For reads only: a route that runs a command and reads afterwards opens
    its own connection after the write (one opened before it could read an old snapshot)."""
    with service.store.engine.connect() as conn:
        yield conn


ConnDep = Annotated[Connection, Depends(read_connection, scope="function")]

# An aggregate id in a path: parsed as a UUID (a malformed one is 422 `validation_error`
# with the parameter as its `field`), documented as a string of `format: uuid`: the schema here
# is a plain string and api/openapi.py adds the format to every path id that is parsed as one.
Id = Annotated[UUID, WithJsonSchema({"type": "string"})]


def issue_token(service: Service, person_id: str) -> tuple[str, int]:
    """A bearer token for the person: signed with the service's key, with its expiry, its
    moment of issue, its own id (`jti`, for signing out) and the person's session version
    (`sv`: a password change, a deactivation or a lost role moves it on and ends it)."""
    lifetime = service.config.token_minutes * 60
    now = datetime.now(UTC)
    with service.store.engine.connect() as conn:
        version = service.deps.credentials.session_version(conn, person_id)
    claims = {"sub": person_id, "iat": now, "exp": now + timedelta(seconds=lifetime),
              "jti": uuid4().hex, "sv": version}
    return jwt.encode(claims, service.config.secret_key, algorithm="HS256"), lifetime


@dataclass(frozen=True)
class Session:
    """The signed-in person and the token they came with."""

    viewer: Actor
    token_id: str
    expires_at: datetime


UNAUTHENTICATED = {"WWW-Authenticate": "Bearer"}


def current_session(service: ServiceDep, token: Annotated[str | None, Depends(oauth2)]) -> Session:
    if not token:
        raise ApiError(401, "not_authenticated", "sign in first", headers=UNAUTHENTICATED)
    try:
        # HS256 only (never `none`); a token without an expiry is not valid.
        claims = jwt.decode(token, service.config.secret_key, algorithms=["HS256"],
                            options={"require": ["exp"]})
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "token_expired", "the token has expired", headers=UNAUTHENTICATED) from None
    except jwt.PyJWTError:
        raise ApiError(401, "invalid_token", "the token is not valid", headers=UNAUTHENTICATED) from None
    person_id, token_id, version = claims.get("sub"), claims.get("jti"), claims.get("sv")
    if (not isinstance(claims.get("iat"), int | float) or not isinstance(person_id, str)
            or not isinstance(token_id, str) or not isinstance(version, int) or isinstance(version, bool)):
        raise ApiError(401, "invalid_token", "the token is not valid", headers=UNAUTHENTICATED)
    with service.store.engine.connect() as conn:
        person, current_version, revoked = service.deps.credentials.row_and_session_state(
            conn, person_query(person_id), person_id, token_id)
    if person is None:
        # A person created a moment ago may not be projected yet (distributed mode).
        person = person_from_events(service, person_id)
    if person is None or not person["active"]:
        raise ApiError(401, "invalid_token", "the token's person is unknown or inactive",
                       headers=UNAUTHENTICATED)
    if revoked or version != current_version:
        raise ApiError(401, "session_ended", "this session has ended (signed out, or the password or "
                       "roles changed); sign in again", headers=UNAUTHENTICATED)
    viewer = Actor(
        person_id=person["id"], name=person["name"], roles=frozenset(person["roles"] or []),
        department_id=person["department_id"],
    )
    return Session(viewer, token_id, datetime.fromtimestamp(claims["exp"], UTC))


CurrentSession = Annotated[Session, Depends(current_session)]


def current_user(session: CurrentSession) -> Actor:
    return session.viewer


def client_address(request: Request) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy
    (CRM_TRUSTED_PROXIES), the nearest address in X-Forwarded-For that is not a trusted proxy."""
    peer = request.client.host if request.client else ""
    service: Service = request.app.state.service
    networks = trusted_networks(service.config.trusted_proxies)
    if not networks:
        return peer

    def trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        return address is not None and any(address in network for network in networks)

    if not trusted(_ip(peer)):
        return peer
    # Each proxy appends the address it got the request from: read from the right, past the
    # trusted proxies, to the first address none of them is.
    client = peer
    hops = [hop.strip() for value in request.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        address = _ip(hop)
        if address is None:  # not an address: believe nothing further out
            break
        client = str(address)
        if not trusted(address):
            break
    return client


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def person_from_events(service: Service, person_id: str) -> dict[str, Any] | None:
    try:
        found = service.store.find(UUID(person_id), Person)
    except ValueError:
        return None
    if found is None:
        return None
    return {"id": person_id, "name": found.name, "roles": found.roles,
            "department_id": found.department_id, "active": found.active}


CurrentUser = Annotated[Actor, Depends(current_user)]


def require(*roles: str):  # type: ignore[no-untyped-def]
    """A dependency that lets through people holding any of the roles."""

    def check(user: CurrentUser) -> Actor:
        if not user.roles & set(roles):
            raise ApiError(403, "forbidden", "needs one of the roles: {roles}", roles=', '.join(roles))
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
            service.projector.catch_up(chain_backlog=False)
        time.sleep(0.02)
