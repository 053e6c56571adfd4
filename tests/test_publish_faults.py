"""Faults of the publish side found by probing (issue 16, items 11-15), on real servers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from digest.config import load_settings
from digest.store import Store
from tests.publish_week import SECRET, WEEK, rewrite_titles, served_week
from tests.smtp import smtp_server

# An encoded word that decodes to CR LF and a header line of its own.
INJECTED = "=?UTF-8?Q?=0D=0ABcc:_attacker@evil.example?="


def _inject(title: str) -> str:
    # after the first word: a headline-cleaning step strips what looks like a prefix
    first, _, rest = title.partition(" ")
    return f"{first} {INJECTED} {rest}"


def test_encoded_words_from_a_feed_or_a_name_add_no_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_UNSUBSCRIBE_SECRET", SECRET)
    readers = tmp_path / "readers.csv"
    readers.write_text(f"name,email\nEve {INJECTED},eve@example.net\nBo,bo@example.net\n")
    with (
        served_week(tmp_path, lambda xml: rewrite_titles(xml, _inject)) as week,
        smtp_server(tmp_path) as server,
    ):
        config = week.config
        text = config.read_text().replace(
            "[email]\n",
            f'[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {server.port}\n'
            'smtp_security = "none"\nrate_per_minute = 60000.0\n',
        )
        config.write_text(text)
        assert week.digest(monkeypatch, "crawl")[0] == 0
        assert week.digest(monkeypatch, "subscribers", "import", str(readers))[0] == 0
        assert week.digest(monkeypatch, "build", "--week", WEEK)[0] == 0
        # A title as a writer or an editor may leave it: the encoded word in the subject.
        settings = load_settings(config)
        store = Store(settings.store.url, create=False)
        issue = store.issues()[0]
        store.save_issue(replace(issue, title=f"Week 47: {INJECTED} news"))
        store.close()
        code, out = week.digest(monkeypatch, "send")
    assert code == 0, out
    assert sorted(server.inbox.recipients()) == ["bo@example.net", "eve@example.net"]
    for rcpt, message in server.inbox.messages:
        assert message["Bcc"] is None, rcpt
        for name, value in message.items():
            assert "\n" not in str(value) and "\r" not in str(value), name
    eve = next(m for r, m in server.inbox.messages if r == "eve@example.net")
    assert [a.addr_spec for a in eve["To"].addresses] == ["eve@example.net"]
    assert "Bcc: attacker@evil.example" in str(eve["Subject"])  # told as text, on one line
