"""Email of a published issue: sending it to subscribers (each with their topics), and
honouring unsubscribe links and topic choices."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from digest.config import Settings
from digest.errors import PublishError
from digest.models import Delivery, Issue
from digest.pipeline.pages import site_records
from digest.pipeline.wiring import Say, publish_settings, quiet, smtp_settings
from digest.publish import prepare
from digest.publish.email import Edition, Unsubscribe, unsubscribe_mailto
from digest.publish.preferences import issue_for_topics, topic_choices
from digest.publish.send import SendResult, send_edition
from digest.publish.tokens import make_token, token_matches, token_subscriber, unsubscribe_secret
from digest.store import Store
from digest.store.mailing import Mailing


@dataclass(frozen=True)
class SendReport:
    """One `send`: what happened, the ledger's totals, and messages of a dead run left alone."""

    issue_id: str
    result: SendResult
    ledger: dict[str, int]
    interrupted: tuple[str, ...]


def send_issue(
    settings: Settings,
    store: Store,
    issue: str | None = None,
    resend_interrupted: bool = False,
    say: Say = quiet,
) -> SendReport:
    """Email a published issue to every subscriber not sent it yet; safe to run again."""
    secret = unsubscribe_secret()
    published = published_issue(store, issue, "send")
    mailing = Mailing(store.engine)
    if resend_interrupted:
        mailing.requeue_interrupted(published.id)
    interrupted = tuple(mailing.interrupted(published.id))
    site = publish_settings(settings)
    mailto = unsubscribe_mailto(site.unsubscribe_mailto, site.email_from)

    def unsubscribe_for(d: Delivery) -> Unsubscribe:
        token = make_token(secret, d.subscriber_id, d.address)
        return Unsubscribe(f"{site.unsubscribe_url}?token={token}", mailto, token)

    records = site_records(store, store.issues())  # an update links its story's page
    editions: dict[tuple[str, ...], Edition] = {(): prepare(published, site, True, records=records)}
    names = dict(topic_choices([published]))

    def edition_for(d: Delivery) -> Edition:
        """The subscriber's edition: the issue cut to their topics, rendered once per choice."""
        topics = mailing.topics(d.subscriber_id)
        if topics not in editions:
            chosen = ", ".join(names[t] for t in topics if t in names)
            note = (
                f"Only the topics you chose, after the week's top story: {chosen}."
                if chosen
                else "None of the topics you chose is in this issue; here is its top story."
            )
            chosen_issue = issue_for_topics(published, topics)
            editions[topics] = prepare(chosen_issue, site, True, note, records=records)
        return editions[topics]

    result = send_edition(
        editions[()],
        mailing,
        smtp_settings(settings),
        settings.email.sender,
        unsubscribe_for,
        say,
        edition_for=edition_for,
    )
    return SendReport(published.id, result, mailing.counts(published.id), interrupted)


def published_issue(store: Store, issue: str | None, to: str) -> Issue:
    """The published issue `issue` (default: the newest), to `to` ("send", "deliver")."""
    published = store.issue(issue) if issue else next(iter(store.issues()), None)
    if published is None:
        raise PublishError(
            f"no published issue {issue or ''} to {to}; publish it first with `digest publish`"
        )
    return published


def unsubscriber(store: Store) -> Callable[[str, bool], bool]:
    """What `digest serve` calls with a token: is it valid, and (apply) unsubscribe them."""
    secret = unsubscribe_secret()
    mailing = Mailing(store.engine)

    def check(token: str, apply: bool) -> bool:
        subscriber_id = token_subscriber(token)
        found = mailing.subscriber(subscriber_id) if subscriber_id is not None else None
        if found is None or not token_matches(secret, token, found.id, found.address):
            return False
        if apply:
            mailing.unsubscribe(found.id)
        return True

    return check


@dataclass(frozen=True)
class TopicPreferences:
    """What `digest serve`'s topics page reads and keeps: the same signed token as the
    unsubscribe link names the subscriber; the topics are those published issues have had."""

    store: Store
    secret: bytes

    def subscriber(self, token: str) -> int | None:
        subscriber_id = token_subscriber(token)
        mailing = Mailing(self.store.engine)
        found = mailing.subscriber(subscriber_id) if subscriber_id is not None else None
        if found is None or not token_matches(self.secret, token, found.id, found.address):
            return None
        return found.id

    def choices(self) -> list[tuple[str, str]]:
        return topic_choices(self.store.issues())

    def chosen(self, subscriber_id: int) -> tuple[str, ...]:
        return Mailing(self.store.engine).topics(subscriber_id)

    def choose(self, subscriber_id: int, slugs: Sequence[str]) -> None:
        Mailing(self.store.engine).choose_topics(subscriber_id, slugs)
