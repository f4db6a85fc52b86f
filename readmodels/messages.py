"""The message ids of the `crm` catalogue and `python -m readmodels.messages` (`make messages`),
which updates `readmodels/locales/<locale>/LC_MESSAGES/crm.po` of every supported locale.

A message id is the text as the code writes it: Chinese for what the seeds word in Chinese
(notifications, report and column titles, export headings, the report page), English for the
command line's output, which was written in English. Each locale's catalogue translates the ids
of the other language; an id in the locale's own language may stay untranslated (shown as
written).

Where the ids come from:
- every string literal given to `N_(…)`, `t(…)` or `gettext(…)` in the packages, found with
  Babel's extraction (`extract_crm` below is its method for Python files), except calls that
  name another domain (`domain="errors"`: the refusals' catalogue);
- the registries whose texts are ids by definition: the reports' titles and column titles,
  the operation log's column titles and the approval kinds' words (`registry_messages`), which
  would otherwise need a mark on each of a few hundred definitions.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from readmodels.i18n import LOCALES_DIR, SUPPORTED

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("aggregates", "commands", "projections", "readmodels", "api", "workers")
KEYWORDS = ("N_", "t", "gettext")
DOMAIN = "crm"
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")
HEADER = ("# The crm domain ({locale}): notifications, report and column titles, export headings,\n"
          "# the report page and the command line's output. Message ids are the code's own words\n"
          "# (Chinese or English); regenerate the ids with `make messages` (python -m readmodels.messages).")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def language_of(message: str) -> str:
    """The language a message id is written in: `zh` when it has Chinese characters or
    punctuation, else `en`."""
    return "zh" if CJK.search(message) else "en"


def placeholders(message: str) -> set[str]:
    """The `{name}` placeholders of a message (what `t` fills from its parameters)."""
    return {match.group(1) for match in PLACEHOLDER.finditer(message.replace("{{", "").replace("}}", ""))}


def extract_crm(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[
        tuple[int, str, str, list[str]]]:
    """Babel's extraction method for the `crm` domain: each call of a marking function whose
    first argument is a string literal, unless a `domain=` other than "crm" is given."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else (
            node.func.attr if isinstance(node.func, ast.Attribute) else None)
        if name not in (keywords or KEYWORDS):
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        domain = next((k.value for k in node.keywords if k.arg == "domain"), None)
        if domain is not None and not (isinstance(domain, ast.Constant) and domain.value == DOMAIN):
            continue
        yield node.lineno, str(name), first.value, []


def source_messages() -> Iterator[tuple[str, str, int]]:
    """(message id, file, line) of every marked message in the packages."""
    for package in PACKAGES:
        found = extract_from_dir(ROOT / package, method_map=[("**.py", "readmodels.messages:extract_crm")],
                                 keywords={k: None for k in KEYWORDS})
        for filename, lineno, message, _, _ in found:
            if isinstance(message, str) and message:
                yield message, f"{package}/{filename}", lineno


def registry_messages() -> Iterator[tuple[str, str, int]]:
    """(message id, where, 0) of the texts the registries hold as ids."""
    from aggregates.approval import KINDS
    from readmodels.oplog import COLUMNS
    from readmodels.reports import REPORTS

    for report in REPORTS.values():
        yield report.title, f"readmodels/reports#{report.id}", 0
        for column in report.columns:
            yield column.title, f"readmodels/reports#{report.id}.{column.key}", 0
    for key, title, _ in COLUMNS:
        yield title, f"readmodels/oplog.py#COLUMNS.{key}", 0
    for kind, words in KINDS.items():
        yield words, f"aggregates/approval.py#KINDS.{kind}", 0


def collect() -> dict[str, list[tuple[str, int]]]:
    """Every message id of the domain with the places it is written."""
    found: dict[str, list[tuple[str, int]]] = {}
    for message, where, line in [*source_messages(), *registry_messages()]:
        found.setdefault(message, []).append((where, line))
    return found


def catalogue_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def update() -> list[Path]:
    """Bring every locale's `crm.po` up to the ids in the code: new ids added untranslated,
    ids no longer written dropped, the translations of the others kept."""
    template = Catalog(domain=DOMAIN, project="crm", fuzzy=False)
    for message, places in sorted(collect().items()):
        template.add(message, locations=places,
                     flags=("python-brace-format",) if placeholders(message) else ())
    written = []
    for locale in SUPPORTED:
        path = catalogue_path(locale)
        if path.exists():
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=locale, domain=DOMAIN)
        else:
            catalog = Catalog(locale=locale, domain=DOMAIN, project="crm", fuzzy=False)
        created = catalog.creation_date  # kept: a run that changes no id changes no file
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created
        catalog.header_comment = HEADER.format(locale=locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True, ignore_obsolete=True, include_lineno=False)
        written.append(path)
    return written


if __name__ == "__main__":
    for path in update():
        print(path.relative_to(ROOT))
    sys.exit(0)
