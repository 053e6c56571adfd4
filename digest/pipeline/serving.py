"""What `digest serve` runs: the site app wired to the settings, the store and the SMTP server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from starlette.types import ASGIApp

from digest.config import Settings
from digest.pipeline.mail import TopicPreferences, unsubscriber
from digest.pipeline.wiring import publish_settings, smtp_settings
from digest.publish.render import make_environment
from digest.publish.serve import make_app
from digest.publish.signup import Letters, Outbox, SignupDesk, SignupPolicy
from digest.publish.tokens import unsubscribe_secret
from digest.store import Store
from digest.store.signups import Signups


@dataclass(frozen=True)
class Served:
    """The app, and the outbox whose queued sign-up emails go out before the server stops."""

    app: ASGIApp
    outbox: Outbox


def site_app(settings: Settings, store: Store) -> Served:
    """The built site, /unsubscribe/, the subscribe form and the topics page (/preferences/),
    as `digest serve` serves them."""
    site = publish_settings(settings)
    secret = unsubscribe_secret()
    env = make_environment(site.template_dir)
    s = settings.serve
    valid = timedelta(hours=s.confirm_hours)
    outbox = Outbox(smtp_settings(settings))
    desk = SignupDesk(
        Signups(store.engine, valid),
        secret,
        Letters(env, site.site_title, settings.email.sender, f"{site.base_url}subscribe/confirm/"),
        outbox,
        SignupPolicy(s.signups_per_client, s.signups_per_address, valid),
    )
    page = {"site_title": site.site_title, "base_url": site.base_url}
    topics = TopicPreferences(store, secret)
    app = make_app(site.site_dir, env, page, unsubscriber(store), s, desk, topics)
    return Served(app, outbox)
