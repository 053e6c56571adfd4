"""An issue as a chat message: Slack's Block Kit and Discord's embeds, within each one's limits."""

from __future__ import annotations

import re
from typing import Any

from digest.models import Issue
from digest.publish.render import is_web_url, strip_control, theme_slug, week_range

# Slack: at most 50 blocks, 150 characters in a header, 3,000 in a section's text.
_SLACK_BLOCKS, _SLACK_HEADER, _SLACK_SECTION = 50, 150, 3000
# Discord: 2,000 characters of content, 10 embeds, 256 in a title, 4,096 in a description,
# 6,000 across all embeds of a message.
_DISCORD_CONTENT, _DISCORD_EMBEDS, _DISCORD_TITLE, _DISCORD_TOTAL = 2000, 10, 256, 6000
_DISCORD_DESCRIPTION = 1000  # far below Discord's 4,096, so ten sections fit in 6,000
_DISCORD_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]()<@:-])")


def _text(value: str) -> str:
    return " ".join(strip_control(value).split())


def _cut(value: str, limit: int) -> str:
    """value within limit characters, cut at a word with an ellipsis when it is longer."""
    if len(value) <= limit:
        return value
    cut = value[: limit - 1].rsplit(" ", 1)[0] or value[: limit - 1]
    return cut.rstrip(" ,;:") + "…"


def _slack_escape(value: str) -> str:
    """Slack mrkdwn text: &, < and > escaped, so no text becomes a link or a @channel ping."""
    return _text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(url: str, label: str) -> str:
    if not is_web_url(url):
        return _slack_escape(label)
    return f"<{_slack_escape(url)}|{_slack_escape(label).replace('|', '¦')}>"


def slack_message(issue: Issue, base_url: str, site_title: str) -> dict[str, Any]:
    """A Slack incoming-webhook message: the title, the intro, a block per theme, a link."""
    issue_url = f"{base_url}issues/{issue.id}/"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _cut(_text(issue.title), _SLACK_HEADER)},
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": _slack_escape(f"{site_title}, {week_range(issue)}")}
            ],
        },
    ]
    if issue.intro.strip():
        intro = _cut(_slack_escape(issue.intro), _SLACK_SECTION)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": intro}})
    blocks.append({"type": "divider"})
    for section in issue.sections[: _SLACK_BLOCKS - 6]:
        head = _slack_link(f"{issue_url}#{theme_slug(section.theme)}", section.theme.name)
        first = section.summary.what_happened[:1]
        body = _slack_escape(first[0].text) if first else ""
        text = f"*{head}*: {_slack_escape(section.summary.headline)}\n{body}".strip()
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, 3000)}})
    if issue.quick_hits:
        hits = "\n".join(f"• {_slack_escape(n.sentence.text)}" for n in issue.quick_hits)
        text = _cut(f"*Quick hits*\n{hits}", _SLACK_SECTION)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": _slack_link(issue_url, "Read the issue")}],
        }
    )
    fallback = f"{_slack_escape(issue.title)}: {_slack_link(issue_url, 'read the issue')}"
    return {"text": fallback, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


def _discord_escape(value: str) -> str:
    """Discord text with its markdown escaped: a title stays a title, a link stays text."""
    return _DISCORD_MARKDOWN.sub(r"\\\1", _text(value))


def discord_message(issue: Issue, base_url: str, site_title: str) -> dict[str, Any]:
    """A Discord webhook message: the title and link, an embed per theme; pings none."""
    issue_url = f"{base_url}issues/{issue.id}/"
    content = f"**{_discord_escape(issue.title)}**\n{_discord_escape(issue.intro)}"
    tail = f"\n{issue_url}"
    content = _cut(content, _DISCORD_CONTENT - len(tail)) + tail
    footer = _cut(_text(f"{site_title}, {week_range(issue)}"), 200)
    embeds: list[dict[str, Any]] = []
    total = 0  # Discord counts titles, descriptions and footers of all embeds together
    for section in issue.sections[:_DISCORD_EMBEDS]:
        name = f"{section.theme.name}: {section.summary.headline}"
        title = _cut(_discord_escape(name), _DISCORD_TITLE)
        said = " ".join(s.text for s in section.summary.what_happened)
        description = _cut(_discord_escape(said), _DISCORD_DESCRIPTION)
        size = len(title) + len(description) + len(footer)
        if total + size > _DISCORD_TOTAL:
            break
        total += size
        embeds.append(
            {
                "title": title,
                "url": f"{issue_url}#{theme_slug(section.theme)}",
                "description": description,
                "footer": {"text": footer},
            }
        )
    return {"content": content, "embeds": embeds, "allowed_mentions": {"parse": []}}
