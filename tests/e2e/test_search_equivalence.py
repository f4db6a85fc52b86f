"""The customer search against a plain substring scan: on PostgreSQL the search
narrows the rows by the grams in a GIN index before its LIKE; it must find exactly what a scan
of the names, numbers and visible contacts finds, for words of one to four characters, Chinese
and Latin, in every scope, after names and contacts changed as well."""

from __future__ import annotations

import random
import unicodedata
from typing import Any

from tests.conftest import Http
from tests.e2e.helpers import ok, org_with_two_salespeople

# A small alphabet, so that random words of up to four characters often match something.
HAN = "华东科技上海北京广州医院贸易公司"
LATIN = "abcABC"
DIGITS = "0123"
ALPHABET = HAN + LATIN + DIGITS


def normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def word_of(rng: random.Random, texts: list[str]) -> str:
    """A word of one to four characters: random, or cut from a stored text (so that it is
    found), in a random case, sometimes in full-width forms."""
    length = rng.randint(1, 4)
    source = rng.choice(texts)
    if rng.random() < 0.6 and len(source) >= length:
        start = rng.randrange(len(source) - length + 1)
        word = source[start:start + length]
    else:
        word = "".join(rng.choice(ALPHABET) for _ in range(length))
    word = "".join(c.swapcase() if rng.random() < 0.5 else c for c in word)
    if rng.random() < 0.2:  # full-width Latin letters and digits fold to the half-width ones
        word = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in word)
    return word


def scan(customers: dict[str, dict[str, Any]], word: str, ids: set[str], contacts_seen: set[str]) -> set[str]:
    """The plain scan: the customers among `ids` whose name or number holds the word, or one of
    whose contacts' names or phones does where the viewer sees the contacts."""
    wanted = normal(word.strip())
    found = set()
    for cid in ids:
        c = customers[cid]
        own = [c["name"].lower(), c["number"].lower()]
        others = [t.lower() for x in c["contacts"] for t in (x["name"], x.get("phone") or "")]
        if any(wanted in t for t in own) or (cid in contacts_seen and any(wanted in t for t in others)):
            found.add(cid)
    return found


def searched(http: Http, who: str, scope: str, word: str) -> tuple[set[str], int]:
    found: set[str] = set()
    total = -1
    page = 1
    while True:
        body = ok(http.get("/customers", who, params={"scope": scope, "q": word, "page": page,
                                                       "page_size": 100, "sort": "number"}), 200)
        total = body["total"]
        found |= {r["id"] for r in body["items"]}
        if len(body["items"]) < 100:
            return found, total
        page += 1


def test_search_finds_what_a_substring_scan_finds(http: Http) -> None:
    rng = random.Random(19)
    ids = org_with_two_salespeople(http)
    assert http.patch(f"/people/{ids['alice']}", "root", json={"max_customers": 500}).status_code == 200
    # Info and contact changes apply at once (no approval), so the grams must follow them.
    assert http.put("/settings", "root", json={"rules": {"approval_required": ["price_change"]}}).status_code == 200
    names: set[str] = set()

    def new_name() -> str:
        while True:
            name = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(2, 9)))
            if name not in names and not name.isdigit():
                names.add(name)
                return name

    registered: list[str] = []
    held: list[str] = []
    for i in range(45):
        contacts = [{"name": "".join(rng.choice(HAN + LATIN) for _ in range(rng.randint(1, 4))),
                     "phone": "".join(rng.choice(DIGITS + "56789") for _ in range(rng.randint(3, 11)))}
                    for _ in range(rng.randint(0, 2))]
        body: dict[str, Any] = {"name": new_name(), "contacts": contacts, "to_pool": i % 3 == 0}
        response = http.post("/customers", "alice", json=body)
        if response.status_code == 409:  # a look-alike of an earlier random name (C-2)
            continue
        registered.append(ok(response)["id"])
        if not body["to_pool"]:
            held.append(registered[-1])
    assert len(registered) >= 35
    # Changes after registration: new names, a contact added, one edited, one removed.
    for cid in held[1:12:3]:
        response = http.post(f"/customers/{cid}/changes", "alice", json={"changes": {"name": new_name()}})
        assert response.status_code in (200, 409), response.text  # 409: a look-alike name
    for cid in held[2:20:4]:
        ok(http.post(f"/customers/{cid}/contacts", "alice", json={"name": "上海" + rng.choice(LATIN), "phone": "5678"}))
        first = http.get(f"/customers/{cid}", "alice").json()["contacts"][0]
        ok(http.patch(f"/customers/{cid}/contacts/{first['id']}", "alice", json={"phone": "99" + rng.choice(DIGITS)}),
           200)
        contacts = http.get(f"/customers/{cid}", "alice").json()["contacts"]
        if len(contacts) > 2:
            ok(http.delete(f"/customers/{cid}/contacts/{contacts[-1]['id']}", "alice"), 200)

    # The stored customers, as the manager (who sees every one of them in full) reads them.
    customers = {cid: ok(http.get(f"/customers/{cid}", "boss"), 200) for cid in registered}
    pool = {cid for cid, c in customers.items() if c["in_pool"]}
    alices = set(customers) - pool
    assert pool and alices
    texts = [t for c in customers.values() for t in
             [c["name"], c["number"], *(x["name"] for x in c["contacts"]), *(x.get("phone") or "" for x in c["contacts"])]
             if t]

    # Who sees what: alice her own in full and the pool's public fields; her manager all in full.
    views = [("alice", "mine", alices, alices), ("alice", "pool", pool, set()), ("boss", "all", set(customers),
                                                                                  set(customers))]
    compared = matched = 0
    for _ in range(70):
        word = word_of(rng, texts)
        for who, scope, among, contacts_seen in views:
            expected = scan(customers, word, among, contacts_seen)
            found, total = searched(http, who, scope, word)
            assert found == expected, (who, scope, word, found ^ expected)
            assert total == len(expected), (who, scope, word)
            compared += 1
            matched += bool(expected)
    # The comparison means something only if many words found rows, and some found none.
    assert matched > compared // 3 and matched < compared
