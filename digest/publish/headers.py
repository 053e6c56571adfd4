"""Email headers from plain strings: decoded as a mail program will, no control characters."""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.message import EmailMessage

from digest.errors import PublishError

# C0 and C1 controls, DEL and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Encoded words can be nested (one decodes to another); a real header needs one round.
_ROUNDS = 4


def header_value(name: str, value: str) -> str:
    """The value as it will read once set: RFC 2047 encoded words decoded, every control
    character (a CR or LF among them) folded to a space, on one line.

    policy.default decodes encoded words in a value assigned to a header, so a crawled title
    holding `=?UTF-8?Q?=0D=0A?=` would otherwise end the header line and start a new one.
    """
    for _ in range(_ROUNDS):
        try:
            decoded = str(make_header(decode_header(value)))
        except (HeaderParseError, UnicodeError, LookupError):
            decoded = value  # not a well-formed encoded word: the parser leaves it as text too
        folded = " ".join(_CONTROL.sub(" ", decoded).split())
        if folded == value:
            return value
        value = folded
    raise PublishError(
        f"the {name} header {value[:80]!r} still decodes to other text after {_ROUNDS} rounds; "
        "it comes from a source or a setting: fix or remove that text"
    )


def set_header(message: EmailMessage, name: str, value: str) -> None:
    """Set one header from a plain string through header_value; the only way digest sets one."""
    try:
        message[name] = header_value(name, value)
        kept = str(message[name])
    except ValueError as exc:
        kept = f"\n{exc}"
    if _CONTROL.search(kept):  # the header parser decoded more than decode_header: never send
        del message[name]
        raise PublishError(f"the {name} header {value[:80]!r} holds a control character; not sent")
