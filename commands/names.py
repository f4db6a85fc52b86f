"""C-2: a customer's name and the names that look like it are taken by one customer at a time."""

from __future__ import annotations

from typing import Any

from aggregates.base import Context
from aggregates.names import CustomerName, NameSkeleton, duplicate_name, skeleton_key
from commands.base import Deps


def check_name_free(deps: Deps, name: str, customer_id: str | None = None) -> None:
    """Refuse a name another customer holds (409 `duplicate_name`), or one that only looks like
    another's (the same UTS #39 skeleton: `details.reason` "confusable")."""
    index = deps.store.find(CustomerName.id_for(name), CustomerName)
    if index is not None and index.customer_id not in (None, customer_id):
        raise duplicate_name(index.number)
    look_alike = deps.store.find(NameSkeleton.id_for(name), NameSkeleton)
    if look_alike is not None and look_alike.customer_id not in (None, customer_id):
        raise duplicate_name(look_alike.number, confusable=True)
    # Customers registered before skeletons were reserved have none: the read model knows
    # their skeletons (the reservations above cover everything registered since).
    number = deps.legacy_names.holder(skeleton_key(name), customer_id)
    if number is not None:
        raise duplicate_name(number, confusable=True)


def take_name(deps: Deps, ctx: Context, name: str, customer_id: str, number: str) -> list[Any]:
    """Check the name is free, then reserve it and its skeleton for the customer: the
    aggregates to save with it."""
    check_name_free(deps, name, customer_id)
    taken: list[Any] = []
    for kind in (CustomerName, NameSkeleton):
        index = deps.store.find(kind.id_for(name), kind)
        if index is None:
            index = kind.reserve(ctx, name, customer_id, number)
        elif index.customer_id != customer_id:
            index.retake(ctx, customer_id, number)
        taken.append(index)
    return taken


def free_name(deps: Deps, ctx: Context, name: str, customer_id: str, keep: str | None = None) -> list[Any]:
    """Free the customer's reservations of `name` (those `keep`, a new name, still needs stay)."""
    freed: list[Any] = []
    for kind in (CustomerName, NameSkeleton):
        if keep is not None and kind.id_for(keep) == kind.id_for(name):
            continue
        index = deps.store.find(kind.id_for(name), kind)
        if index is not None and index.customer_id == customer_id:
            index.free(ctx)
            freed.append(index)
    return freed
