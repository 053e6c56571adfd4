"""Sending an edition over SMTP at a steady rate, recording each delivery in a ledger."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Literal, Protocol

from digest.errors import PublishError
from digest.models import Delivery
from digest.publish.email import SMTP_POLICY, Edition, Unsubscribe


class SendError(PublishError):
    """The SMTP server could not be reached or the connection broke during a send."""


class Ledger(Protocol):
    """Where each (issue, subscriber) delivery is recorded, so each is sent at most once."""

    def due(self, issue_id: str) -> list[Delivery]:
        """Active subscribers not yet sent this issue (creating their rows)."""

    def claim(self, issue_id: str, subscriber_id: int) -> bool:
        """Mark the delivery in flight; False when the subscriber left or it is taken."""

    def release(self, issue_id: str, subscriber_id: int) -> None:
        """An in-flight delivery that certainly did not reach the server goes back to the queue."""

    def record(self, issue_id: str, subscriber_id: int, status: str, answer: str) -> None:
        """The outcome of an in-flight delivery: sent, deferred or rejected."""

    def suppress(self, subscriber_id: int, reason: str) -> None:
        """Never send to this subscriber again: the server refused the address for good."""


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server and how fast to send."""

    host: str
    port: int
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str = ""
    password: str = field(default="", repr=False)
    cafile: str = ""
    timeout: float = 30.0
    rate_per_minute: float = 60.0
    retry_delay: float = 30.0  # doubled after each temporary refusal of the same recipient
    max_attempts: int = 4


@dataclass
class SendResult:
    """What one `send` did: counts by outcome and the recipients needing attention."""

    sent: int = 0
    skipped: int = 0
    retried: list[str] = field(default_factory=list)  # answered 'try later' at least once
    deferred: dict[str, str] = field(default_factory=dict)  # still 'try later': address -> why
    rejected: dict[str, str] = field(default_factory=dict)  # refused for good: address -> why


@dataclass(frozen=True)
class _Answer(Exception):
    """A definite reply from the server refusing one message."""

    code: int
    text: str
    recipient: bool = False  # the answer to RCPT: about the address, not the message

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


class _NotSent(Exception):
    """The connection failed before DATA: the message certainly did not go."""


class _Connection:
    """One SMTP session, opened on first use and re-opened after the server hangs up."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.cafile or None)

    def open(self) -> smtplib.SMTP:
        if self.smtp is not None:
            return self.smtp
        s = self.settings
        where = f"SMTP server {s.host}:{s.port}"
        try:
            if s.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=self._context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    smtp.starttls(context=self._context())
            smtp.ehlo_or_helo_if_needed()
            if s.user:
                smtp.login(s.user, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise SendError(
                f"{where} refused the login of {s.user!r} ({exc.smtp_code}); check email.smtp_user"
                " and DIGEST_SMTP_PASSWORD"
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise SendError(
                f"{where} does not offer {'STARTTLS' if s.security == 'starttls' else 'AUTH'} "
                f"({exc}); set email.smtp_security to what the server supports"
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(
                f"could not reach {where} ({exc}); check email.smtp_host, smtp_port and "
                "smtp_security, then run `digest send` again: nothing was lost"
            ) from exc
        self.smtp = smtp
        return smtp

    def deliver(self, sender: str, recipient: str, data: bytes) -> None:
        """Send one message, or raise _Answer (a refusal) or _NotSent (no connection).

        Before DATA a broken connection is retried once on a fresh one; during DATA it
        raises SendError, since the server may or may not have taken the message.
        """
        for fresh in (False, True):
            try:
                smtp = self.open()
                code, reply = smtp.mail(sender)
                if code != 250:
                    smtp.rset()
                    raise SendError(
                        f"the server refused the sender {sender} ({code} {_text(reply)}); check "
                        "email.from and that smtp_user may send as it"
                    )
                code, reply = smtp.rcpt(recipient)
                if code not in (250, 251):
                    self._reset(code)
                    raise _Answer(code, _text(reply), recipient=True)
                break
            except (smtplib.SMTPServerDisconnected, OSError, SendError) as exc:
                self.close()
                if fresh or not isinstance(exc, OSError):
                    raise _NotSent(str(exc)) from exc
        try:
            code, reply = smtp.data(data)
        except smtplib.SMTPResponseException as exc:
            raise _Answer(exc.smtp_code, _text(exc.smtp_error)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendError(
                f"the connection broke while the server received the message for {recipient} "
                f"({exc}); it stays marked in flight and is not sent again, so nobody gets it "
                "twice (`digest send --resend-interrupted` sends it anyway). Run `digest send` "
                "to go on with the others"
            ) from exc
        if code != 250:
            raise _Answer(code, _text(reply))

    def _reset(self, code: int) -> None:
        """Ready the session for the next message; a server that answered 421 (or hung up)
        is closing it, so the next message opens a fresh one."""
        if code == 421 or self.smtp is None:
            self.close()
            return
        try:
            self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


def send_edition(
    edition: Edition,
    ledger: Ledger,
    smtp: SmtpSettings,
    sender: str,
    unsubscribe_for: Callable[[Delivery], Unsubscribe],
    say: Callable[[str], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
    edition_for: Callable[[Delivery], Edition] | None = None,
) -> SendResult:
    """Send the edition to every subscriber the ledger says is owed it, at most once each;
    edition_for, when given, picks each subscriber's edition (their topics) instead.

    A 4xx answer (a 421 that closes the session too) defers the recipient: retried within
    this run after retry_delay, doubled each time, until max_attempts; one still deferred
    then is left for the next run, with the server's answer as the reason. A 5xx answer to
    RCPT rejects the address for good: the subscriber is suppressed (status bounced). A lost
    connection before DATA is retried the same way; after max_attempts in a row the send
    stops with SendError. A subscriber who unsubscribes while the send runs is skipped.
    """
    issue_id = edition.issue.id
    result = SendResult()
    interval = 60.0 / smtp.rate_per_minute
    connection = _Connection(smtp)
    envelope_from = _envelope(sender)
    queue: list[tuple[float, Delivery]] = [(0.0, d) for d in ledger.due(issue_id)]
    next_slot = time.monotonic()
    losses = 0  # connections lost in a row
    try:
        while queue:
            queue.sort(key=lambda item: item[0])
            ready_at, delivery = queue.pop(0)
            wait = max(ready_at, next_slot) - time.monotonic()
            if wait > 0:
                sleep(wait)
            if not ledger.claim(issue_id, delivery.subscriber_id):
                result.skipped += 1
                say(f"skipped {delivery.address}: unsubscribed, or sent by another run")
                continue
            next_slot = time.monotonic() + interval
            chosen = edition_for(delivery) if edition_for is not None else edition
            message = chosen.message(
                sender,
                str(Address(delivery.name, addr_spec=delivery.address)),
                unsubscribe_for(delivery),
                f"<issue.{issue_id}.{delivery.subscriber_id}@{edition.host}>",
            )
            try:
                connection.deliver(envelope_from, delivery.address, _bytes(message))
            except _NotSent as exc:
                ledger.release(issue_id, delivery.subscriber_id)
                if isinstance(exc.__cause__, SendError):
                    raise exc.__cause__ from None
                losses += 1
                if losses >= smtp.max_attempts:
                    raise SendError(
                        f"lost the SMTP server {smtp.host}:{smtp.port} ({exc}) {losses} times in "
                        f"a row after {result.sent} messages; the rest are still queued: run "
                        "`digest send` again"
                    ) from exc
                say(f"lost the SMTP server ({exc}); trying {delivery.address} again")
                queue.append((time.monotonic() + _backoff(smtp, losses), delivery))
                continue
            except _Answer as answer:
                losses = 0
                _refused(ledger, issue_id, delivery, answer, smtp, result, queue, say)
                continue
            losses = 0
            ledger.record(issue_id, delivery.subscriber_id, "sent", "250")
            result.deferred.pop(delivery.address, None)
            result.sent += 1
            say(f"sent to {delivery.address}")
    finally:
        connection.close()
    return result


def send_one(smtp: SmtpSettings, message: EmailMessage) -> None:
    """Send one message on a connection of its own (a sign-up's confirmation).

    Raises SendError when the server cannot be reached or refuses the message.
    """
    recipient = message["To"].addresses[0].addr_spec
    connection = _Connection(smtp)
    try:
        connection.deliver(_envelope(str(message["From"])), recipient, _bytes(message))
    except (_Answer, _NotSent) as exc:
        raise SendError(f"the message to {recipient} was not sent ({exc})") from exc
    finally:
        connection.close()


def _refused(
    ledger: Ledger,
    issue_id: str,
    delivery: Delivery,
    answer: _Answer,
    smtp: SmtpSettings,
    result: SendResult,
    queue: list[tuple[float, Delivery]],
    say: Callable[[str], None],
) -> None:
    """Record a refusal; a temporary one goes back in the queue while attempts remain, and
    a permanent one of the address suppresses the subscriber."""
    attempts = delivery.attempts + 1
    address = delivery.address
    if 400 <= answer.code < 500:
        ledger.record(issue_id, delivery.subscriber_id, "deferred", str(answer))
        if address not in result.retried:
            result.retried.append(address)
        result.deferred[address] = str(answer)
        if attempts < smtp.max_attempts:
            wait = _backoff(smtp, attempts)
            say(f"{address}: {answer}; trying again in {wait:.0f} s")
            retry = Delivery(delivery.subscriber_id, address, delivery.name, attempts)
            queue.append((time.monotonic() + wait, retry))
        return
    ledger.record(issue_id, delivery.subscriber_id, "rejected", str(answer))
    result.rejected[address] = str(answer)
    if answer.recipient:
        ledger.suppress(delivery.subscriber_id, str(answer))
        say(f"{address}: {answer}; suppressed, never sent to again")


def _backoff(smtp: SmtpSettings, attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: retry_delay, doubling."""
    return float(smtp.retry_delay * 2 ** max(attempts - 1, 0))


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _envelope(sender: str) -> str:
    probe = EmailMessage()
    try:
        probe["From"] = sender
        return str(probe["From"].addresses[0].addr_spec)
    except (ValueError, IndexError) as exc:
        raise PublishError(
            f"email.from {sender!r} is not one address ({exc}); use e.g. 'digest <d@example.com>'"
        ) from exc


def _bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=SMTP_POLICY)


def summary(result: SendResult) -> Sequence[str]:
    """Lines for the operator: what happened and what to do next."""
    lines = [f"{result.sent} sent, {result.skipped} skipped (unsubscribed or already sent)"]
    if result.retried:
        lines.append(f"{len(result.retried)} answered 'try later' at least once")
    if result.deferred:
        lines.append(
            f"{len(result.deferred)} deferred, still 'try later' after every attempt; the next "
            "`digest send` tries again:"
        )
        lines += [f"  {address}: {why}" for address, why in result.deferred.items()]
    if result.rejected:
        lines.append(f"{len(result.rejected)} rejected by the server (suppressed if the address):")
        lines += [f"  {address}: {why}" for address, why in result.rejected.items()]
    return lines
