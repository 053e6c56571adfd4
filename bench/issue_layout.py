"""The real week 2025-W28's issue as a reader meets it: email size and subject, page heights.

    python bench/issue_layout.py [--out DIR] [--screenshot PNG]

Builds the week from ../shared/data (dev split) through `digest init`, `crawl` and `build`,
then measures the preview email's HTML and the issue page in headless Chromium, at 1,200 px
and on a 375 px phone. The last line is a JSON object of the figures. `--screenshot` saves the
page's first screen at 1,200 x 900 (the README's picture of the issue).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import sys
import tempfile
import time
from pathlib import Path

# This checkout's digest and test helpers, not the ones installed in the venv.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from digest.publish.inbox import preheader, subject_line
from tests.browser import SMALL_TEXT, chromium, phone_screen
from tests.week28 import build_week28

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def measure(out: Path, screenshot: Path | None = None) -> dict[str, object]:
    started = time.perf_counter()
    week = build_week28(SHARED, out)
    figures: dict[str, object] = {"build_s": round(time.perf_counter() - started, 1)}
    message = email.message_from_bytes(week.email.read_bytes(), policy=email.policy.default)
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    mail_page = out / "email.html"
    mail_page.write_text(html, encoding="utf-8")
    figures.update(
        subject=subject_line(week.issue),
        subject_chars=len(subject_line(week.issue)),
        preheader=preheader(week.issue),
        email_html_bytes=len(html.encode("utf-8")),
        themes=len(week.issue.sections),
    )
    page = week.site / "issues" / week.issue.id / "index.html"
    height = "return document.documentElement.scrollHeight"
    width = "return document.documentElement.scrollWidth"
    with chromium(1200, 900) as driver:
        driver.get(page.as_uri())
        figures["page_height_1200px"] = driver.execute_script(height)
        if screenshot is not None:
            driver.save_screenshot(str(screenshot))
        with phone_screen(driver, 375):
            driver.get(page.as_uri())
            figures["page_height_375px"] = driver.execute_script(height)
            figures["page_width_375px"] = driver.execute_script(width)
            driver.get(mail_page.as_uri())
            figures["email_height_375px"] = driver.execute_script(height)
            figures["email_width_375px"] = driver.execute_script(width)
            figures["email_text_under_14px"] = len(driver.execute_script(SMALL_TEXT))
    return figures


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--out", type=Path, default=None, help="folder to build in (default: temp)")
    args.add_argument("--screenshot", type=Path, default=None, help="save the first screen here")
    parsed = args.parse_args()
    out = parsed.out
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = out or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        figures = measure(folder, parsed.screenshot)
    for key, value in figures.items():
        print(f"{key:22} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
