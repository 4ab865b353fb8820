"""One headless Chromium per test module: Debian's ``chromium``, driven by Playwright's Python package.

The browser is the system's (``apt-get install chromium``; ``.ci/run`` installs it when missing), never
one downloaded by ``playwright install``. How to run these tests locally: docs/report.md.
"""

from __future__ import annotations

import pytest

from tests.browser.screenshot import INSTALL_HINT, chromium_path, launch

try:
    import playwright  # noqa: F401
except ImportError:  # pragma: no cover - the dev extra has it
    pytest.fail('the browser tests need Playwright: pip install ".[dev]"', pytrace=False)
if chromium_path() is None:  # pragma: no cover - .ci/run installs Chromium
    pytest.fail(INSTALL_HINT, pytrace=False)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw)
        yield b
        b.close()
