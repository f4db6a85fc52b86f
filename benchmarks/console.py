"""The console's time until the 业务门户 is interactive: the service as `make run` starts it
(embedded, a SQLite file in a temporary folder, the demo data), headless Chromium through
Playwright loading `/` for a signed-in salesperson, with an empty cache each time (a first
visit) and again with the cache warm (the next morning). Each load's time is from navigation
to the moment the four target figures are on the page and the page answers input; prints the
median, p90 and maximum, and the bytes the first page transferred. The target is under
1.5 s; nothing asserts on it.

    .venv/bin/python -m benchmarks.console --loads 10

Needs the built console (`make console`) and Chromium (`apt-get install chromium`)."""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

import httpx

from benchmarks.common import ROOT, ms, percentile

TARGET_SECONDS = 1.5
READY = "() => document.querySelectorAll('[data-figure]').length === 4"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "CRM_DATABASE_URL": f"sqlite:///{folder}/crm.db", "CRM_BLOB_DIR": str(folder / "blobs")}
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "api", "--demo", "--port", str(port)], cwd=ROOT,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    process.kill()
    raise SystemExit("the service did not start")


def _token(base: str) -> str:
    answer = httpx.post(f"{base}/api/v1/auth/token", data={"username": "sales1", "password": "demo1234"})
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _load(context: Any, base: str) -> tuple[float, int]:
    """One load of the dashboard: seconds until interactive, bytes received."""
    page = context.new_page()
    received = [0]
    page.on("response", lambda r: received.__setitem__(0, received[0] + int(r.headers.get("content-length", 0))))
    started = time.perf_counter()
    page.goto(f"{base}/#/dashboard")
    page.wait_for_function(READY, timeout=30000)
    # Interactive: the page answers a click on its navigation at once.
    page.locator(".menu-item", has_text="客户").click()
    page.wait_for_url("**/#/customers**")
    elapsed = time.perf_counter() - started
    page.close()
    return elapsed, received[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=10)
    args = parser.parse_args(argv)
    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        raise SystemExit("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        process, base = _serve(Path(folder))
        try:
            token = _token(base)
            # Signed in: the token the sign-in page would have kept for the tab.
            init = f"sessionStorage.setItem('crm_console_token', {token!r});"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=browser_path, headless=True,
                                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
                cold: list[float] = []
                sizes: list[int] = []
                for _ in range(args.loads):
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    context.add_init_script(init)
                    seconds, size = _load(context, base)
                    cold.append(seconds)
                    sizes.append(size)
                    context.close()
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.add_init_script(init)
                _load(context, base)
                warm = [_load(context, base)[0] for _ in range(args.loads)]
                context.close()
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    print(f"console: time until the 业务门户 is interactive, {args.loads} loads each "
          f"(target < {TARGET_SECONDS} s)")
    for label, values in (("empty cache", cold), ("warm cache", warm)):
        verdict = "meets" if median(values) < TARGET_SECONDS else "misses"
        print(f"  {label:<12} median {ms(median(values))} · p90 {ms(percentile(values, 90))} · "
              f"max {ms(max(values))} · {verdict} the target")
    print(f"  first load transferred {median(sizes) / 1024:.0f} KB (compressed where the service compresses)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
