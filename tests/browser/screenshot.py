"""Open ``report.html`` in Debian's headless Chromium, offline, and take screenshots.

Used by the browser tests (tests/browser/test_report_html.py) and, for the README's picture, as a
command::

    python -m tests.browser.screenshot docs/img/report.png [SCENARIO] [--width 1000] [--height 1450]

which writes a report of SCENARIO (default ``scenarios/why_numbers_differ.toml``) to a temporary
directory and saves a screenshot of the top of its ``report.html``. Needs ``playwright`` (the ``dev``
extra) and the ``chromium`` package (``apt-get install chromium``); ``playwright install`` is never
needed: the browser is the system's.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Flags for a headless Chromium in a container: no sandbox (root, no user namespaces), no GPU, and
#: none of the background traffic a fresh profile would start (updates, sync, first-run pages).
LAUNCH_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
#: Milliseconds to wait for the browser and the page (a busy 2-core machine is slow, never stuck).
TIMEOUT_MS = 120_000
INSTALL_HINT = "the browser tests need Chromium: apt-get install -y chromium"


def chromium_path() -> str | None:
    """The system's Chromium, or None."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def launch(playwright: Any) -> Any:
    """A headless Chromium from the system (never a downloaded one)."""
    path = chromium_path()
    if path is None:
        raise RuntimeError(INSTALL_HINT)
    return playwright.chromium.launch(
        executable_path=path, args=list(LAUNCH_ARGS), headless=True, timeout=TIMEOUT_MS
    )


@dataclass
class Visit:
    """A page opened offline, with everything it tried to fetch and every message it logged."""

    page: Any
    context: Any
    blocked: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.context.close()


def open_offline(browser: Any, html: Path, width: int, height: int = 900) -> Visit:
    """Load ``html`` from disk (file://) at ``width`` CSS pixels with the network disabled.

    Any request that is not ``file:`` (or ``data:``/``about:``) is aborted and recorded in ``blocked``;
    console messages and page errors are recorded too. Returns after the ``load`` event.
    """
    context = browser.new_context(
        viewport={"width": width, "height": height}, offline=True, java_script_enabled=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    visit = Visit(page=None, context=context)

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(("file:", "data:", "about:")):
            r.continue_()
        else:
            visit.blocked.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: visit.console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: visit.errors.append(str(e)))
    page.goto(html.resolve().as_uri(), wait_until="load", timeout=TIMEOUT_MS)
    visit.page = page
    return visit


def screenshot(
    browser: Any, html: Path, out: Path, width: int, *, height: int = 900, full: bool = False
) -> bytes:
    """Save a PNG of ``html`` at ``width`` (the first screen, or the ``full`` page); returns its bytes."""
    visit = open_offline(browser, html, width, height)
    try:
        data = visit.page.screenshot(path=str(out), full_page=full, timeout=TIMEOUT_MS)
    finally:
        visit.close()
    return data


def make_picture(browser: Any, out: Path, scenario: str, width: int, height: int) -> bytes:
    """Write SCENARIO's report to a temporary directory and save the top of its report.html as ``out``."""
    from simulator import load_scenario, run
    from simulator.report.directory import write_report

    loaded = load_scenario(scenario)
    with tempfile.TemporaryDirectory() as tmp:
        write_report(run(loaded), Path(tmp) / "report", loaded.description)
        return screenshot(browser, Path(tmp) / "report" / "report.html", out, width, height=height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.browser.screenshot", description=__doc__)
    parser.add_argument("out", help="PNG to write, e.g. docs/img/report.png")
    parser.add_argument("scenario", nargs="?", default="scenarios/why_numbers_differ.toml")
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--height", type=int, default=1450)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            make_picture(browser, Path(args.out), args.scenario, args.width, args.height)
        finally:
            browser.close()
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
