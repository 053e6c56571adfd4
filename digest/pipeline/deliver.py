"""Webhooks of a published issue: each target in digest.toml gets it once, resumably."""

from __future__ import annotations

from dataclasses import dataclass

from digest.config import Settings, webhook_secret, webhook_url
from digest.pipeline.mail import SendReport, published_issue, send_issue
from digest.pipeline.wiring import Say, quiet
from digest.publish.tokens import unsubscribe_secret
from digest.publish.webhooks import DeliverResult, Target, WebhookPolicy, deliver
from digest.store import Store
from digest.store.webhooks import WebhookLedger


@dataclass(frozen=True)
class DeliveryReport:
    """One run of the webhooks: what it did, the ledger's totals, and POSTs of a dead run."""

    issue_id: str
    result: DeliverResult
    ledger: dict[str, int]
    interrupted: tuple[str, ...]


def webhook_targets(settings: Settings) -> list[Target]:
    """The configured targets with their URLs and keys from the environment; a missing
    variable is a ConfigError naming the field, raised before anything is published."""
    return [
        Target(
            t.name,
            t.format,
            webhook_url(t, n),
            webhook_secret(t, n) if t.format == "json" else "",
        )
        for n, t in enumerate(settings.webhooks.targets)
    ]


def deliver_issue(
    settings: Settings,
    store: Store,
    issue: str | None = None,
    resend_interrupted: bool = False,
    say: Say = quiet,
) -> DeliveryReport:
    """POST a published issue (default: the newest) to every webhook target not sent it yet;
    safe to run again."""
    targets = webhook_targets(settings)
    published = published_issue(store, issue, "deliver")
    ledger = WebhookLedger(store.engine)
    if resend_interrupted:
        ledger.requeue_interrupted(published.id)
    interrupted = tuple(ledger.interrupted(published.id))
    w = settings.webhooks
    policy = WebhookPolicy(
        timeout=w.timeout,
        deadline=w.deadline,
        max_attempts=w.max_attempts,
        retry_delay=w.retry_delay,
        max_retry_after=w.max_retry_after,
    )
    result = deliver(
        published, targets, ledger, policy, settings.site.base_url, settings.site.title, say
    )
    return DeliveryReport(published.id, result, ledger.counts(published.id), interrupted)


def ready_to_announce(settings: Settings, send: bool, webhooks: bool) -> None:
    """Refuse before publishing anything, not halfway through: the unsubscribe key when
    email goes out, each webhook's URL and key when webhooks do."""
    if send:
        unsubscribe_secret()
    if webhooks:
        webhook_targets(settings)


def announce(
    settings: Settings, store: Store, issue_id: str, send: bool, webhooks: bool, say: Say = quiet
) -> tuple[SendReport | None, DeliveryReport | None]:
    """After publishing: the issue to each webhook target, then by email to subscribers."""
    posting = webhooks and bool(settings.webhooks.targets)
    delivered = deliver_issue(settings, store, issue_id, say=say) if posting else None
    sent = send_issue(settings, store, issue_id, say=say) if send else None
    return sent, delivered
