"""Debian's chromium driven by Playwright for the browser tests: one tab that records what went wrong on the page
(script errors, console errors, failed requests, and, when asked, any request to the network)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pipelines.config import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts"  # screenshots and logs kept for a person to look at


@contextmanager
def chromium_tab(
    console: tuple[str, ...] = ("error",), failed_requests: bool = True, offline: bool = False, width: int = 1280
) -> Iterator[tuple[object, list[str]]]:
    """(tab, problems): `problems` collects page errors, console messages of the given types, failed requests (not for
    a live app, where navigating away aborts requests in flight), and with `offline` every http(s) request."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Debian's chromium is missing: `make test` installs it (make browser)")
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            tab = browser.new_page(viewport={"width": width, "height": 900})
            tab.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in console else None)
            tab.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            if failed_requests:
                tab.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            if offline:
                tab.on("request", lambda r: problems.append(f"network: {r.url}") if r.url.startswith("http") else None)
            yield tab, problems
        finally:
            browser.close()
