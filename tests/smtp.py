"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it accepts, for the email tests."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "digest", "s3cret-password"


@dataclass
class Inbox:
    """What the server accepted, and scripted answers per recipient ('451 ...', '550 ...')."""

    messages: list[tuple[str, EmailMessage]] = field(default_factory=list)
    answers: dict[str, list[str]] = field(default_factory=dict)
    on_message: Callable[[int], None] | None = None
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        script = self.answers.get(address)
        if script:
            answer = script.pop(0)
            if answer.startswith("421"):  # "closing the channel": the server hangs up after it
                asyncio.get_running_loop().call_soon(server.transport.close)
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt, message))
            count = len(self.messages)
        if self.on_message is not None:
            self.on_message(count)
        return "250 Message accepted"

    def recipients(self) -> list[str]:
        with self.lock:
            return [rcpt for rcpt, _ in self.messages]

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        if ok:
            self.logins.append(mechanism)
        return AuthResult(success=ok, handled=False)  # handled=True would leave no reply


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    port: int
    inbox: Inbox
    cafile: str


@contextmanager
def smtp_server(
    tmp_path: Path, security: str = "none", auth: bool = False, port: int | None = None
) -> Iterator[Server]:
    """An aiosmtpd server: plain, STARTTLS (required) or implicit TLS, with optional AUTH."""
    ca = trustme.CA()
    cafile = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    inbox = Inbox()
    kwargs: dict[str, Any] = {}
    if auth:
        kwargs.update(authenticator=inbox.authenticate, auth_require_tls=security == "starttls")
        # aiosmtpd 1.4 counts only STARTTLS as TLS for AUTH; implicit TLS is encrypted too.
    if security == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    if security == "ssl":
        kwargs.update(ssl_context=context)
    controller = Controller(inbox, hostname="127.0.0.1", port=port or free_port(), **kwargs)
    controller.start()
    try:
        yield Server(controller.port, inbox, str(cafile))
    finally:
        controller.stop()
