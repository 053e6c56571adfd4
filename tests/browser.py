"""Headless Chromium for the site tests, through Selenium and Debian's chromium-driver."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def _driver_path() -> str | None:
    return shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
    )


@contextmanager
def chromium(width: int = 1200, height: int = 900) -> Iterator[object]:
    """A headless Chromium session, or a skip saying what to install (a failure under CI)."""
    missing = [str(p) for p in (CHROMIUM,) if not p.exists()]
    if _driver_path() is None:
        missing.append("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("the selenium package (pip install -e '.[test]')")
    if missing:
        message = (
            f"headless Chromium unavailable: {', '.join(missing)} missing; install with "
            "`apt-get install -y chromium chromium-driver`"
        )
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run the browser tests)")
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--no-first-run",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(_driver_path()))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


# Every visible element with text of its own whose computed font size is under 14 px.
SMALL_TEXT = """
const small = [];
for (const e of document.body.querySelectorAll('*')) {
  if (!e.getClientRects().length) continue;  // not shown, like an email's preheader
  if (![...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  const size = parseFloat(getComputedStyle(e).fontSize);
  if (size < 14) small.push([e.tagName + '.' + e.className, size, e.textContent.slice(0, 40)]);
}
return small;
"""


@contextmanager
def phone_screen(driver: Any, width: int = 375, height: int = 812) -> Iterator[None]:
    """The session as a phone of that CSS width (the viewport meta tag applies)."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        yield
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@dataclass(frozen=True)
class PhoneView:
    """An email's HTML part as a phone shows it."""

    width: int  # of the document, in CSS pixels
    small_text: list[Any]  # visible elements whose own text is under 14 px
    link_sizes: list[float]  # every link's font size, in px


def email_on_phone(message: EmailMessage, folder: Path, width: int = 375) -> PhoneView:
    """Open the message's HTML part in headless Chromium on a phone screen `width` px wide."""
    page = folder / "email.html"
    html = message.get_body(("html",))
    assert html is not None, "the message has no HTML part"
    page.write_text(html.get_content(), encoding="utf-8")
    with chromium() as driver, phone_screen(driver, width):
        driver.get(page.as_uri())
        return PhoneView(
            driver.execute_script("return document.documentElement.scrollWidth"),
            driver.execute_script(SMALL_TEXT),
            [
                float(size.removesuffix("px"))
                for size in driver.execute_script(
                    "return [...document.querySelectorAll('a')]"
                    ".map(a => getComputedStyle(a).fontSize)"
                )
            ],
        )
