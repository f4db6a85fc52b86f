"""Fixtures of the handler tests: a fresh world of fakes, and a team in it."""

from __future__ import annotations

import pytest

from tests.unit.fakes import Team, World


@pytest.fixture
def w() -> World:
    return World()


@pytest.fixture
def team(w: World) -> Team:
    return w.team()
