"""The layers, checked from the source: no module imports a layer above its own, and no
modules import each other in a cycle.

Layers, lowest first: aggregates (0), commands (1), projections and readmodels (2), api and
workers (3). The one exception to the layer rule is the composition root `commands.bootstrap`,
which wires every layer. Cycles count everywhere, the composition root's imports included.

The files are parsed with `ast`, never imported: the test is fast and has no side effects.
Every import counts, at module level or inside a function; `from package import module`
is an import of that submodule, `from module import name` an import of the module."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {"aggregates": 0, "commands": 1, "projections": 2, "readmodels": 2, "api": 3, "workers": 3}
COMPOSITION_ROOTS = frozenset({"commands.bootstrap"})

# module -> the project modules it imports -> the lines it imports them on
Graph = dict[str, dict[str, list[int]]]


# ---- reading the imports ---------------------------------------------------------------------


def project_modules(root: Path, packages: Iterable[str] = LAYERS) -> dict[str, Path]:
    """Every module of the packages under `root`, by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if any(part.startswith(".") or part == "__pycache__" for part in parts):
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _known(name: str, modules: Mapping[str, Path]) -> str | None:
    """The module `name` is, or the innermost project module it lies in; None outside the project."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imported_modules(name: str, path: Path, modules: Mapping[str, Path]) -> dict[str, list[int]]:
    """The project modules that the module `name` (at `path`) imports, with the lines."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, list[int]] = {}

    def add(target: str | None, line: int) -> None:
        if target is not None:
            found.setdefault(target, []).append(line)

    for node in ast.walk(tree):  # every node: imports inside functions and branches count too
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(_known(alias.name, modules), node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                if node.level - 1 >= len(parts):
                    raise ValueError(f"{path}:{node.lineno}: a relative import above the top-level package")
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                add(submodule if submodule in modules else _known(base, modules), node.lineno)
    return found


def import_graph(root: Path = ROOT, packages: Iterable[str] = LAYERS) -> Graph:
    modules = project_modules(root, packages)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


# ---- the checks ------------------------------------------------------------------------------


def layer_of(module: str) -> int:
    return LAYERS[module.partition(".")[0]]


def layer_violations(graph: Mapping[str, Iterable[str]],
                     exempt: frozenset[str] = COMPOSITION_ROOTS) -> list[tuple[str, str]]:
    """Every edge (importer, imported) from a lower layer to a higher one, sorted."""
    return sorted((source, target) for source, targets in graph.items() if source not in exempt
                  for target in targets if layer_of(target) > layer_of(source))


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iteratively, so no recursion limit), each sorted."""
    successors = {node: sorted(set(targets)) for node, targets in graph.items()}
    for targets in list(successors.values()):
        for target in targets:
            successors.setdefault(target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(successors):
        if start in index:
            continue
        work = [(start, iter(successors[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            for target in pending:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(successors[target])))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def _shortest_path(successors: Mapping[str, Iterable[str]], start: str, goal: str,
                   within: set[str]) -> list[str]:
    """The shortest path start → … → goal through `within` (one exists inside a component)."""
    came_from: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            break
        for target in sorted(successors.get(node, ())):
            if target in within and target not in came_from:
                came_from[target] = node
                queue.append(target)
    path = [goal]
    while (previous := came_from[path[-1]]) is not None:
        path.append(previous)
    return path[::-1]


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Import cycles, each as [a, b, …, a]: for every edge inside a strongly connected component,
    the shortest cycle through it, without repeats. So every edge that lies on some cycle is in
    one that is reported (listing every elementary cycle could be exponentially many)."""
    cycles: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for component in strongly_connected(graph):
        members = set(component)
        if len(component) == 1 and component[0] not in set(graph.get(component[0], ())):
            continue
        for source in component:
            for target in sorted(set(graph.get(source, ())) & members):
                cycle = [source, *_shortest_path(graph, target, source, members)]
                ring = tuple(cycle[:-1])
                turn = ring.index(min(ring))
                key = ring[turn:] + ring[:turn]  # the same cycle, whichever module it starts at
                if key not in seen:
                    seen.add(key)
                    cycles.append([*key, key[0]])
    return sorted(cycles)


# ---- messages --------------------------------------------------------------------------------


def _where(graph: Graph, source: str, target: str) -> str:
    lines = ", ".join(str(line) for line in sorted(set(graph.get(source, {}).get(target, []))))
    return f"{source} -> {target}" + (f"  (line {lines})" if lines else "")


def layer_report(graph: Graph) -> str:
    found = layer_violations(graph)
    return "\n".join([f"{len(found)} import(s) from a lower layer to a higher one:"]
                     + [f"  {_where(graph, s, t)}  [layer {layer_of(s)} imports layer {layer_of(t)}]"
                        for s, t in found])


def cycle_report(graph: Graph) -> str:
    found = find_cycles(graph)
    out = [f"{len(found)} import cycle(s):"]
    for cycle in found:
        out.append("  " + " -> ".join(cycle))
        out += [f"      {_where(graph, s, t)}" for s, t in zip(cycle, cycle[1:], strict=False)]
    return "\n".join(out)


# ---- the project -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def project_graph() -> Graph:
    """The project's graph, read once for the tests below."""
    return import_graph()


def test_the_graph_covers_the_project() -> None:
    graph = project_graph()
    # Guards against a vacuous pass: the folders were found and their imports read.
    assert {"aggregates.base", "commands.bootstrap", "projections.base", "readmodels.tables",
            "api.main", "workers.tasks"} <= graph.keys()
    assert "projections.base" in graph["commands.bootstrap"]


def test_no_import_goes_up_a_layer() -> None:
    graph = project_graph()
    if layer_violations(graph):
        pytest.fail(layer_report(graph), pytrace=False)


def test_no_import_cycles() -> None:
    graph = project_graph()
    if find_cycles(graph):
        pytest.fail(cycle_report(graph), pytrace=False)


# ---- the checker itself ----------------------------------------------------------------------


def test_the_checker_catches_an_upward_import_and_a_cycle() -> None:
    graph: Graph = {
        "aggregates.a": {"aggregates.b": [1]},
        "aggregates.b": {"aggregates.a": [2]},  # cycle a <-> b
        "commands.c": {"aggregates.a": [3], "readmodels.r": [4]},  # upward: commands -> readmodels
        "commands.bootstrap": {"api.main": [5], "workers.w": [6]},  # the composition root may
        "readmodels.r": {"projections.p": [7], "commands.c": [8]},  # same layer; down to commands
        "projections.p": {"readmodels.r": [9]},
        "api.main": {"commands.bootstrap": [10]},
        "workers.w": {"workers.w": [11]},  # imports itself
    }
    assert layer_violations(graph) == [("commands.c", "readmodels.r")]
    assert find_cycles(graph) == [
        ["aggregates.a", "aggregates.b", "aggregates.a"],
        ["api.main", "commands.bootstrap", "api.main"],
        ["commands.c", "readmodels.r", "commands.c"],
        ["projections.p", "readmodels.r", "projections.p"],
        ["workers.w", "workers.w"],
    ]
    assert "commands.c -> readmodels.r  (line 4)  [layer 1 imports layer 2]" in layer_report(graph)
    assert "      readmodels.r -> commands.c  (line 8)" in cycle_report(graph)
    assert layer_violations({"aggregates.x": ["aggregates.y"], "api.z": ["aggregates.x"]}) == []
    assert find_cycles({"a.x": ["a.y"], "a.y": ["a.z"], "a.z": []}) == []


def test_a_longer_cycle_is_reported_whole_and_once() -> None:
    graph = {"commands.a": ["commands.b"], "commands.b": ["commands.c"], "commands.c": ["commands.a"],
             "commands.d": ["commands.a"]}
    assert strongly_connected(graph) == [["commands.a", "commands.b", "commands.c"], ["commands.d"]]
    assert find_cycles(graph) == [["commands.a", "commands.b", "commands.c", "commands.a"]]


def test_imports_are_resolved_from_the_source(tmp_path: Path) -> None:
    files = {
        "aggregates/__init__.py": "",
        "aggregates/base.py": "import json\n",
        "aggregates/deep/__init__.py": "from .. import base\n",
        "aggregates/deep/leaf.py": "from ..base import x\nfrom . import sibling\n",
        "aggregates/deep/sibling.py": "def f():\n    from commands import handlers as h\n",
        "commands/__init__.py": "",
        "commands/handlers.py": "import aggregates.deep.leaf\nfrom commands.missing import y\n",
        "commands/star.py": "from aggregates.deep import *\nimport os.path\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    graph = import_graph(tmp_path, ["aggregates", "commands"])
    assert graph == {
        "aggregates": {},
        "aggregates.base": {},
        "aggregates.deep": {"aggregates.base": [1]},
        "aggregates.deep.leaf": {"aggregates.base": [1], "aggregates.deep.sibling": [2]},
        "aggregates.deep.sibling": {"commands.handlers": [2]},  # inside a function
        "commands": {},
        "commands.handlers": {"aggregates.deep.leaf": [1], "commands": [2]},  # a missing module: its package
        "commands.star": {"aggregates.deep": [1]},
    }
    assert layer_violations(graph) == [("aggregates.deep.sibling", "commands.handlers")]
    assert find_cycles(graph) == [["aggregates.deep.leaf", "aggregates.deep.sibling", "commands.handlers",
                                   "aggregates.deep.leaf"]]
