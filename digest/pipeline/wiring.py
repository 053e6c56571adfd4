"""What the pipeline hands each stage from digest.toml: fetch policy, publish and SMTP settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from digest.config import Settings, smtp_password
from digest.crawl.http import FetchPolicy
from digest.publish import PublishSettings
from digest.publish.send import SmtpSettings

Say = Callable[[str], None]  # where the pipeline says what it is doing (a progress line)


def quiet(_: str) -> None:
    """A Say that says nothing."""


def fetch_policy(settings: Settings, extra_hosts: Sequence[str] = ()) -> FetchPolicy:
    c = settings.crawl
    return FetchPolicy(
        connect_timeout=c.connect_timeout,
        read_timeout=c.read_timeout,
        deadline=c.deadline,
        max_bytes=c.max_bytes,
        concurrency=c.concurrency,
        allowed_hosts=frozenset((*c.allowed_hosts, *extra_hosts)),
        per_host=c.per_host,
        host_delay=c.host_delay,
        max_redirects=c.max_redirects,
        retry_wait=c.retry_wait,
        max_retry_after=c.max_retry_after,
    )


def publish_settings(settings: Settings) -> PublishSettings:
    s = settings.site
    return PublishSettings(
        site_dir=s.dir,
        email_dir=settings.email.dir,
        base_url=s.base_url,
        site_title=s.title,
        template_dir=s.templates,
        email_from=settings.email.sender,
        email_to=settings.email.to,
        unsubscribe_mailto=settings.email.unsubscribe_mailto,
    )


def smtp_settings(settings: Settings) -> SmtpSettings:
    e = settings.email
    return SmtpSettings(
        host=e.smtp_host,
        port=e.smtp_port,
        security=e.smtp_security,
        user=e.smtp_user,
        password=smtp_password(),
        cafile=e.smtp_cafile,
        timeout=e.smtp_timeout,
        rate_per_minute=e.rate_per_minute,
        retry_delay=e.retry_delay,
        max_attempts=e.max_attempts,
    )
