"""The lock files: every dependency pinned, inside the ranges pyproject.toml allows, the service's
lock agreeing with the development lock, and the environment the suite runs in installed from it
(so a fresh machine gets what the tests passed with)."""

from __future__ import annotations

import importlib.metadata as metadata
import re
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;]+)\s*(?:;(?P<marker>.*))?$")


def read_lock(name: str) -> dict[str, list[tuple[str, Marker | None]]]:
    """Package → [(version, marker)]: a package may be pinned twice under different markers."""
    pins: dict[str, list[tuple[str, Marker | None]]] = {}
    for line in (ROOT / name).read_text().splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        match = PIN.match(text)
        assert match, f"{name}: not an exact pin: {text!r}"
        marker = Marker(match["marker"]) if match["marker"] else None
        pins.setdefault(canonicalize_name(match["name"]), []).append((match["version"], marker))
    return pins


def applicable(entries: list[tuple[str, Marker | None]]) -> str | None:
    """The version pinned for this interpreter and platform, if any."""
    for version, marker in entries:
        if marker is None or marker.evaluate():
            return version
    return None


def project_requirements(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = list(project["dependencies"])
    if extra:
        listed += project["optional-dependencies"][extra]
    return [Requirement(text) for text in listed]


@pytest.mark.parametrize(("lock", "extra"), [("requirements.lock", None), ("requirements-dev.lock", "dev")])
def test_every_declared_dependency_is_pinned_inside_its_range(lock: str, extra: str | None) -> None:
    pins = read_lock(lock)
    for requirement in project_requirements(extra):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is in pyproject.toml but not in {lock}: run `make lock`"
        version = applicable(pins[name])
        assert version is not None, f"{lock} pins {name} for no marker that holds here"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{lock} pins {name}=={version}, outside pyproject.toml's {requirement.specifier}: run `make lock`")


def test_the_service_lock_agrees_with_the_development_lock() -> None:
    service, development = read_lock("requirements.lock"), read_lock("requirements-dev.lock")
    for name, entries in service.items():
        assert name in development, f"{name} is locked for the service but not for development"
        assert applicable(entries) == applicable(development[name]), name


def test_the_environment_is_the_locked_one() -> None:
    """Catches a venv installed from open ranges (or a lock edited without reinstalling)."""
    wrong = []
    for name, entries in read_lock("requirements-dev.lock").items():
        version = applicable(entries)
        if version is None:
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong.append(f"{name}: not installed, locked {version}")
            continue
        if installed != version:
            wrong.append(f"{name}: installed {installed}, locked {version}")
    assert not wrong, "the environment differs from requirements-dev.lock (`make test` reinstalls):\n" + "\n".join(wrong)
