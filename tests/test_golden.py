"""Golden files: one issue's page, feeds and email, byte for byte.

After an intended change to templates or rendering, regenerate them with `make golden`
(DIGEST_UPDATE_GOLDEN=1 pytest tests/test_golden.py) and review the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from digest.publish import PublishSettings, prepare, publish
from digest.publish.email import SMTP_POLICY, Unsubscribe
from digest.publish.tokens import make_token
from tests.issues import BASE_URL, two_weeks

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DIGEST_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("golden")
    settings = PublishSettings(
        site_dir=out / "site", email_dir=out / "email", base_url=BASE_URL, site_title="digest"
    )
    newer, older = two_weeks()
    publish(newer, [older], settings)
    site = out / "site"
    token = make_token(b"golden-secret-0123456789", 1, "ada@example.net")
    message = prepare(newer, settings).message(
        "digest <digest@example.com>",
        "Ada <ada@example.net>",
        Unsubscribe(f"{BASE_URL}unsubscribe/?token={token}", "digest@example.com", token),
        "<issue.2026-w47.1@digest.example.com>",
    )
    return {
        "issue.html": (site / "issues" / newer.id / "index.html").read_bytes(),
        "feed.xml": (site / "feed.xml").read_bytes(),
        "rss.xml": (site / "rss.xml").read_bytes(),
        "theme-feed.xml": (site / "themes" / "agents" / "feed.xml").read_bytes(),
        "email.eml": message.as_bytes(policy=SMTP_POLICY),
    }


@pytest.mark.parametrize(
    "name", ["issue.html", "feed.xml", "rss.xml", "theme-feed.xml", "email.eml"]
)
def test_output_matches_golden_file(outputs: dict[str, bytes], name: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_bytes(outputs[name])
    assert path.exists(), f"{path} missing; run `make golden` to create it"
    assert outputs[name] == path.read_bytes(), (
        f"{name} differs from {path}; if the change is intended, run `make golden` and review "
        "the diff"
    )
