"""The issue as an email: a plain-text part and an HTML alternative with inlined CSS."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import css_inline
from jinja2 import Environment

from digest.errors import PublishError
from digest.models import Issue
from digest.publish.headers import set_header
from digest.publish.inbox import preheader, subject_line
from digest.publish.render import published, render
from digest.publish.sanitize import clean_html

# SMTP line ends, and header lines up to RFC 5322's 998 characters: a long List-Unsubscribe
# URL folded at 78 would be RFC 2047-encoded, which mail programs do not decode there.
SMTP_POLICY = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class Unsubscribe:
    """Where one recipient unsubscribes: a one-click HTTPS URL and a mailto address."""

    url: str
    mailto: str
    token: str


@dataclass(frozen=True)
class Edition:
    """An issue rendered once for every recipient; message() fills in the recipient."""

    issue: Issue
    text: str
    html: str
    host: str
    placeholder: str
    token_placeholder: str = ""  # where the recipient's token goes (the preferences link)

    def message(
        self,
        sender: str,
        recipient: str,
        unsubscribe: Unsubscribe | None = None,
        message_id: str | None = None,
    ) -> EmailMessage:
        """The issue as a multipart/alternative message to one recipient; the same bytes on
        every call with the same arguments, so a resent message carries the same Message-ID."""
        link = unsubscribe.url if unsubscribe else ""
        text = self.text.replace(self.placeholder, link)
        html = self.html.replace(self.placeholder, link)
        if self.token_placeholder:
            token = quote(unsubscribe.token if unsubscribe else "")
            text = text.replace(self.token_placeholder, token)
            html = html.replace(self.token_placeholder, token)
        message = EmailMessage()
        set_header(message, "Subject", subject_line(self.issue))
        for header, value, setting in (("From", sender, "email.from"), ("To", recipient, "to")):
            try:
                set_header(message, header, value)
                if not message[header].addresses:
                    raise ValueError("no address in it")
            except (ValueError, IndexError) as exc:
                del message[header]
                raise PublishError(
                    f"{setting} {value!r} is not a usable {header} header ({exc}); "
                    "use one address such as 'digest <digest@example.com>'"
                ) from exc
        set_header(message, "Date", format_datetime(published(self.issue)))
        set_header(message, "Message-ID", message_id or f"<issue.{self.issue.id}@{self.host}>")
        set_header(message, "List-Id", f"<{self.host}>")
        if unsubscribe is not None:
            subject = quote(f"unsubscribe {unsubscribe.token}")
            set_header(
                message,
                "List-Unsubscribe",
                f"<{unsubscribe.url}>, <mailto:{unsubscribe.mailto}?subject={subject}>",
            )
            set_header(message, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        # The default boundary is random; one derived from the parts keeps the bytes reproducible.
        message.set_boundary("==" + hashlib.sha256((text + html).encode()).hexdigest()[:32])
        return message


def prepare_edition(
    issue: Issue,
    env: Environment,
    *,
    site_title: str,
    base_url: str,
    preferences: bool = False,
    topic_note: str = "",
) -> Edition:
    """Render the issue's text and HTML parts once, with CSS inlined and HTML sanitised.

    With preferences, the footer links each recipient's topic page (`digest serve`); a
    topic_note says the email holds only the topics the recipient chose.
    """
    placeholder = f"unsubscribe-{secrets.token_hex(16)}"
    token_placeholder = f"token-{secrets.token_hex(16)}" if preferences else ""
    preferences_url = f"{base_url}preferences/?token={token_placeholder}" if preferences else ""
    context = {
        "preferences_url": preferences_url,
        "topic_note": topic_note,
        "issue": issue,
        "site_title": site_title,
        "base_url": base_url,
        "root": base_url,
        "issue_url": f"{base_url}issues/{issue.id}/",
        "unsubscribe_url": placeholder,
        "preheader": preheader(issue),
        "in_email": True,
    }
    text = render(env, "email.txt", **context)
    page = render(env, "email.html", **context)
    try:
        html = css_inline.inline(page, load_remote_stylesheets=False)
    except css_inline.InlineError as exc:
        raise PublishError(
            f"the CSS in template 'email.html' could not be inlined: {exc}; fix its <style> block"
        ) from exc
    host = urlsplit(base_url).hostname or "digest.invalid"
    return Edition(issue, text, _clean_document(html), host, placeholder, token_placeholder)


def _clean_document(html: str) -> str:
    """The inlined document with its body passed through the allowlist, style attributes kept."""
    start, end = html.find("<body"), html.rfind("</body>")
    if start < 0 or end < 0:
        raise PublishError("template 'email.html' has no <body>; keep the packaged structure")
    open_end = html.index(">", start) + 1
    body = clean_html(html[open_end:end], keep_style=True)
    return f"{html[:open_end]}{body}{html[end:]}"


def write_email(message: EmailMessage, path: Path) -> None:
    """Write the message as an .eml file with CRLF line ends, ready for SMTP."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(message.as_bytes(policy=SMTP_POLICY))
    os.replace(partial, path)


def unsubscribe_mailto(mailto: str, sender: str) -> str:
    """The mailbox for mailto unsubscribes: the configured one, else the sender's address."""
    if mailto:
        return mailto
    probe = EmailMessage()
    probe["From"] = sender
    return str(probe["From"].addresses[0].addr_spec)
