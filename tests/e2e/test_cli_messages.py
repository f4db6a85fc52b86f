"""The command line's words: Chinese by default, English with `--lang en` (or `CRM_LANG=en`),
and every refusal one line on stderr, `error: <code>: <message>`, with a non-zero exit, never
a traceback: through the real entry (`python -m api.cli`) and in process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from commands.bootstrap import Service
from tests.conftest import Http
from tests.e2e.helpers import ok, org_with_two_salespeople

pytestmark = pytest.mark.xdist_group("processes")

ROOT = Path(__file__).resolve().parents[2]
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def crm(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real entry on a SQLite store of its own."""
    environ = {k: v for k, v in os.environ.items() if k != "CRM_LANG"}
    environ.update({"CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'crm.db'}", "CRM_BLOB_DIR": str(tmp_path / "blobs"),
                    "CRM_MODE": "embedded", "COLUMNS": "200", **env})
    return subprocess.run([sys.executable, "-m", "api.cli", *args], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)


def one_refusal(stderr: str, code: str) -> str:
    """The one line of a refusal, and its message."""
    lines = [line for line in stderr.splitlines() if line.strip() and "signing key" not in line]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"error: {code}: "), stderr
    return lines[0].removeprefix(f"error: {code}: ")


def test_a_sweep_in_the_future_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    refused = crm(tmp_path, "pool", "sweep", "--now", "2099-01-01T00:00:00")
    assert refused.returncode == 1, refused
    assert "Traceback" not in refused.stdout + refused.stderr
    message = one_refusal(refused.stderr, "now_in_future")
    assert CHINESE.search(message), message  # the business locale: Chinese
    english = crm(tmp_path, "--lang", "en", "pool", "sweep", "--now", "2099-01-01T00:00:00+08:00")
    assert english.returncode == 1 and "Traceback" not in english.stderr
    assert not CHINESE.search(one_refusal(english.stderr, "now_in_future"))
    by_env = crm(tmp_path, "pool", "sweep", "--now", "2099-06-01", CRM_LANG="en")
    assert by_env.returncode == 1 and not CHINESE.search(one_refusal(by_env.stderr, "now_in_future"))

    done = crm(tmp_path, "pool", "sweep", "--now", "2026-01-01T00:00:00")
    assert done.returncode == 0, done.stderr
    assert "公海回收" in done.stdout and "0" in done.stdout
    done_en = crm(tmp_path, "--lang", "en", "pool", "sweep", "--now", "2026-01-01T00:00:00")
    assert done_en.returncode == 0 and "pool sweep as of" in done_en.stdout and not CHINESE.search(done_en.stdout)


@pytest.mark.parametrize("args", [
    ("pool", "sweep", "--now", "garbage"),
    ("pool", "sweep", "--now", "2026-13-45"),
    ("--lang", "fr", "pool", "sweep"),
    ("pool", "sweep", "--bogus"),
    ("export", "report", "S-4", "-o", "x.pdf"),
    ("export", "report", "S-99", "-o", "x.csv"),
    ("export", "report", "S-4", "--month", "13", "-o", "x.csv"),
    ("projections", "rebuild", "no-such-projection"),
    ("projections", "retry", "\u202enope"),
])
def test_bad_values_are_usage_errors_on_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    refused = crm(tmp_path, *args)
    assert refused.returncode == 2, refused
    assert "Traceback" not in refused.stdout + refused.stderr
    lines = [line for line in refused.stderr.splitlines() if line.strip() and "signing key" not in line]
    assert len(lines) == 1 and lines[0].startswith("error: "), refused.stderr
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "x.pdf").exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_refusals_and_output_in_process(service: Service, http: Http, monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:
    org_with_two_salespeople(http)
    made = ok(http.post("/customers", "alice", json={"name": "命令行客户", "region": "华东"}))
    monkeypatch.setenv("CRM_DATABASE_URL", service.config.database_url)
    monkeypatch.delenv("CRM_LANG", raising=False)
    runner = CliRunner()

    unknown = runner.invoke(cli, ["audit", "customer", "KH000000000000"])
    assert unknown.exit_code == 1
    assert one_refusal(unknown.stderr, "not_found") == "没有编号为 KH000000000000 的客户"
    unknown_en = runner.invoke(cli, ["--lang", "en", "audit", "customer", "KH000000000000"])
    assert unknown_en.exit_code == 1
    assert one_refusal(unknown_en.stderr, "not_found") == "no customer numbered KH000000000000"
    # A hostile number is told back as it is, on one line.
    odd = runner.invoke(cli, ["audit", "customer", "KH\n[red]x[/red]\u202e"])
    assert odd.exit_code == 1 and "[red]x[/red]" in one_refusal(odd.stderr, "not_found")

    # The choice of one run does not carry over to the next in the same process.
    timeline = runner.invoke(cli, ["audit", "customer", made["number"]], env={"COLUMNS": "220"})
    assert timeline.exit_code == 0, timeline.output
    assert "个事件" in timeline.stdout and "原值 → 新值" in timeline.stdout
    timeline_en = runner.invoke(cli, ["audit", "customer", made["number"]], env={"COLUMNS": "220", "CRM_LANG": "en"})
    assert timeline_en.exit_code == 0 and "1 events" in timeline_en.stdout and "old → new" in timeline_en.stdout

    status = runner.invoke(cli, ["projections", "status"], env={"COLUMNS": "220"})
    assert status.exit_code == 0 and "投影（事件存储最新位置" in status.stdout and "滞后" in status.stdout
    status_en = runner.invoke(cli, ["--lang", "en", "projections", "status"], env={"COLUMNS": "220"})
    assert status_en.exit_code == 0 and "Projections (event store head" in status_en.stdout

    target = tmp_path / "q11.csv"
    written = runner.invoke(cli, ["--lang", "en", "export", "report", "Q-11", "-o", str(target)])
    assert written.exit_code == 0, written.output
    assert target.read_text("utf-8-sig").splitlines()[0].startswith("Customer number,Customer name")
    assert "Q-11 Customer information: 1 rows written to" in written.stdout
    written_zh = runner.invoke(cli, ["export", "report", "Q-11", "-o", str(target)])
    assert written_zh.exit_code == 0 and target.read_text("utf-8-sig").startswith("客户编号,客户名称")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unexpected_failure_is_one_line_too(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    import commands.handlers

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the disk\nis on fire")

    monkeypatch.setenv("CRM_DATABASE_URL", service.config.database_url)
    monkeypatch.setattr(commands.handlers, "handle", broken)
    failed = CliRunner().invoke(cli, ["--lang", "en", "pool", "sweep"])
    assert failed.exit_code == 1
    message = one_refusal(failed.stderr, "internal_error")
    assert message == "RuntimeError: the disk is on fire (CRM_TRACEBACK=1 shows where)"
    monkeypatch.setenv("CRM_TRACEBACK", "1")
    shown = CliRunner().invoke(cli, ["pool", "sweep"])
    assert shown.exit_code == 1 and isinstance(shown.exception, RuntimeError)
