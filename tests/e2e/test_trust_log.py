"""R-8, H-5: every request under /api/v1 that is refused or fails lands in the
operation log — refused exports and reads too, not only commands — and text the database
cannot store (a NUL in the path, on PostgreSQL) is cleaned, not a reason to lose the entry."""

from __future__ import annotations

from typing import Any

from tests.conftest import Http, assert_error
from tests.e2e.helpers import ok, org_with_two_salespeople

IMPORT_CSV = ("name,type,source,region,address,building,contact_name,contact_phone,owner_username,created_at\n"
              "导入客户,,,火星,,,,,,\n")


def log_entries(http: Http) -> list[dict[str, Any]]:
    return list(http.get("/operation-log", "root", params={"page_size": 500}).json()["items"])


def test_requests_with_a_nul_in_the_path_are_logged_cleaned(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    headers = http.as_("alice")
    assert_error(http.client.post("/api/v1/customers/%00/claim", headers=headers), 422, "control_character")
    assert_error(http.client.get("/api/v1/customers/%00", headers=headers), 422, "control_character")
    assert_error(http.client.delete("/api/v1/nothing%00here", headers=headers), 422, "control_character")
    seen = {(e["method"], e["path"], e["status"], e["outcome"], e["error_code"], e["actor_id"])
            for e in log_entries(http)}
    assert ("POST", "/api/v1/customers/\ufffd/claim", 422, "refused", "control_character", ids["alice"]) in seen
    assert ("GET", "/api/v1/customers/\ufffd", 422, "refused", "control_character", ids["alice"]) in seen
    assert ("DELETE", "/api/v1/nothing\ufffdhere", 422, "refused", "control_character", ids["alice"]) in seen


def test_refused_exports_and_refused_reads_are_logged(http: Http) -> None:
    ids = org_with_two_salespeople(http)
    made = ok(http.post("/imports/customers", "root", data={"dry_run": "true"},
                        files={"file": ("c.csv", IMPORT_CSV, "text/csv")}), 200)
    hidden = ok(http.post("/customers", "alice", json={"name": "日志里的客户"}))["id"]
    assert_error(http.get("/operation-log", "alice", params={"format": "csv"}), 403, "forbidden")
    assert_error(http.get(f"/imports/{made['import_id']}/rejects", "alice"), 403, "forbidden")
    assert_error(http.get("/reports/Q-11", "alice", params={"format": "xlsx"}), 403, "forbidden")
    assert_error(http.get(f"/customers/{hidden}", "bob"), 404, "not_found")
    assert_error(http.get("/operation-log", "alice", params={"from": "0001-01-01"}), 403, "forbidden")
    assert_error(http.get("/operation-log", "root", params={"to": "9999-12-31"}), 422, "date_out_of_range")
    assert http.client.get("/api/v1/customers").status_code == 401
    ok(http.get("/customers", "alice"), 200)  # an accepted read is not a command: not logged

    entries = log_entries(http)
    seen = {(e["route"], e["actor_id"], e["status"], e["outcome"], e["error_code"]) for e in entries}
    for expected in (("GET /api/v1/operation-log", ids["alice"], 403, "refused", "forbidden"),
                     ("GET /api/v1/imports/{import_id}/rejects", ids["alice"], 403, "refused", "forbidden"),
                     ("GET /api/v1/reports/{report_id}", ids["alice"], 403, "refused", "forbidden"),
                     ("GET /api/v1/customers/{customer_id}", ids["bob"], 404, "refused", "not_found"),
                     ("GET /api/v1/customers", None, 401, "refused", "not_authenticated")):
        assert expected in seen, expected
    root = http.get("/me", "root").json()["id"]
    assert ("GET /api/v1/operation-log", root, 422, "refused", "date_out_of_range") in seen
    [rejects] = [e for e in entries if e["route"].endswith("/rejects")]
    assert rejects["target_id"] == made["import_id"]
    assert not [e for e in entries if e["method"] == "GET" and e["status"] < 400
                and e["route"] == "GET /api/v1/customers"]
