"""A real SMTP server for the e-mail tests (issue 25): aiosmtpd listening on a TCP port of
127.0.0.1 in a thread of the test process, keeping every message it accepts. Optionally with
STARTTLS (a certificate made for the test by `trustme`) and AUTH (one user and password)."""

from __future__ import annotations

import email
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.services import free_port


@dataclass
class Inbox:
    """What the server received: (envelope recipients, parsed message), in order."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.received if address in recipients]

    def wait_for(self, count: int, timeout: float = 30) -> None:
        """Wait until `count` messages have arrived (the server runs in its own thread)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} arrived"
            time.sleep(0.05)


class _Credentials:
    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user.encode(), password.encode()
        self.attempts: list[bytes] = []

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            self.attempts.append(auth_data.login)
            if (auth_data.login, auth_data.password) == (self.user, self.password):
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int
    controller: Controller | None = None
    credentials: _Credentials | None = None
    tls: ssl.SSLContext | None = None

    def url(self, user: str | None = None, password: str | None = None) -> str:
        auth = f"{user}:{password}@" if user else ""
        return f"smtp://{auth}127.0.0.1:{self.port}"

    def start(self) -> None:
        params: dict = {}
        if self.tls is not None:
            params.update(tls_context=self.tls, require_starttls=True)
        if self.credentials is not None:
            params.update(authenticator=self.credentials, auth_required=True,
                          auth_require_tls=self.tls is not None)
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port,
                                     server_hostname="localhost", **params)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@contextmanager
def smtp_server(*, tls: ssl.SSLContext | None = None,
                login: tuple[str, str] | None = None) -> Iterator[SmtpServer]:
    """A started server on a free port; stopped at the end (also when the test stopped it)."""
    server = SmtpServer(Inbox(), free_port(), tls=tls,
                        credentials=_Credentials(*login) if login else None)
    server.start()
    try:
        yield server
    finally:
        server.stop()
