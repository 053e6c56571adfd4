"""Webhooks to a real receiver on 127.0.0.1: formats, signatures, retries, and once per target."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from digest import cli, pipeline
from digest.config import (
    Settings,
    SiteSettings,
    StoreSettings,
    WebhookSettings,
    WebhookTarget,
    load_settings,
)
from digest.errors import ConfigError
from digest.publish.chat import discord_message, slack_message
from digest.publish.draft import to_markdown
from digest.publish.issue_json import schema_text
from digest.store import Store
from digest.store.mailing import Mailing
from digest.store.webhooks import WebhookLedger
from tests.hookserver import HOLD, Post, Receiver, accept, receiver
from tests.issues import BASE_URL, PAYLOADS, hostile_issue, two_weeks, week_issue

SECRET = "hook-secret-0123456789abcdef"
KEY_ENV = "DIGEST_TEST_HOOK_KEY"


@dataclass
class Setup:
    tmp: Path
    store: Store
    issue_id: str

    def settings(self, targets: list[dict[str, str]], **webhooks: object) -> Settings:
        values: dict[str, object] = {"retry_delay": 0.05, "timeout": 5.0, **webhooks}
        return Settings(
            store=StoreSettings(url=str(self.store.engine.url)),
            site=SiteSettings(base_url=BASE_URL, dir=self.tmp / "site"),
            webhooks=WebhookSettings(
                targets=tuple(WebhookTarget(**t) for t in targets),  # type: ignore[arg-type]
                **values,  # type: ignore[arg-type]
            ),
        )


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Setup]:
    monkeypatch.setenv(KEY_ENV, SECRET)
    store = Store(f"sqlite:///{tmp_path / 'digest.db'}")
    issue = two_weeks()[0]
    store.save_issue(issue)
    yield Setup(tmp_path, store, issue.id)
    store.close()


def _targets(hooks: Receiver, *names: str) -> list[dict[str, str]]:
    """A target per name: 'slack' and 'discord' in their format, any other as signed JSON."""
    found = []
    for name in names:
        kind = name if name in ("slack", "discord") else "json"
        target = {"name": name, "format": kind, "url": hooks.url(f"/{name}")}
        found.append(target | ({"secret_env": KEY_ENV} if kind == "json" else {}))
    return found


def _slack_shape(message: dict[str, Any]) -> None:
    """Slack's documented limits for an incoming webhook's Block Kit message."""
    assert isinstance(message["text"], str) and message["text"]
    blocks = message["blocks"]
    assert 0 < len(blocks) <= 50
    for block in blocks:
        assert block["type"] in ("header", "section", "context", "divider")
        if block["type"] == "header":
            assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert block["text"]["type"] == "mrkdwn" and 0 < len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert all(e["type"] == "mrkdwn" for e in block["elements"])


def _discord_shape(message: dict[str, Any]) -> None:
    """Discord's documented limits for an execute-webhook body."""
    assert 0 < len(message["content"]) <= 2000
    assert message["allowed_mentions"] == {"parse": []}  # no @everyone, role or user pings
    embeds = message["embeds"]
    assert len(embeds) <= 10
    total = 0
    for embed in embeds:
        assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
        assert embed["url"].startswith(BASE_URL)
        total += len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    assert total <= 6000


def test_each_target_gets_the_issue_once_in_its_own_format(setup: Setup) -> None:
    with receiver(SECRET, {"/json": accept, "/slack": accept, "/discord": accept}) as hooks:
        settings = setup.settings(_targets(hooks, "json", "slack", "discord"))
        first = pipeline.deliver_issue(settings, setup.store)
        again = pipeline.deliver_issue(settings, setup.store)
    assert sorted(first.result.sent) == ["discord", "json", "slack"]
    assert again.result.sent == [] and sorted(again.result.skipped) == ["discord", "json", "slack"]
    assert first.ledger == {"sent": 3}
    assert [len(hooks.accepted_by(f"/{n}")) for n in ("json", "slack", "discord")] == [1, 1, 1]

    (signed,) = hooks.accepted_by("/json")
    assert hooks.signed(signed)
    body = signed.json()
    assert body["event"] == "issue.published" and body["delivery"] == f"{setup.issue_id}:json"
    assert signed.headers["X-Digest-Delivery"] == f"{setup.issue_id}:json"
    jsonschema.Draft202012Validator(json.loads(schema_text())).validate(body["issue"])
    assert body["issue"]["id"] == setup.issue_id
    # the timestamp is signed too: a replay under a fresh timestamp fails the check
    replayed = {**signed.headers, "X-Digest-Timestamp": str(int(time.time()) + 1)}
    assert not hooks.signed(Post(signed.path, replayed, signed.body))
    assert not hooks.signed(Post(signed.path, signed.headers, signed.body + b" "))

    (slack,) = hooks.accepted_by("/slack")
    (discord,) = hooks.accepted_by("/discord")
    assert "X-Digest-Signature" not in slack.headers | discord.headers
    _slack_shape(slack.json())
    _discord_shape(discord.json())
    issue_url = f"{BASE_URL}issues/{setup.issue_id}/"
    assert issue_url in slack.body.decode() and issue_url in discord.json()["content"]
    assert "Coding agents ship to everyone" in slack.body.decode()


def test_failures_are_retried_with_backoff_and_refusals_tried_next_run(setup: Setup) -> None:
    def flaky(post: Post, before: int) -> int:
        return 503 if before < 2 else 200

    refusing = {"on": True}

    def gone(post: Post, before: int) -> int:
        return 410 if refusing["on"] else 200

    with receiver(SECRET, {"/flaky": flaky, "/gone": gone}) as hooks:
        settings = setup.settings(_targets(hooks, "flaky", "gone"))
        first = pipeline.deliver_issue(settings, setup.store)
        statuses = WebhookLedger(setup.store.engine).statuses(setup.issue_id)
        refusing["on"] = False
        second = pipeline.deliver_issue(settings, setup.store)
    assert first.result.sent == ["flaky"] and list(first.result.rejected) == ["gone"]
    assert statuses["flaky"][:2] == ("sent", 3)  # two 503s, then taken
    assert statuses["gone"][0] == "rejected" and "410" in statuses["gone"][2]
    assert second.result.sent == ["gone"] and second.result.skipped == ["flaky"]
    assert len(hooks.accepted_by("/flaky")) == 1 and len(hooks.accepted_by("/gone")) == 1
    assert all(hooks.signed(p) for p in hooks.posts)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_receiver_down_is_deferred_then_delivered_once_it_is_up(setup: Setup) -> None:
    port = _free_port()
    target = {
        "name": "later",
        "format": "json",
        "url": f"http://127.0.0.1:{port}/later",
        "secret_env": KEY_ENV,
    }
    settings = setup.settings([target], max_attempts=2)
    down = pipeline.deliver_issue(settings, setup.store)
    assert list(down.result.deferred) == ["later"] and down.ledger == {"deferred": 1}
    with receiver(SECRET, {"/later": accept}, port=port) as hooks:
        up = pipeline.deliver_issue(settings, setup.store)
        pipeline.deliver_issue(settings, setup.store)
    assert up.result.sent == ["later"] and len(hooks.accepted_by("/later")) == 1


def test_kill_9_mid_delivery_then_rerun_gives_each_target_exactly_one(setup: Setup) -> None:
    def hold_first(post: Post, before: int) -> int:
        return HOLD if before == 0 else 200

    routes = {"/first": accept, "/held": hold_first, "/slack": accept, "/discord": accept}
    with receiver(SECRET, routes) as hooks:
        targets = _targets(hooks, "first", "held", "slack", "discord")
        config = setup.tmp / "digest.toml"
        lines = [
            f'[store]\nurl = "{setup.store.engine.url}"',
            f'[site]\nbase_url = "{BASE_URL}"',
            "[webhooks]\nretry_delay = 0.05\ntimeout = 30.0",
            *(
                "[[webhooks.targets]]\n" + "\n".join(f'{k} = "{v}"' for k, v in t.items())
                for t in targets
            ),
        ]
        config.write_text("\n".join(lines) + "\n")
        runner = subprocess.Popen(
            [sys.executable, "-m", "digest.cli", "deliver", "--config", str(config)],
            env={**os.environ, KEY_ENV: SECRET},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while not hooks.accepted_by("/held") and time.monotonic() < deadline:
                hooks.arrived.wait(0.2)
        finally:
            os.kill(runner.pid, signal.SIGKILL)
        assert runner.wait(timeout=60) == -signal.SIGKILL
        assert [len(hooks.accepted_by(f"/{n}")) for n in ("first", "held", "slack")] == [1, 1, 0]
        rerun = pipeline.deliver_issue(load_settings(config), setup.store)
        again = pipeline.deliver_issue(load_settings(config), setup.store)
    counts = [len(hooks.accepted_by(f"/{t['name']}")) for t in targets]
    assert counts == [1, 1, 1, 1]  # each target got the issue exactly once
    assert rerun.interrupted == ("held",)  # in flight when the run died: not sent again
    assert sorted(rerun.result.sent) == ["discord", "slack"]
    assert again.result.sent == [] and rerun.ledger == {"sent": 3, "sending": 1}
    assert all(hooks.signed(p) for p in hooks.posts if p.path in ("/first", "/held"))


def test_webhook_settings_are_checked_with_the_field_named(
    tmp_path: Path, setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "bad.toml"
    for body, expected in (
        ('name = "a"\nformat = "json"\nurl = "https://x.example/"', "secret_env is required"),
        ('name = "a"\nformat = "slack"', "exactly one of url and url_env"),
        ('name = "a"\nformat = "teams"\nurl = "https://x.example/"', "webhooks.targets.0.format"),
        ('name = "A b"\nformat = "slack"\nurl = "https://x.example/"', "webhooks.targets.0.name"),
        ('name = "a"\nformat = "slack"\nurl = "ftp://x.example/"', "webhooks.targets.0.url"),
    ):
        config.write_text(f"[[webhooks.targets]]\n{body}\n")
        with pytest.raises(ConfigError, match=expected) as caught:
            load_settings(config)
        assert "webhooks.targets.0" in str(caught.value)
    config.write_text(
        '[[webhooks.targets]]\nname = "a"\nformat = "slack"\nurl = "https://x.example/"\n' * 2
    )
    with pytest.raises(ConfigError, match="a appear twice"):
        load_settings(config)

    monkeypatch.delenv(KEY_ENV)
    missing = setup.settings(
        [{"name": "a", "format": "slack", "url_env": "DIGEST_TEST_NO_SUCH_URL"},
         {"name": "b", "format": "json", "url": "https://x.example/", "secret_env": KEY_ENV}]
    )  # fmt: skip
    with pytest.raises(
        ConfigError, match=r"webhooks\.targets\.0\.url_env: DIGEST_TEST_NO_SUCH_URL"
    ):
        pipeline.deliver_issue(missing, setup.store)
    monkeypatch.setenv("DIGEST_TEST_NO_SUCH_URL", "https://hooks.example/")
    with pytest.raises(ConfigError, match=rf"webhooks\.targets\.1\.secret_env: {KEY_ENV} is not"):
        pipeline.deliver_issue(missing, setup.store)
    # publish refuses before it publishes anything
    with pytest.raises(ConfigError, match="secret_env"):
        pipeline.publish_draft(missing, setup.store, send=False)
    assert not (setup.tmp / "site").exists()


def test_chat_messages_never_ping_or_link_what_a_source_wrote() -> None:
    issue = hostile_issue()
    issue = replace(issue, title=f"<!channel> @everyone {issue.title}", intro="@here <@U123> hi")
    slack = slack_message(issue, BASE_URL, "digest")
    _slack_shape(slack)
    mrkdwn = [slack["text"]] + [
        t["text"]
        for b in slack["blocks"]
        for t in [b.get("text", {}), *b.get("elements", [])]
        if t.get("type", "mrkdwn") == "mrkdwn" and "text" in t
    ]
    assert len(mrkdwn) > 3
    for text in mrkdwn:  # Slack reads <...> as a link or a ping: only digest's own links
        assert text.count("<") == text.count(f"<{BASE_URL}")
        assert "<!channel>" not in text and "<@U123>" not in text
    discord = discord_message(issue, BASE_URL, "digest")
    _discord_shape(discord)
    assert "\\@everyone" in discord["content"] and "@everyone" not in discord["content"].replace(
        "\\@everyone", ""
    )
    assert PAYLOADS[0] not in json.dumps(discord)  # markdown and markup arrive escaped


def test_a_long_issue_fits_slack_and_discord_limits() -> None:
    themes = {f"Theme{n} " + "long " * 40: [f"Story {n} " + "word " * 400] for n in range(60)}
    issue = week_issue(date(2026, 11, 16), themes, "A title " * 40)
    issue = replace(issue, intro="An intro " * 800)
    _slack_shape(slack_message(issue, BASE_URL, "digest"))
    _discord_shape(discord_message(issue, BASE_URL, "digest"))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_ledger_hands_each_target_out_once_on_both_databases(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("postgres_url")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'digest.db'}"
    )
    store = Store(url)
    try:
        ledger = WebhookLedger(store.engine)
        assert ledger.due("2026-w47", ["a", "b", "c"]) == ["a", "b", "c"]
        assert ledger.due("2026-w47", ["c", "a"]) == ["c", "a"]  # rows made once, config order
        assert ledger.claim("2026-w47", "a") and not ledger.claim("2026-w47", "a")
        ledger.record("2026-w47", "a", "sent", "200 ok")
        assert ledger.claim("2026-w47", "b")  # then the run dies: b stays in flight
        ledger.record("2026-w47", "c", "rejected", "410 gone")
        assert ledger.due("2026-w47", ["a", "b", "c"]) == ["c"]
        assert ledger.interrupted("2026-w47") == ["b"]
        assert ledger.requeue_interrupted("2026-w47") == 1
        assert ledger.due("2026-w47", ["a", "b", "c"]) == ["b", "c"]
        assert ledger.statuses("2026-w47")["a"] == ("sent", 1, "200 ok")
    finally:
        store.close()


def test_digest_publish_posts_the_edited_draft_and_digest_deliver_resumes(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    issue = two_weeks()[1]  # a week not published yet
    Mailing(setup.store.engine).save_draft(issue)
    drafts = setup.tmp / "drafts"
    drafts.mkdir()
    edited = to_markdown(issue).replace("leads the week", "is the story of the week")
    (drafts / f"{issue.id}.md").write_text(edited)
    down = {"on": True}

    def maybe(post: Post, before: int) -> int:
        return 503 if down["on"] else 200

    with receiver(SECRET, {"/json": accept, "/slack": maybe}) as hooks:
        config = setup.tmp / "digest.toml"
        targets = "".join(
            "[[webhooks.targets]]\n" + "".join(f'{k} = "{v}"\n' for k, v in t.items())
            for t in _targets(hooks, "json", "slack")
        )
        config.write_text(
            f'[store]\nurl = "{setup.store.engine.url}"\n'
            f'[site]\nbase_url = "{BASE_URL}"\ndir = "site"\ndrafts = "drafts"\n'
            f"[webhooks]\nretry_delay = 0.01\nmax_attempts = 2\n{targets}"
        )
        lines: list[str] = []
        monkeypatch.setattr(
            cli.console, "print", lambda *a, **_: lines.append(" ".join(map(str, a)))
        )
        assert cli.main(["publish", "--config", str(config), "--no-email", "--force"]) == 0
        down["on"] = False
        assert cli.main(["deliver", "--config", str(config), "--week", "2026-W46"]) == 0
        assert cli.main(["deliver", "--config", str(config), "--week", "2026-W46"]) == 0
    output = "\n".join(lines)
    assert "webhooks: 1 sent" in output and "slack: deferred" in output
    assert "issue 2026-w46 so far: 2 sent" in output
    (posted,) = hooks.accepted_by("/json")
    assert posted.json()["issue"]["sections"][0]["headline"].endswith("is the story of the week")
    assert len(hooks.accepted_by("/slack")) == 1 and len(hooks.posts) == 4  # 2 x 503, 1, 1
    on_site = json.loads((setup.tmp / "site" / "issues" / f"{issue.id}.json").read_text())
    assert on_site == posted.json()["issue"]
