"""Real servers on 127.0.0.1 for delivery tests: an SMTP server (aiosmtpd) and an HTTP server.

Each binds a free port chosen by the OS and records what it received, so a test checks
what actually crossed the socket. They are context managers; test_deliver.py wraps them
in fixtures.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import hashlib
import hmac
import http.server
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def _share_malloc_arena() -> None:
    """Make every thread allocate from glibc's main malloc arena.

    By default each new thread that allocates gets its own arena, reserving 64 MB of address
    space that stays reserved after the thread ends; the servers below run threads, and the
    render-guard tests cap the address space (RLIMIT_AS) of processes forked from the test
    process, which inherit it. Elsewhere than glibc this does nothing.
    """
    m_arena_max = -8
    try:
        ctypes.CDLL(ctypes.util.find_library("c")).mallopt(m_arena_max, 1)
    except (OSError, AttributeError, TypeError):
        pass


_share_malloc_arena()

HOST = "127.0.0.1"
SMTP_USERNAME = "brief-sender"
SMTP_PASSWORD = "s3cret-Pa55word-for-tests"
WEBHOOK_SECRET = "whsec-test-4f1c9a"


@dataclass
class ReceivedMail:
    """One message as the SMTP server accepted it."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str | None  # the authenticated user, None without AUTH

    @property
    def message(self) -> EmailMessage:
        """Return the message parsed as a mail client would, with its lines ending in LF."""
        parsed = message_from_bytes(self.data.replace(b"\r\n", b"\n"), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class MailHandler:
    """aiosmtpd handler that records messages and refuses chosen recipients."""

    received: list[ReceivedMail] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> full SMTP reply
    data_reply: str = "250 2.0.0 OK queued as TEST0001"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        """Accept ``address`` unless it is in ``refuse``."""
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Record the message."""
        auth = session.auth_data
        login = (
            auth.login.decode()
            if session.authenticated and isinstance(auth, LoginPassword)
            else None
        )
        assert isinstance(envelope.content, bytes)
        self.received.append(
            ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), envelope.content, login)
        )
        return self.data_reply


def check_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Accept exactly SMTP_USERNAME / SMTP_PASSWORD."""
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USERNAME.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


class _FreePortController(Controller):
    # aiosmtpd's start() probes self.port; with port 0 that is the OS's choice, so read it
    # back from the bound socket first.
    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@dataclass
class SMTPServer:
    """A running SMTP server: where it listens and what it received."""

    host: str
    port: int
    handler: MailHandler

    @property
    def received(self) -> list[ReceivedMail]:
        """Return the messages accepted so far."""
        return self.handler.received


@contextmanager
def smtp_server(
    *,
    auth: bool = False,
    tls_context: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
    port: int = 0,
) -> Iterator[SMTPServer]:
    """Run an SMTP server on ``port`` (default: a free one); with ``auth``, AUTH PLAIN/LOGIN
    is offered.

    ``tls_context`` offers STARTTLS, or with ``implicit_tls`` wraps the whole connection.
    """
    handler = MailHandler()
    kwargs: dict[str, Any] = {}
    if auth:
        # Plain-text AUTH is fine on loopback and lets most tests skip certificates.
        kwargs.update(authenticator=check_login, auth_require_tls=False)
    if tls_context is not None and not implicit_tls:
        kwargs["tls_context"] = tls_context
    controller = _FreePortController(
        handler,
        hostname=HOST,
        port=port,
        server_hostname="mail.briefgen.test",  # skips a DNS look-up of this machine
        ssl_context=tls_context if implicit_tls else None,
        ready_timeout=10.0,
        **kwargs,
    )
    controller.start()
    try:
        yield SMTPServer(HOST, controller.port, handler)
    finally:
        controller.stop()


@contextmanager
def closed_port() -> Iterator[int]:
    """Hold a bound but not listening port: connecting to it is refused, deterministically."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        yield sock.getsockname()[1]


@contextmanager
def silent_port() -> Iterator[int]:
    """Listen without ever answering: a client waits until its own timeout."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen(4)
        yield sock.getsockname()[1]


@dataclass
class HTTPRequest:
    """One request as the HTTP server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HTTPServer:
    """A running HTTP server: its URL, what it received and what it answers next."""

    url: str
    requests: list[HTTPRequest] = field(default_factory=list)
    status: int = 200
    answer: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)  # extra answer headers

    def signature_ok(self, request: HTTPRequest, secret: str = WEBHOOK_SECRET) -> bool:
        """Return whether ``request`` carries a valid X-Briefgen-Signature for ``secret``."""
        expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(request.headers.get("x-briefgen-signature", ""), expected)


@contextmanager
def http_server(path: str = "/hooks/briefs") -> Iterator[HTTPServer]:
    """Run a threaded HTTP server on a free port that records every request."""
    state = HTTPServer(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            state.requests.append(
                HTTPRequest(
                    "POST",
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
            )
            self.send_response(state.status)
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(state.answer)))
            self.end_headers()
            self.wfile.write(state.answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
    state.url = f"http://{HOST}:{server.server_address[1]}{path}"
    # A short poll interval makes shutdown() quick (the default 0.5 s adds up over tests).
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def make_certificate(folder: Path) -> tuple[Path, Path] | None:
    """Write a self-signed certificate for 127.0.0.1 and its key; None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "2", "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=IP:{HOST}",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
