"""Headless Chromium from Debian's `chromium` package, driven by Playwright, for the console's
browser tests and screenshots. Playwright's own browser download is never used: the test
machines cannot fetch it (scripts/setup.sh installs the Debian package)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
# No sandbox (CI runs as root), no GPU, and none of the background traffic a browser starts on
# its own: the tests run offline.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless."""
    if not CHROMIUM.is_file():
        raise RuntimeError(
            f"{CHROMIUM} is missing: apt-get install chromium (scripts/setup.sh does it as root)"
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
