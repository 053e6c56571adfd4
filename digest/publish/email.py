"""The issue as an email: a plain-text part and an HTML alternative with inlined CSS."""

from __future__ import annotations

import hashlib
import os
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

import css_inline
from jinja2 import Environment

from digest.errors import PublishError
from digest.models import Issue
from digest.publish.render import aware, render, strip_control


def build_email(
    issue: Issue,
    env: Environment,
    *,
    site_title: str,
    base_url: str,
    sender: str,
    recipient: str,
) -> EmailMessage:
    """The issue as a multipart/alternative message, the same bytes on every call."""
    context = {
        "issue": issue,
        "site_title": site_title,
        "base_url": base_url,
        "root": base_url,
        "issue_url": f"{base_url}issues/{issue.id}/",
    }
    text = render(env, "email.txt", **context)
    page = render(env, "email.html", **context)
    try:
        html = css_inline.inline(page, load_remote_stylesheets=False)
    except css_inline.InlineError as exc:
        raise PublishError(
            f"the CSS in template 'email.html' could not be inlined: {exc}; fix its <style> block"
        ) from exc
    message = EmailMessage()
    message["Subject"] = " ".join(strip_control(issue.title).split())
    for header, value, setting in (("From", sender, "email_from"), ("To", recipient, "email_to")):
        try:
            message[header] = value
        except ValueError as exc:
            raise PublishError(
                f"{setting} {value!r} is not a usable {header} header ({exc}); "
                "set it to one address such as 'digest <digest@example.com>'"
            ) from exc
    message["Date"] = format_datetime(aware(issue.built_at))
    host = urlsplit(base_url).hostname or "digest.invalid"
    message["Message-ID"] = f"<issue.{issue.id}@{host}>"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    # The default boundary is random; one derived from the parts keeps the file reproducible.
    message.set_boundary("==" + hashlib.sha256((text + html).encode()).hexdigest()[:32])
    return message


def write_email(message: EmailMessage, path: Path) -> None:
    """Write the message as an .eml file with CRLF line ends, ready for SMTP."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(message.as_bytes(policy=policy.SMTP))
    os.replace(partial, path)
