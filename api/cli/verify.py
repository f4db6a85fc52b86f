"""`crm audit verify`: recompute the tamper-evident log's chains from the store (the events in
store order, the operation log in id order) and compare them with the links and seals kept.
Names the first position where the store no longer matches and why; exit code 0 when both
chains are sound (it prints their heads and last seals), 1 otherwise. Writes nothing: run it
on a copy (a restored backup) as well as on the live store."""

from __future__ import annotations

from rich.markup import escape

from api.cli.common import checked_config, console, refuse
from commands.bootstrap import Service, bootstrap
from projections.chain import EVENTS, Break, ChainReport
from readmodels.i18n import N_, t

# How many breaks beyond the first are listed before the refusal.
LISTED = 10
CODES = {"edited": "edited", "deleted": "deleted", "inserted": "inserted", "tail_deleted": "tail_deleted",
         "rewritten": "chain_rewritten", "forged": "seal_forged",
         "other_key": "seal_key_differs"}


def what(chain: str) -> str:
    return t(N_("the event store")) if chain == EVENTS else t(N_("the operation log"))


def describe(found: Break) -> str:
    """One break as a sentence: where, and what was done."""
    subject = what(found.chain)
    if found.reason == "edited":
        return t(N_("{what}: position {position} was edited: it no longer matches its link"),
                 what=subject, position=found.position)
    if found.reason == "deleted":
        return t(N_("{what}: position {position} was deleted: a chained position is missing"),
                 what=subject, position=found.position)
    if found.reason == "inserted":
        return t(N_("{what}: position {position} was inserted: the chain never covered it"),
                 what=subject, position=found.position)
    if found.reason == "tail_deleted":
        return t(N_("{what}: the tail was deleted: the store ends at position {end}, before position "
                    "{sealed} that the chain or a seal covers"),
                 what=subject, end=found.end or 0, sealed=found.sealed or found.position)
    if found.reason == "rewritten" and found.seal is not None:
        return t(N_("{what}: the chain was recomputed after position {since}: seal {seal} no longer "
                    "matches its links"), what=subject, since=found.since or 0, seal=found.seal)
    if found.reason == "rewritten":
        return t(N_("{what}: the chain's head at position {position} names a link the chain does not hold"),
                 what=subject, position=found.position)
    if found.reason == "other_key":
        return t(N_("{what}: seal {seal} at position {position} was made under another key: verify with the "
                    "service's own key (CRM_SECRET_KEY, or the key file kept with the database)"),
                 what=subject, seal=found.seal or 0, position=found.position)
    return t(N_("{what}: seal {seal} at position {position} is forged or out of order: its HMAC does not match"),
             what=subject, seal=found.seal or 0, position=found.position)


def summary(report: ChainReport) -> str:
    """A sound chain in one line: its head, its links, its last seal and what waits to be chained."""
    seal = report.last_seal
    sealed = t(N_("no seal yet")) if seal is None else t(
        N_("last seal {number} at position {position}, {moment}"), number=seal["number"],
        position=seal["position"], moment=seal["sealed_at"].isoformat(timespec="seconds"))
    line = t(N_("{what}: head at position {head}, {links} links; {sealed}"), what=what(report.chain),
             head=report.head, links=report.links, sealed=sealed)
    if report.unchained:
        line += t(N_("; {count} not chained yet"), count=report.unchained)
    return line


def verify_chains(service: Service) -> list[ChainReport]:
    chains = service.projector.chain
    if chains is None:  # pragma: no cover - bootstrap always wires them
        refuse("config_error", t(N_("the service has no chains to verify")))
    return chains.verify(service.store.recorder)


def verify() -> None:
    """Recompute the hash chains over the events and the operation log and check their seals:
    names the first position where the store no longer matches (edited, deleted, inserted,
    tail cut, chain recomputed, seal forged). Exit code 1 when it does not."""
    service = bootstrap(checked_config())
    try:
        reports = verify_chains(service)
    finally:
        service.close()
    for report in reports:
        console.print(escape(summary(report)), style=None if report.sound else "red")
        for found in report.breaks[:LISTED]:
            console.print(escape(describe(found)), style="red")
        more = len(report.breaks) - LISTED + report.more
        if more > 0:
            console.print(escape(t(N_("… and {count} more"), count=more)), style="red")
    broken = [report.breaks[0] for report in reports if report.breaks]
    if broken:
        first = broken[0]
        refuse(CODES[first.reason], describe(first))
