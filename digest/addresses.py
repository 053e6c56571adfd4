"""Email addresses as subscribers give them, checked once for the store and the sign-up form."""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr

from digest.errors import SubscriberError

__all__ = ["parse_address"]


def parse_address(text: str) -> tuple[str, str]:
    """(name, address) from 'a@b.example' or 'Name <a@b.example>'; refuses anything else."""
    name, address = parseaddr(text.strip())
    try:
        checked = Address(name, addr_spec=address)
    except (ValueError, IndexError) as exc:
        raise SubscriberError(f"{text.strip()!r} is not an email address ({exc})") from exc
    if not checked.username or "." not in checked.domain or any(c in text for c in "\r\n"):
        raise SubscriberError(
            f"{text.strip()!r} is not an email address; write it like reader@example.com"
        )
    return name.strip(), f"{checked.username}@{checked.domain.lower()}"
