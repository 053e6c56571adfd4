"""Alerts to the editor, by email or webhook, each sent once: a failed run, a source down a day."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

import httpx

from digest.config import Settings, smtp_password
from digest.pipeline import RunLog, set_header

_log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Alert:
    """Something the editor must hear about; `key` makes sure it is sent only once."""

    key: str
    event: str  # run_failed, source_failing
    subject: str
    text: str


class Alerter:
    """Sends alerts to [alerts] email and/or webhook; always logs them too."""

    def __init__(self, settings: Settings, ledger: RunLog, clock: Clock) -> None:
        self.settings = settings
        self.ledger = ledger
        self.clock = clock

    @property
    def channels(self) -> tuple[str, ...]:
        a = self.settings.alerts
        named = (("webhook", a.webhook), ("email", a.email))
        return tuple(f"{kind} {where}" for kind, where in named if where)

    def send(self, alert: Alert) -> bool:
        """Deliver once; False when it was sent before or no channel took it."""
        if not self.ledger.claim_alert(alert.key, self.clock()):
            return False
        _log.error("alert: %s: %s", alert.subject, alert.text)
        a = self.settings.alerts
        delivered = False
        if a.webhook:
            delivered |= self._deliver("webhook", lambda: self._post(a.webhook, alert))
        if a.email:
            delivered |= self._deliver("email", lambda: self._mail(a.email, alert))
        if (a.webhook or a.email) and not delivered:
            # Nobody heard it: let the next occasion try again.
            self.ledger.forget_alert(alert.key)
        return delivered

    def _deliver(self, channel: str, attempt: Callable[[], None]) -> bool:
        try:
            attempt()
        except (OSError, smtplib.SMTPException, httpx.HTTPError) as exc:
            _log.error("could not send the alert by %s: %s; check [alerts]", channel, exc)
            return False
        return True

    def _post(self, url: str, alert: Alert) -> None:
        payload = {
            "text": f"{alert.subject}\n{alert.text}",
            "event": alert.event,
            "subject": alert.subject,
            "detail": alert.text,
            "newsletter": self.settings.site.title,
        }
        httpx.post(url, json=payload, timeout=10.0).raise_for_status()

    def _mail(self, to: str, alert: Alert) -> None:
        e = self.settings.email
        message = EmailMessage()
        set_header(message, "From", e.sender)
        set_header(message, "To", to)
        set_header(message, "Subject", f"[{self.settings.site.title}] {alert.subject}")
        message.set_content(alert.text + "\n")
        with smtplib.SMTP(e.smtp_host, e.smtp_port, timeout=20) as smtp:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls()
                smtp.ehlo()
            if e.smtp_user:
                smtp.login(e.smtp_user, smtp_password())
            smtp.send_message(message)
