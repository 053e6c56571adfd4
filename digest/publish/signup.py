"""Sign-ups from the site's form: rate limits, signed confirmation links and their emails."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol

from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from digest.errors import PublishError
from digest.publish.headers import set_header
from digest.publish.render import render
from digest.publish.send import SmtpSettings, send_one

log = logging.getLogger("digest.serve")
_SALT = "digest-signup-confirm"
_OUTBOX_SIZE = 200


class SignupBook(Protocol):
    """Where pending sign-ups wait for their link (the store's Signups is one)."""

    def request(self, address: str) -> str | None: ...
    def address(self, nonce: str) -> str | None: ...
    def confirm(self, nonce: str) -> str | None: ...


@dataclass(frozen=True)
class SignupPolicy:
    """How often one client and one address may sign up, and how long a link stays valid."""

    per_client: str = "5/hour"
    per_address: str = "3/day"
    valid: timedelta = timedelta(hours=48)


@dataclass(frozen=True)
class Letters:
    """What the confirmation emails say and who sends them."""

    env: Environment
    site_title: str
    sender: str
    confirm_url: str  # the page a link opens, without its token

    def compose(self, address: str, link: str, valid: timedelta) -> EmailMessage:
        """A plain-text email: the confirmation link, or (link empty) a note that the address
        already receives the newsletter."""
        message = EmailMessage()
        title = " ".join(self.site_title.split())
        subject = (
            f"Confirm your subscription to {title}" if link else f"You already receive {title}"
        )
        set_header(message, "Subject", subject)
        set_header(message, "From", self.sender)
        set_header(message, "To", str(Address(addr_spec=address)))
        set_header(message, "Date", format_datetime(datetime.now(UTC)))
        set_header(message, "Message-ID", make_msgid(domain="digest.invalid"))
        hours = round(valid.total_seconds() / 3600)
        message.set_content(
            render(self.env, "signup_email.txt", site_title=title, link=link, hours=hours)
        )
        return message


class Outbox:
    """Sends the sign-up emails one at a time from a thread of its own, so that no answer
    waits for SMTP (and none takes longer for one address than for another)."""

    def __init__(self, smtp: SmtpSettings, size: int = _OUTBOX_SIZE) -> None:
        self.smtp = smtp
        self.queue: queue.Queue[EmailMessage | None] = queue.Queue(size)
        self.thread = threading.Thread(target=self._run, name="digest-signup-mail", daemon=True)
        self.thread.start()

    def post(self, message: EmailMessage) -> None:
        try:
            self.queue.put_nowait(message)
        except queue.Full:
            log.warning("sign-up email to %s dropped: the outbox is full", message["To"])

    def close(self, wait: float = 10.0) -> None:
        """Send what is queued (for at most `wait` seconds), then stop."""
        try:
            self.queue.put(None, timeout=wait)
        except queue.Full:
            return
        self.thread.join(wait)

    def _run(self) -> None:
        while (message := self.queue.get()) is not None:
            try:
                send_one(self.smtp, message)
                log.info("sign-up email sent to %s", message["To"])
            except PublishError as exc:  # SendError, or a bad email.from
                log.warning("sign-up email not sent: %s", exc)
            except Exception:  # the outbox must outlive any one message
                log.exception("sign-up email to %s failed", message["To"])


class SignupDesk:
    """Handles the subscribe form and confirmation links for `digest serve`."""

    def __init__(
        self,
        signups: SignupBook,
        secret: bytes,
        letters: Letters,
        outbox: Outbox,
        policy: SignupPolicy,
    ) -> None:
        self.signups = signups
        self.letters = letters
        self.outbox = outbox
        self.policy = policy
        self.serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.per_client: RateLimitItem = parse(policy.per_client)
        self.per_address: RateLimitItem = parse(policy.per_address)

    def client_allowed(self, client: str) -> bool:
        """Counts one sign-up from this client; False once it is over its rate."""
        return self.limiter.hit(self.per_client, "client", client)

    def request(self, address: str) -> None:
        """Queue a confirmation link for the address, or a note when it already receives the
        newsletter; nothing when the address was asked for too often. The caller's answer is
        the same in every case, so it tells no one whether an address is subscribed."""
        address = address.lower()
        if not self.limiter.hit(self.per_address, "address", address):
            log.info("sign-up for %s not mailed: over serve.signups_per_address", address)
            return
        nonce = self.signups.request(address)
        link = f"{self.letters.confirm_url}?token={self.serializer.dumps(nonce)}" if nonce else ""
        self.outbox.post(self.letters.compose(address, link, self.policy.valid))

    def _nonce(self, token: str) -> str | None:
        try:
            nonce = self.serializer.loads(token, max_age=int(self.policy.valid.total_seconds()))
        except BadSignature:  # includes an expired signature
            return None
        return nonce if isinstance(nonce, str) else None

    def pending_address(self, token: str) -> str | None:
        """The address a valid, unused confirmation link is for."""
        nonce = self._nonce(token)
        return self.signups.address(nonce) if nonce else None

    def confirm(self, token: str) -> str | None:
        """Subscribe the address the link is for; None when the link is invalid or used."""
        nonce = self._nonce(token)
        address = self.signups.confirm(nonce) if nonce else None
        if address:
            log.info("sign-up confirmed: %s", address)
        return address
