"""A local SMTP server (aiosmtpd) on 127.0.0.1 that records every message it is given, optionally with
a login, so tests can wait for mail (a threading.Condition, never a clock)."""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailSink:
    """`with MailSink(user="lw", password="pw") as sink: sink.url` — `messages` are (envelope, parsed)."""

    def __init__(self, user: str | None = None, password: str | None = None) -> None:
        self.user, self.password = user, password
        self.messages: list[tuple[Any, EmailMessage]] = []
        self.logins: list[str] = []
        self.cond = threading.Condition()
        self.port = _free_port()
        sink = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                parsed = message_from_bytes(envelope.original_content or envelope.content,
                                            policy=policy.default)
                with sink.cond:
                    sink.messages.append((envelope, parsed))
                    sink.cond.notify_all()
                return "250 OK"

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == (
                self.user, self.password)
            if ok:
                self.logins.append(data.login.decode())
            return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535

        kwargs: dict[str, Any] = {}
        if user is not None:
            # a test server without TLS: allow AUTH in the clear on 127.0.0.1 only
            kwargs = {"authenticator": authenticate, "auth_require_tls": False}
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)

    def url(self, scheme: str = "smtp") -> str:
        auth = f"{self.user}:{self.password}@" if self.user else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}"

    def __enter__(self) -> MailSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def wait_for(self, n: int, timeout: float = 60.0) -> list[tuple[Any, EmailMessage]]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.messages) >= n, timeout), \
                f"the SMTP server received {len(self.messages)} of {n} messages in {timeout}s"
            return list(self.messages)
