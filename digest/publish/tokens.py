"""Per-subscriber unsubscribe tokens: an HMAC of the subscriber keyed by an environment secret."""

from __future__ import annotations

import hashlib
import hmac
import os

from digest.errors import ConfigError

SECRET_VARIABLE = "DIGEST_UNSUBSCRIBE_SECRET"
_MIN_SECRET = 16


def unsubscribe_secret() -> bytes:
    """The secret that signs unsubscribe links, from DIGEST_UNSUBSCRIBE_SECRET."""
    secret = os.environ.get(SECRET_VARIABLE, "")
    if len(secret) < _MIN_SECRET:
        raise ConfigError(
            f"{SECRET_VARIABLE} is {'too short' if secret else 'not set'}: unsubscribe links are "
            f"signed with it; set it to a random string of at least {_MIN_SECRET} characters, e.g. "
            f"`export {SECRET_VARIABLE}=$(python -c "
            "'import secrets; print(secrets.token_hex(32))')`, and keep it: changing it "
            "breaks the links in emails already sent"
        )
    return secret.encode()


def _mac(secret: bytes, subscriber_id: int, address: str) -> str:
    message = f"unsubscribe:{subscriber_id}:{address.lower()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def make_token(secret: bytes, subscriber_id: int, address: str) -> str:
    """A token naming the subscriber that only the holder of the secret can make."""
    return f"{subscriber_id}.{_mac(secret, subscriber_id, address)}"


def token_subscriber(token: str) -> int | None:
    """The subscriber id a token claims, or None when it is not shaped like a token."""
    head, _, mac = token.strip().partition(".")
    if not head.isdigit() or len(mac) != 32:
        return None
    return int(head)


def token_matches(secret: bytes, token: str, subscriber_id: int, address: str) -> bool:
    """True when the token was made for this subscriber with this secret."""
    expected = make_token(secret, subscriber_id, address)
    return hmac.compare_digest(expected.encode(), token.strip().encode())
