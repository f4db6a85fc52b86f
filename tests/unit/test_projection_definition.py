"""A projection's handlers: two handlers of one event type both run, in the order they were
registered, and a handler of several event types runs for each."""

from __future__ import annotations

from typing import Any

from eventsourcing.utils import get_topic

from aggregates.problem import ProblemReport
from projections.definition import Projection


def test_two_handlers_of_one_event_type_both_run_in_turn() -> None:
    projection = Projection("example", [])
    seen: list[tuple[str, Any]] = []

    @projection.on(ProblemReport.Reported)
    def first(w: Any, e: Any) -> None:
        seen.append(("first", e))

    @projection.on(ProblemReport.Reported, ProblemReport.Resolved)
    def second(w: Any, e: Any) -> None:
        seen.append(("second", e))

    projection.handlers[get_topic(ProblemReport.Reported)](None, "reported")  # type: ignore[arg-type]
    projection.handlers[get_topic(ProblemReport.Resolved)](None, "resolved")  # type: ignore[arg-type]

    assert seen == [("first", "reported"), ("second", "reported"), ("second", "resolved")]
