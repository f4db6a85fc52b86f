"""The project's documents describe the project, from inside the repository: every route the
application serves under /api/v1 is in docs/api.md, every requirement id the code cites is
defined in docs/spec.md, every link in README.md and docs/*.md resolves to a file of the
repository (and to a heading, for an anchor), no document points outside the repository, and
no comment or docstring names an issue by its number: the ids and the docs are what lasts."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.main import create_app
from commands.bootstrap import bootstrap
from commands.config import Config

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
API_PREFIX = "/api/v1"
CODE_PACKAGES = ("aggregates", "commands", "projections", "readmodels", "api", "workers")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# The spec's id families (R-, P-, C-, A-, D-, G-, T-, W-, AP-, N-, H-, O-, Q-, S-). Other
# capital-dash-number strings in the code are not ids: contract numbers like HT-1, UTF-8.
REQUIREMENT = re.compile(r"\b(?:AP|[ACDGHNOPQRSTW])-\d{1,2}\b")
BENCHMARK = re.compile(r"\bB\d{1,2}\b")
DOCUMENTS = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


# ---- helpers -------------------------------------------------------------------------------

def normalise(path: str) -> str:
    """A path template with its parameter names left out: `{customer_id}` and `{id}` match."""
    return re.sub(r"\{[^}/]*\}", "{}", path.rstrip("/") or "/")


def app_operations(app: Any) -> set[str]:
    """`METHOD /path` of every route the app serves, with the prefixes of included routers."""
    found: set[str] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:  # FastAPI's included router: its routes carry no prefix yet
                context = getattr(route, "include_context", None)
                walk(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
                continue
            path = getattr(route, "path", None)
            if path is None:
                continue
            for method in getattr(route, "methods", None) or ():
                if method != "HEAD":
                    found.add(f"{method} {prefix}{path}")
            if getattr(route, "routes", None) and not getattr(route, "methods", None):
                walk(route.routes, prefix + path)  # a mounted sub-application

    walk(app.routes, "")
    return found


def without_code_blocks(text: str) -> str:
    """The text outside ``` fences, so examples are not read as links or routes."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def documented_operations(text: str) -> set[str]:
    """The operations api.md documents: `METHOD /path` anywhere in its text (with or without
    the /api/v1 prefix), and in a table's first cell the contract's short forms:
    `PATCH/DELETE /x/{id}` (several methods) and `POST /x/{id}/approve, /reject` (the same
    methods on a sibling path)."""
    text = without_code_blocks(text)
    found: set[str] = set()
    method = "|".join(METHODS)
    one = re.compile(rf"\b((?:{method})(?:/(?:{method}))*)\s+(/[\w\-{{}}./]*)")
    for methods, path in one.findall(text):
        for m in methods.split("/"):
            found.add(f"{m} {normalise(path.removeprefix(API_PREFIX))}")
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        cell = line.strip("|").split("|")[0].strip()
        methods_now: list[str] = []
        path_now = ""
        for part in (p.strip() for p in cell.split(",")):
            full = re.fullmatch(rf"((?:{method})(?:/(?:{method}))*)\s+(/[\w\-{{}}./]*)", part)
            if full:
                methods_now, path_now = full.group(1).split("/"), full.group(2)
            elif methods_now and re.fullmatch(r"/[\w\-{}.]+", part):
                path_now = path_now.rsplit("/", 1)[0] + part
            else:
                continue
            for m in methods_now:
                found.add(f"{m} {normalise(path_now.removeprefix(API_PREFIX))}")
    return found


def slug(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's rule) gives a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    result = set()
    for line in without_code_blocks(path.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            base = slug(heading.group(1))
            count = seen.get(base, 0)
            seen[base] = count + 1
            result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(path: Path) -> Iterator[str]:
    text = without_code_blocks(path.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # code spans are not links
    for target in re.findall(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text):
        yield target
    for target in re.findall(r"^\s*\[[^\]]+\]:\s*(\S+)", text, flags=re.M):
        yield target


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def comments_and_docstrings(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every comment and docstring of a Python source."""
    source = path.read_text(encoding="utf-8")
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                yield body[0].lineno, body[0].value.value


# ---- the routes ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    folder = tmp_path_factory.mktemp("docs")
    service = bootstrap(Config(database_url=f"sqlite:///{folder}/crm.db", mode="embedded", secret_key=""))
    try:
        app = create_app(service, background=False)
        return {op for op in app_operations(app) if op.split(" ", 1)[1].startswith(API_PREFIX + "/")}
    finally:
        service.close()


def test_the_app_serves_routes_under_the_prefix(operations: set[str]) -> None:
    # Guards the walk itself: without the included routers' prefixes nothing would be checked.
    assert "POST /api/v1/customers/{customer_id}/claim" in operations
    assert len(operations) > 80


def test_every_route_is_documented_in_api_md(operations: set[str]) -> None:
    documented = documented_operations((DOCS / "api.md").read_text(encoding="utf-8"))
    missing = sorted(op for op in operations
                     if f"{op.split(' ')[0]} {normalise(op.split(' ', 1)[1].removeprefix(API_PREFIX))}"
                     not in documented)
    assert not missing, f"routes the app serves that docs/api.md does not document: {missing}"


def test_the_route_reader_understands_the_short_forms() -> None:
    text = ("| POST /approvals/{id}/approve, /reject, /withdraw | comment | |\n"
            "| POST /customers/{id}/contacts, PATCH/DELETE /customers/{id}/contacts/{contact_id} | | |\n"
            "The stream is `GET /api/v1/stream`.\n")
    assert documented_operations(text) == {
        "POST /approvals/{}/approve", "POST /approvals/{}/reject", "POST /approvals/{}/withdraw",
        "POST /customers/{}/contacts", "PATCH /customers/{}/contacts/{}", "DELETE /customers/{}/contacts/{}",
        "GET /stream"}


# ---- the requirement ids -------------------------------------------------------------------

def spec_ids() -> set[str]:
    text = (DOCS / "spec.md").read_text(encoding="utf-8")
    return set(re.findall(r"^- ((?:AP|[A-Z])-\d{1,2}|B\d{1,2})\b", text, flags=re.M))


def test_every_requirement_id_the_code_cites_is_in_spec_md() -> None:
    defined = spec_ids()
    cited: dict[str, str] = {}
    for path in python_files(*CODE_PACKAGES, "benchmarks"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for rid in REQUIREMENT.findall(line):
                cited.setdefault(rid, f"{path.relative_to(ROOT)}:{number}")
        for number, text in comments_and_docstrings(path):
            for rid in BENCHMARK.findall(text):
                cited.setdefault(rid, f"{path.relative_to(ROOT)}:{number}")
    for path in python_files("tests"):  # tests: what their docstrings and comments cite
        for number, text in comments_and_docstrings(path):
            for rid in REQUIREMENT.findall(text):
                cited.setdefault(rid, f"{path.relative_to(ROOT)}:{number}")
    assert len(cited) > 80, "the scan found too few ids: is the pattern right?"
    undefined = {rid: where for rid, where in sorted(cited.items()) if rid not in defined}
    assert not undefined, f"ids cited but not defined in docs/spec.md: {undefined}"


def test_the_spec_keeps_every_id_family() -> None:
    defined = spec_ids()
    for family, last in (("R", 8), ("P", 4), ("C", 14), ("A", 4), ("D", 5), ("G", 8), ("T", 4), ("W", 1),
                         ("AP", 2), ("H", 5), ("O", 3), ("Q", 12), ("S", 19), ("N", 5), ("B", 6)):
        sep = "" if family == "B" else "-"
        assert {f"{family}{sep}{n}" for n in range(1, last + 1)} <= defined, family


# ---- the links -----------------------------------------------------------------------------

@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves_inside_the_repository(document: Path) -> None:
    broken = []
    for target in links(document):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        if file_part.startswith("/"):
            broken.append(f"{target}: an absolute path")
            continue
        resolved = (document.parent / file_part).resolve() if file_part else document
        if not resolved.is_relative_to(ROOT):
            broken.append(f"{target}: outside the repository")
        elif not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading with this anchor")
    assert not broken, f"{document.relative_to(ROOT)}: {broken}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_document_points_outside_the_repository(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    outside = re.findall(r"\.\./(?:shared|seeds)\b[^\s)`]*|(?<![\w.])/(?:work|tmp|home|root|Users)/[^\s)`]*", text)
    assert not outside, f"{document.relative_to(ROOT)} refers outside the repository: {outside}"


def test_the_link_reader_sees_what_it_must() -> None:
    assert slug("Sales, stock, after-sales") == "sales-stock-after-sales"
    assert slug("Business time in reports and exports") == "business-time-in-reports-and-exports"
    assert "spec.md" in list(links(DOCS / "api.md"))


# ---- no issue numbers in the code ----------------------------------------------------------

ISSUE = re.compile(r"\bissues?\s*(?:#\s*\d+|\d+\b|[\"“«'])|(?<![\w&#])#\d+\b|\bPR\s*#?\d+", re.I)


def issue_citations(paths: list[Path]) -> list[str]:
    found = []
    for path in paths:
        for number, text in comments_and_docstrings(path):
            for match in ISSUE.finditer(text):
                before = text[max(0, match.start() - 4):match.start()]
                if before.endswith("UTS "):  # the Unicode standard UTS 39 (confusables), not an issue
                    continue
                found.append(f"{shown(path)}:{number}: {match.group(0)!r}")
    return found


def test_no_comment_or_docstring_cites_an_issue_number() -> None:
    found = issue_citations(python_files(*CODE_PACKAGES, "tests", "benchmarks"))
    assert not found, f"cite the requirement id or describe the behaviour instead: {found}"


def test_the_issue_pattern_catches_the_usual_forms(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""Fixes issue 16."""\n# see #17\n# as issue #3 asked\n# Issue "Trust" §2\n'
                      "# UTS #39 skeletons; colour #1f2328; a tissue 4 ply\n", encoding="utf-8")
    found = issue_citations([sample])
    assert len(found) == 4, found
