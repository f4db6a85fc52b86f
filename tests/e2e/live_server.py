"""Helpers for the tests that need a real server: the app under uvicorn on a free port, and
headless Chromium, optionally with every address but this machine's cut off."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from tests.conftest import REQUIRED, free_port

# Chromium without internet: every host but 127.0.0.1 fails to resolve, and anything that
# still tries goes to a proxy on a closed port (loopback bypasses the proxy by default).
OFFLINE = ("--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app under uvicorn in a thread, until the block ends; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if REQUIRED:
            pytest.fail("CRM_REQUIRE_SERVICES=1 but Chromium is not installed (.ci/run installs it)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return found


def dump_dom(browser: str, url: str, profile: Path, *extra: str, budget_ms: int = 30000) -> str:
    """The page's DOM after its scripts had `budget_ms` of virtual time to run."""
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
        f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", "--window-size=1280,1100",
        *extra, "--dump-dom", url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "LANG": "C.UTF-8"})
    return done.stdout
