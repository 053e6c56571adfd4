"""POSTing a published issue to webhook targets: signed, bounded, retried, each once per issue."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Protocol

import httpx

from digest.models import Issue
from digest.publish.chat import discord_message, slack_message
from digest.publish.issue_json import issue_document

EVENT = "issue.published"
SIGNATURE_HEADER = "X-Digest-Signature"
TIMESTAMP_HEADER = "X-Digest-Timestamp"
DELIVERY_HEADER = "X-Digest-Delivery"
# Failures before the whole body reached the receiver: it cannot have taken the message.
_NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)
_ANSWER_BYTES = 2048  # of the receiver's answer, kept as the ledger's note


class WebhookLedger(Protocol):
    """Where each (issue, target) delivery is recorded, so each target gets an issue once."""

    def due(self, issue_id: str, targets: Sequence[str]) -> list[str]:
        """The targets still owed this issue (creating their rows)."""

    def claim(self, issue_id: str, target: str) -> bool:
        """Mark the delivery in flight; False when it was sent or another run holds it."""

    def record(self, issue_id: str, target: str, status: str, answer: str) -> None:
        """The outcome of an in-flight delivery: sent, deferred or rejected."""


@dataclass(frozen=True)
class Target:
    """One webhook: its name (the ledger's key), the message format, the URL and its key."""

    name: str
    format: Literal["slack", "discord", "json"]
    url: str = field(repr=False)  # Slack's and Discord's URLs are secrets themselves
    secret: str = field(default="", repr=False)  # json: the HMAC-SHA256 key


@dataclass(frozen=True)
class WebhookPolicy:
    """How long one POST may take and how often a target is tried within one run."""

    timeout: float = 10.0  # to connect, to send, and between bytes of the answer
    deadline: float = 30.0  # for the whole POST
    max_attempts: int = 4
    retry_delay: float = 5.0  # doubled after each failed try
    max_retry_after: float = 120.0  # a longer Retry-After leaves the target to the next run


@dataclass
class DeliverResult:
    """What one run did, per target name."""

    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sent before, or held by another run
    deferred: dict[str, str] = field(default_factory=dict)  # still failing: the next run retries
    rejected: dict[str, str] = field(default_factory=dict)  # refused (4xx): fix the target
    unknown: dict[str, str] = field(default_factory=dict)  # sent, but no answer: not resent


@dataclass(frozen=True)
class _Outcome:
    status: Literal["sent", "retry", "rejected", "unknown"]
    answer: str
    retry_after: float | None = None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 over `<timestamp>.<body>`, in hex."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def message(target: Target, issue: Issue, base_url: str, site_title: str) -> dict[str, Any]:
    """The JSON body a target gets: a Slack or Discord message, or the issue document."""
    if target.format == "slack":
        return slack_message(issue, base_url, site_title)
    if target.format == "discord":
        return discord_message(issue, base_url, site_title)
    return {
        "event": EVENT,
        "delivery": f"{issue.id}:{target.name}",
        "issue": issue_document(issue, base_url),
    }


def _headers(target: Target, issue_id: str, body: bytes, now: float) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": "digest-webhook/1"}
    if target.format == "json":
        timestamp = str(int(now))
        headers |= {
            "X-Digest-Event": EVENT,
            DELIVERY_HEADER: f"{issue_id}:{target.name}",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(target.secret, timestamp, body),
        }
    return headers


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _post(
    client: httpx.Client, url: str, body: bytes, headers: dict[str, str], deadline: float
) -> _Outcome:
    """One POST. Failing to connect or to send the body certainly delivered nothing (retry);
    losing the answer after the body went out may have delivered it (unknown)."""
    started = time.monotonic()
    try:
        with client.stream("POST", url, content=body, headers=headers) as response:
            answer = b""
            for chunk in response.iter_bytes():
                answer += chunk
                if len(answer) >= _ANSWER_BYTES or time.monotonic() - started > deadline:
                    break
    except _NOT_SENT as exc:
        return _Outcome("retry", f"not delivered: {type(exc).__name__}: {exc}")
    except httpx.HTTPError as exc:
        why = f"{type(exc).__name__}: {exc}"
        return _Outcome("unknown", f"no answer after the body was sent ({why})")
    code = response.status_code
    said = f"{code} {answer[:200].decode(errors='replace').strip()}".strip()
    if 200 <= code < 300:
        return _Outcome("sent", said)
    if code in (408, 425, 429) or code >= 500:
        return _Outcome("retry", said, _retry_after(response.headers.get("Retry-After")))
    if 300 <= code < 400:
        where = response.headers.get("Location", "")
        return _Outcome("rejected", f"{code}: redirects are not followed; use {where!r} instead")
    return _Outcome("rejected", said)


def deliver(
    issue: Issue,
    targets: Sequence[Target],
    ledger: WebhookLedger,
    policy: WebhookPolicy,
    base_url: str,
    site_title: str,
    say: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliverResult:
    """POST the issue to every target the ledger says is owed it, at most once each.

    A 5xx, 408, 429 or a failed connection is retried within the run after retry_delay,
    doubled each time (or the receiver's Retry-After), up to max_attempts; a target still
    failing is left deferred for the next run. Another 4xx (or a redirect) is rejected, also
    tried again next run. A POST whose answer never came may have been received: it stays in
    flight and is not resent.
    """
    result = DeliverResult()
    by_name = {t.name: t for t in targets}
    owed = ledger.due(issue.id, [t.name for t in targets])
    result.skipped = [t.name for t in targets if t.name not in owed]
    queue: list[tuple[float, int, Target]] = [(0.0, 0, by_name[name]) for name in owed]
    timeout = httpx.Timeout(policy.timeout)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        while queue:
            queue.sort(key=lambda item: item[0])
            ready_at, tries, target = queue.pop(0)
            if (wait := ready_at - time.monotonic()) > 0:
                sleep(wait)
            if not ledger.claim(issue.id, target.name):
                result.skipped.append(target.name)
                continue
            body = json.dumps(message(target, issue, base_url, site_title)).encode()
            headers = _headers(target, issue.id, body, time.time())
            outcome = _post(client, target.url, body, headers, policy.deadline)
            tries += 1
            if outcome.status == "unknown":
                result.unknown[target.name] = outcome.answer
                say(f"{target.name}: {outcome.answer}; left in flight, not resent")
                continue
            if outcome.status == "sent":
                ledger.record(issue.id, target.name, "sent", outcome.answer)
                result.sent.append(target.name)
                result.deferred.pop(target.name, None)
                say(f"{target.name}: sent ({outcome.answer})")
                continue
            if outcome.status == "rejected":
                ledger.record(issue.id, target.name, "rejected", outcome.answer)
                result.rejected[target.name] = outcome.answer
                result.deferred.pop(target.name, None)
                say(f"{target.name}: refused ({outcome.answer}); the next run tries again")
                continue
            ledger.record(issue.id, target.name, "deferred", outcome.answer)
            result.deferred[target.name] = outcome.answer
            backoff = policy.retry_delay * 2 ** (tries - 1)
            wait = backoff if outcome.retry_after is None else outcome.retry_after
            if tries < policy.max_attempts and wait <= policy.max_retry_after:
                say(f"{target.name}: {outcome.answer}; trying again in {wait:.0f} s")
                queue.append((time.monotonic() + wait, tries, target))
            else:
                say(f"{target.name}: {outcome.answer}; deferred to the next run")
    return result
