"""Deliver a brief by email: the HTML edition as body, the Markdown as its plain-text twin."""

from __future__ import annotations

import os
import re
import string
from collections.abc import Callable, Mapping
from email.utils import formatdate, getaddresses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from briefgen.deliver.base import (
    MAX_ANSWER_CHARS,
    ChannelSpec,
    DeliveryError,
    Package,
    env_secret,
    is_loopback,
    one_line,
    redact,
)
from briefgen.outputs import FormatName

if TYPE_CHECKING:  # smtplib and ssl are imported when a message is sent: config loads stay quick
    import smtplib
    import ssl
    from email.message import EmailMessage

USERNAME_ENV = "BRIEFGEN_SMTP_USERNAME"
PASSWORD_ENV = "BRIEFGEN_SMTP_PASSWORD"
DEFAULT_PORTS = {"none": 25, "starttls": 587, "tls": 465}
SUBJECT_FIELDS = ("title", "date", "brief")

# Attachment types for the brief's formats; anything else is guessed from the file name.
MIME_TYPES = {
    "pdf": "application/pdf",
    "md": "text/markdown",
    "html": "text/html",
    "json": "application/json",
}

# A plain address as people write it: no quoted local parts, no IP-literal domains.
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$")
# Characters a Message-ID's left part may hold (RFC 5322 dot-atom-text).
_NOT_ATEXT = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")


def address_problem(value: str, *, display_name: bool) -> str | None:
    """Return why ``value`` is not one sane email address, or None when it is."""
    example = '"Briefs <briefs@example.org>"' if display_name else "desk@example.org"
    if "\r" in value or "\n" in value:
        return "must be on one line"
    found = getaddresses([value])
    if len(found) != 1:
        return f"must be one address, e.g. {example}; list several as a YAML list"
    name, addr = found[0]
    if not addr.isascii():  # a display name may have accents; the address itself may not
        return "the address must be ASCII; write an international domain in its xn-- form"
    text = value.strip()
    bare = text == addr
    named = bool(name) and text.endswith(f"<{addr}>")
    if not _ADDRESS.match(addr) or not (bare or (display_name and named)):
        return f"{value!r} is not an email address like {example}"
    return None


def _check_recipient(value: str) -> str:
    problem = address_problem(value, display_name=False)
    if problem:
        raise ValueError(problem)
    return value


# Checked one by one, so that a problem is reported at the item's own line.
Recipient = Annotated[str, AfterValidator(_check_recipient)]


def domain_of(address: str) -> str:
    """Return the domain of an address such as ``Briefs <briefs@example.org>``."""
    return getaddresses([address])[0][1].rpartition("@")[2]


class SmtpSettings(BaseModel):
    """The SMTP server an email brief is sent through."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    host: str = Field(min_length=1, pattern=r"^\S+$")
    """Name or address of the SMTP server (the outgoing mail relay), e.g. smtp.example.org."""

    port: int | None = Field(default=None, ge=1, le=65535, strict=True)
    """TCP port; default: 25 for security none, 587 for starttls, 465 for tls."""

    security: Literal["none", "starttls", "tls"] = "starttls"
    """How the connection is encrypted: none, starttls (upgrade after connecting) or tls
    (encrypted from the start)."""

    @property
    def effective_port(self) -> int:
        """Return the configured port, or the usual one for the security mode."""
        return self.port or DEFAULT_PORTS[self.security]


class EmailSettings(BaseModel):
    """The `deliver.email` section: who gets the brief by email, and how it is sent."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    to: list[Recipient] = Field(min_length=1)
    """Recipients, e.g. [desk@example.org]."""

    cc: list[Recipient] = Field(default_factory=list)
    """Copy recipients (shown in the message)."""

    bcc: list[Recipient] = Field(default_factory=list)
    """Blind-copy recipients (not shown in the message)."""

    sender: str = Field(alias="from")
    """Sender, e.g. "Briefs <briefs@example.org>"; its domain also names the Message-ID."""

    smtp: SmtpSettings
    """The SMTP server that sends the message. The login comes from the environment
    (BRIEFGEN_SMTP_USERNAME, BRIEFGEN_SMTP_PASSWORD), never from the config."""

    attach: list[FormatName] = Field(default_factory=lambda: ["pdf"])
    """Which of the brief's formats to attach, e.g. [pdf, md] (each must be in the brief's
    `formats`); [] attaches nothing."""

    subject: str = "{title} — {date}"
    """Subject line; {title}, {date} and {brief} are filled in."""

    password_file: str | None = None
    """File holding the SMTP password (relative to the project root), instead of
    BRIEFGEN_SMTP_PASSWORD."""

    @field_validator("sender")
    @classmethod
    def _check_sender(cls, value: str) -> str:
        problem = address_problem(value, display_name=True)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("attach")
    @classmethod
    def _check_attach(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("subject")
    @classmethod
    def _check_subject(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("must be on one line")
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise ValueError(f"{exc}; write literal braces as {{{{ and }}}}") from None
        unknown = sorted(fields - set(SUBJECT_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown field {{{unknown[0]}}}; use {{title}}, {{date}} and {{brief}}"
            )
        return value

    @property
    def recipients(self) -> list[str]:
        """Return every envelope recipient (to, cc, bcc), each once."""
        return list(dict.fromkeys([*self.to, *self.cc, *self.bcc]))


def message_id(package: Package, sender: str) -> str:
    """Return the Message-ID of ``package``'s email: the same for every retry of a run."""
    left = _NOT_ATEXT.sub("-", f"briefgen.{package.brief}.{package.run_id}")
    left = re.sub(r"\.{2,}", ".", left).strip(".")
    return f"<{left}@{domain_of(sender)}>"


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DeliveryError(f"cannot read the {what} {path}: {exc}", permanent=True) from None


def _read_bytes(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DeliveryError(f"cannot read the {what} {path}: {exc}", permanent=True) from None


def build_message(settings: EmailSettings, package: Package) -> EmailMessage:
    """Return the email for ``package``: text/plain + text/html alternatives, then attachments."""
    import mimetypes
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["Subject"] = settings.subject.format(
        title=package.title, date=package.date, brief=package.brief
    )
    msg["From"] = settings.sender
    msg["To"] = ", ".join(settings.to)
    if settings.cc:
        msg["Cc"] = ", ".join(settings.cc)
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id(package, settings.sender)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders stay quiet

    # Quoted-printable keeps the message 7-bit, so no server needs 8BITMIME or SMTPUTF8.
    if "md" in package.files:
        plain = _read_text(package.files["md"], "Markdown edition")
    else:
        plain = f"{package.title} ({package.date}): see the attached files.\n"
    msg.set_content(plain, subtype="plain", cte="quoted-printable")
    if "html" in package.files:
        html = _read_text(package.files["html"], "HTML edition")
        msg.add_alternative(html, subtype="html", cte="quoted-printable")

    for fmt in settings.attach:
        path = package.files.get(fmt)
        if path is None:
            raise DeliveryError(
                f"email: brief {package.brief} has no {fmt} file to attach; add {fmt} to "
                f"the brief's formats or remove it from deliver.email.attach",
                permanent=True,
            )
        ctype = MIME_TYPES.get(fmt) or mimetypes.guess_type(path.name)[0]
        maintype, _, subtype = (ctype or "application/octet-stream").partition("/")
        msg.add_attachment(
            _read_bytes(path, f"{fmt} file"),
            maintype=maintype,
            subtype=subtype,
            filename=f"{package.brief}-{package.date}{path.suffix}",
        )
    return msg


class EmailChannel:
    """Send a brief through an SMTP server."""

    name: ClassVar[str] = "email"

    def __init__(
        self,
        settings: EmailSettings,
        env: Mapping[str, str] = os.environ,
        *,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.env = env
        self.timeout = timeout
        # None: the system's trusted CAs, with host name checking.
        self.ssl_context = ssl_context

    def send(self, package: Package) -> str:
        """Send ``package`` to every recipient; return the server's answer to DATA."""
        import smtplib

        message = build_message(self.settings, package)
        smtp = self.settings.smtp
        where = f"email via {smtp.host}:{smtp.effective_port}"
        username, password = self._credentials(package)
        secrets = (username, password)
        if username and smtp.security == "none" and not is_loopback(smtp.host):
            raise DeliveryError(
                f"{where}: refusing to send the SMTP password unencrypted; "
                "set deliver.email.smtp.security to starttls or tls",
                permanent=True,
            )
        step = "connect"
        try:
            client = self._connect()
            try:
                step = "EHLO"
                client.ehlo_or_helo_if_needed()
                if smtp.security == "starttls":
                    step = "STARTTLS"
                    client.starttls(context=self._context())
                    client.ehlo_or_helo_if_needed()
                if username:
                    step = "login"
                    client.login(username, password or "")
                receipt = self._transmit(client, message)
            finally:
                _close(client)
        except DeliveryError as exc:
            raise DeliveryError(
                redact(f"{where}: {exc}", secrets), permanent=exc.permanent
            ) from None
        except (smtplib.SMTPException, OSError, UnicodeError) as exc:
            detail, permanent = _describe(exc)
            raise DeliveryError(
                redact(f"{where}: {step} failed: {detail}", secrets), permanent=permanent
            ) from None
        return redact(receipt, secrets)

    def _credentials(self, package: Package) -> tuple[str | None, str | None]:
        username = env_secret(self.env, USERNAME_ENV)
        if not username:
            if self.settings.password_file:
                raise DeliveryError(
                    f"email: deliver.email.password_file is set but {USERNAME_ENV} is not; "
                    "set it to the SMTP login",
                    permanent=True,
                )
            return None, None
        if self.settings.password_file:
            path = Path(self.settings.password_file)
            path = path if path.is_absolute() else package.project_root / path
            try:
                password = path.read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                reason = getattr(exc, "strerror", None) or type(exc).__name__
                raise DeliveryError(
                    f"email: cannot read the SMTP password file {path}: {reason}",
                    permanent=True,
                ) from None
        else:
            password = env_secret(self.env, PASSWORD_ENV) or ""
        if not password:
            raise DeliveryError(
                f"email: {USERNAME_ENV} is set but the password is empty or missing; "
                f"set {PASSWORD_ENV} or deliver.email.password_file",
                permanent=True,
            )
        return username, password

    def _context(self) -> ssl.SSLContext:
        import ssl

        return self.ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        import smtplib

        smtp = self.settings.smtp
        if smtp.security == "tls":
            return smtplib.SMTP_SSL(
                smtp.host, smtp.effective_port, timeout=self.timeout, context=self._context()
            )
        return smtplib.SMTP(smtp.host, smtp.effective_port, timeout=self.timeout)

    def _transmit(self, client: smtplib.SMTP, message: EmailMessage) -> str:
        import email.policy

        sender = getaddresses([self.settings.sender])[0][1]
        code, answer = client.mail(sender)
        if code != 250:
            raise _refused(f"sender {sender} refused", code, answer)
        refused: list[tuple[str, int, bytes]] = []
        for rcpt in self.settings.recipients:
            code, answer = client.rcpt(rcpt)
            if code not in (250, 251):
                refused.append((rcpt, code, answer))
        if refused:
            # All or nothing: a partial send would be repeated to the others on a retry.
            _quietly(client.rset)
            rcpt, code, answer = refused[0]
            others = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
            raise DeliveryError(
                f"recipient {rcpt}{others} refused; nothing sent: {code} {_text(answer)}",
                permanent=any(500 <= c < 600 for _, c, _ in refused),
            )
        code, answer = client.data(message.as_bytes(policy=email.policy.SMTP))
        if code != 250:
            raise _refused("message refused", code, answer)
        return one_line(f"{code} {_text(answer)}", MAX_ANSWER_CHARS)


def _text(answer: bytes | str) -> str:
    if isinstance(answer, bytes):
        answer = answer.decode("utf-8", "replace")
    return one_line(answer, MAX_ANSWER_CHARS)


def _refused(what: str, code: int, answer: bytes | str) -> DeliveryError:
    return DeliveryError(f"{what}: {code} {_text(answer)}", permanent=500 <= code < 600)


def _describe(exc: BaseException) -> tuple[str, bool]:
    """Return a one-line account of an SMTP or network failure and whether it is permanent."""
    import smtplib
    import ssl

    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        hint = ""
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            hint = f"; check {USERNAME_ENV} and the password"
        return f"{code} {_text(exc.smtp_error)}{hint}", 500 <= code < 600
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"{exc} (set deliver.email.smtp.security to what the server offers)", True
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"connection closed by the server ({exc})", False
    if isinstance(exc, smtplib.SMTPException):
        # e.g. "No suitable authentication method found."
        return str(exc), True
    if isinstance(exc, UnicodeError):
        return "the username or password is not ASCII, which SMTP AUTH cannot send", True
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {exc.verify_message}", True
    if isinstance(exc, ssl.SSLError):
        # Usually tls against a plain port or the reverse: a config mistake, not bad luck.
        return f"TLS failed: {exc.reason or exc}; check port and security", True
    if isinstance(exc, TimeoutError):
        return "timed out", False
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__, False
    return str(exc), False


def _quietly(action: Callable[[], object]) -> None:
    try:
        action()
    except OSError:  # smtplib's exceptions are OSErrors too
        pass


def _close(client: smtplib.SMTP) -> None:
    # QUIT after a 250 to DATA must not turn a delivered message into a failure.
    _quietly(client.quit)
    client.close()


SPEC = ChannelSpec(name=EmailChannel.name, settings_model=EmailSettings, make=EmailChannel)
