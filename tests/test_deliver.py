"""Delivery channels against real servers on 127.0.0.1: what arrives, and how failures read."""

from __future__ import annotations

import dataclasses
import json
import logging
import smtplib
import ssl
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from mailserver import (
    SMTP_PASSWORD,
    SMTP_USERNAME,
    WEBHOOK_SECRET,
    HTTPServer,
    SMTPServer,
    closed_port,
    http_server,
    make_certificate,
    silent_port,
    smtp_server,
)
from pydantic import BaseModel, ValidationError

from briefgen.deliver import (
    CHANNELS,
    DeliverSettings,
    DeliveryError,
    EmailChannel,
    EmailSettings,
    Package,
    Section,
    WebhookChannel,
    WebhookSettings,
    configured_channels,
)

PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
MARKDOWN = "# Japan daily — 東京\n\n- Tariffs rise.\n.\n- A line starting with a dot, above.\n"
HTML = "<!doctype html><html><body><h1>Japan daily — 東京</h1><p>Tariffs rise.</p></body></html>\n"
AUTH_ENV = {"BRIEFGEN_SMTP_USERNAME": SMTP_USERNAME, "BRIEFGEN_SMTP_PASSWORD": SMTP_PASSWORD}
SECRETS = (SMTP_USERNAME, SMTP_PASSWORD, WEBHOOK_SECRET)
OUTPUT_FOLDER = "briefs/japan-daily/2025-01-31"
VALID_EMAIL: dict[str, Any] = {
    "to": ["desk@example.org"],
    "from": "Briefs <briefs@example.org>",
    "smtp": {"host": "smtp.example.org", "port": 587, "security": "starttls"},
}


@pytest.fixture
def package(tmp_path: Path) -> Package:
    """A built brief (md, html, pdf, json) in a project folder."""
    folder = tmp_path / OUTPUT_FOLDER
    folder.mkdir(parents=True)
    contents = {"md": MARKDOWN.encode(), "html": HTML.encode(), "pdf": PDF_BYTES, "json": b"{}"}
    files = {fmt: folder / f"brief.{fmt}" for fmt in contents}
    for fmt, data in contents.items():
        files[fmt].write_bytes(data)
    return Package(
        brief="japan-daily",
        title="Japan daily — 東京",
        date="2025-01-31",
        generated_at="2025-01-31T07:00:05+09:00",
        slot="2025-01-31T07:00+09:00",
        run_id="20250131T0700+0900",
        files=files,
        sections=(Section("trade", "Trade", 4), Section("security", "Security and defence", 2)),
        new_since_previous=3,
        project_root=tmp_path,
    )


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    """An SMTP server without AUTH."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def smtp_auth() -> Iterator[SMTPServer]:
    """An SMTP server offering AUTH (without TLS) that accepts only the test login."""
    with smtp_server(auth=True) as server:
        yield server


@pytest.fixture
def hook() -> Iterator[HTTPServer]:
    """An HTTP server that records requests and answers 200."""
    with http_server() as server:
        yield server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    made = make_certificate(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("needs the openssl command to make a test certificate")
    return made


def email_settings(port: int, security: str = "none", **extra: Any) -> EmailSettings:
    """Return email settings for a test server on 127.0.0.1."""
    smtp = {"host": "127.0.0.1", "port": port, "security": security}
    return EmailSettings.model_validate({**VALID_EMAIL, "smtp": smtp, **extra})


def assert_clean(text: str) -> None:
    """Fail when ``text`` holds a secret or a line break."""
    assert "\n" not in text
    for secret in SECRETS:
        assert secret not in text


def send_failure(channel: EmailChannel | WebhookChannel, package: Package) -> DeliveryError:
    """Return the DeliveryError that sending ``package`` raises, checked to be clean."""
    with pytest.raises(DeliveryError) as info:
        channel.send(package)
    error = info.value
    assert_clean(str(error))
    # No chained low-level exception that could carry what the message leaves out.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    return error


# --- email -----------------------------------------------------------------------------


def test_email_arrives_with_html_body_markdown_alternative_and_pdf(
    smtp: SMTPServer, package: Package
) -> None:
    settings = email_settings(smtp.port, cc=["chief@example.org"], bcc=["archive@example.org"])
    receipt = EmailChannel(settings, env={}).send(package)

    assert receipt == "250 2.0.0 OK queued as TEST0001"
    [mail] = smtp.received
    assert mail.mail_from == "briefs@example.org"
    assert mail.rcpt_tos == ["desk@example.org", "chief@example.org", "archive@example.org"]
    msg = mail.message
    assert msg["Subject"] == "Japan daily — 東京 — 2025-01-31"
    assert msg["From"] == "Briefs <briefs@example.org>"
    assert msg["To"] == "desk@example.org" and msg["Cc"] == "chief@example.org"
    assert msg["Bcc"] is None
    assert msg["Message-ID"] == "<briefgen.japan-daily.20250131T0700+0900@example.org>"
    assert msg["Date"] is not None
    assert msg.get_content_type() == "multipart/mixed"

    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content() == MARKDOWN
    assert html.get_content() == HTML
    attachments = list(msg.iter_attachments())
    assert [(a.get_content_type(), a.get_filename()) for a in attachments] == [
        ("application/pdf", "japan-daily-2025-01-31.pdf")
    ]
    assert attachments[0].get_content() == PDF_BYTES
    assert mail.data.isascii()  # 7-bit on the wire: no 8BITMIME needed


def test_message_id_is_stable_per_run(smtp: SMTPServer, package: Package) -> None:
    channel = EmailChannel(email_settings(smtp.port, attach=["md", "json"]), env={})
    channel.send(package)
    channel.send(package)
    channel.send(Package(**{**package.__dict__, "run_id": "20250201T0700+0900"}))

    ids = [mail.message["Message-ID"] for mail in smtp.received]
    assert ids[0] == ids[1] != ids[2]
    types = [a.get_content_type() for a in smtp.received[0].message.iter_attachments()]
    assert types == ["text/markdown", "application/json"]


@pytest.mark.parametrize(
    ("env", "password_file", "login"),
    [
        (AUTH_ENV, None, SMTP_USERNAME),
        ({"BRIEFGEN_SMTP_USERNAME": SMTP_USERNAME}, "smtp-password", SMTP_USERNAME),
        ({}, None, None),  # no username: no AUTH
    ],
)
def test_auth_takes_the_login_from_the_environment(
    env: dict[str, str],
    password_file: str | None,
    login: str | None,
    smtp_auth: SMTPServer,
    package: Package,
) -> None:
    (package.project_root / "smtp-password").write_text(SMTP_PASSWORD + "\n", encoding="utf-8")
    settings = email_settings(smtp_auth.port, password_file=password_file)

    receipt = EmailChannel(settings, env=env).send(package)

    assert [mail.login for mail in smtp_auth.received] == [login]
    assert_clean(receipt)


def test_wrong_password_is_permanent_and_secret_free(
    smtp_auth: SMTPServer, package: Package, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "wrong-Pa55word-zz"
    env = {**AUTH_ENV, "BRIEFGEN_SMTP_PASSWORD": wrong}

    error = send_failure(EmailChannel(email_settings(smtp_auth.port), env=env), package)

    assert error.permanent
    assert "login failed: 535" in str(error) and "Authentication credentials invalid" in str(error)
    assert wrong not in str(error) and wrong not in caplog.text
    assert SMTP_USERNAME not in caplog.text
    assert smtp_auth.received == []


@pytest.mark.parametrize("kind", ["email", "webhook"])
@pytest.mark.parametrize(
    ("server", "says"), [(closed_port, "Connection refused"), (silent_port, "timed out")]
)
def test_unreachable_server_is_transient(
    kind: str, server: Callable[[], AbstractContextManager[int]], says: str, package: Package
) -> None:
    with server() as port:
        channel: EmailChannel | WebhookChannel
        if kind == "email":
            channel = EmailChannel(email_settings(port), env=AUTH_ENV, timeout=0.2)
        else:
            settings = WebhookSettings(url=f"http://127.0.0.1:{port}/hook")
            channel = WebhookChannel(settings, env=AUTH_ENV, timeout=0.2)
        error = send_failure(channel, package)

    assert not error.permanent and says in str(error)


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [("550 5.1.1 <gone@example.org>: no such user", True), ("450 4.2.1 mailbox busy", False)],
)
def test_refused_recipient_fails_whole_with_the_server_answer(
    answer: str, permanent: bool, smtp: SMTPServer, package: Package
) -> None:
    smtp.handler.refuse["gone@example.org"] = answer
    settings = email_settings(smtp.port, to=["desk@example.org", "gone@example.org"])

    error = send_failure(EmailChannel(settings, env={}), package)

    assert error.permanent is permanent
    assert f"recipient gone@example.org refused; nothing sent: {answer}" in str(error)
    assert smtp.received == []  # not sent to desk@ either, so a retry cannot send it twice


def test_server_echoing_a_secret_is_redacted(smtp_auth: SMTPServer, package: Package) -> None:
    answer = f"550 5.7.1 user {SMTP_USERNAME} with password {SMTP_PASSWORD} may not send"
    smtp_auth.handler.refuse["desk@example.org"] = answer

    error = send_failure(EmailChannel(email_settings(smtp_auth.port), env=AUTH_ENV), package)

    assert "user *** with password *** may not send" in str(error)


@pytest.mark.parametrize(
    ("security", "says"), [("starttls", "STARTTLS failed"), ("tls", "connect failed: TLS failed")]
)
def test_encryption_the_server_lacks_is_permanent(
    security: str, says: str, smtp: SMTPServer, package: Package
) -> None:
    error = send_failure(EmailChannel(email_settings(smtp.port, security), env={}), package)

    assert error.permanent and says in str(error)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_encrypted_login_and_send(
    security: str, certificate: tuple[Path, Path], package: Package
) -> None:
    cert, key = certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    client_context = ssl.create_default_context(cafile=str(cert))
    implicit = security == "tls"
    with smtp_server(auth=True, tls_context=server_context, implicit_tls=implicit) as server:
        channel = EmailChannel(
            email_settings(server.port, security), env=AUTH_ENV, ssl_context=client_context
        )
        channel.send(package)
        untrusted = EmailChannel(email_settings(server.port, security), env=AUTH_ENV)
        error = send_failure(untrusted, package)

    assert [mail.login for mail in server.received] == [SMTP_USERNAME]
    assert error.permanent and "certificate" in str(error)


def test_plain_auth_to_another_machine_is_refused(
    package: Package, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Refused before connecting; should that regress, fail rather than reach the network.
    monkeypatch.setattr(smtplib.SMTP, "connect", lambda *a, **k: pytest.fail("connected"))
    settings = EmailSettings.model_validate(
        {**VALID_EMAIL, "smtp": {"host": "smtp.example.org", "security": "none"}}
    )
    error = send_failure(EmailChannel(settings, env=AUTH_ENV), package)

    assert error.permanent and "unencrypted" in str(error)


def test_missing_attachment_format_is_permanent(smtp: SMTPServer, package: Package) -> None:
    without_json = dataclasses.replace(
        package, files={k: v for k, v in package.files.items() if k != "json"}
    )
    error = send_failure(
        EmailChannel(email_settings(smtp.port, attach=["json"]), env={}), without_json
    )

    assert error.permanent and "no json file to attach" in str(error)
    assert smtp.received == []


# --- webhook ---------------------------------------------------------------------------


def test_webhook_posts_the_summary_signed(hook: HTTPServer, package: Package) -> None:
    channel = WebhookChannel(
        WebhookSettings(url=hook.url), env={"BRIEFGEN_WEBHOOK_SECRET": WEBHOOK_SECRET}
    )
    receipt = channel.send(package)

    assert receipt == "HTTP 200"
    [request] = hook.requests
    assert request.path == "/hooks/briefs"
    assert request.headers["content-type"] == "application/json"
    assert hook.signature_ok(request)
    assert json.loads(request.body) == {
        "brief": "japan-daily",
        "title": "Japan daily — 東京",
        "date": "2025-01-31",
        "generated_at": "2025-01-31T07:00:05+09:00",
        "slot": "2025-01-31T07:00+09:00",
        "files": {fmt: f"{OUTPUT_FOLDER}/brief.{fmt}" for fmt in ("md", "html", "pdf", "json")},
        "sections": [
            {"topic": "trade", "title": "Trade", "passages": 4},
            {"topic": "security", "title": "Security and defence", "passages": 2},
        ],
        "new_since_previous": 3,
    }


def test_webhook_unsigned_without_secret_and_nulls(
    hook: HTTPServer, package: Package, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy must be bypassed for loopback; this one is a closed port, so using it fails.
    with closed_port() as proxy_port:
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{proxy_port}")
        unslotted = Package(**{**package.__dict__, "slot": None, "new_since_previous": None})
        WebhookChannel(WebhookSettings(url=hook.url), env={}).send(unslotted)

    [request] = hook.requests
    assert "x-briefgen-signature" not in request.headers
    body = json.loads(request.body)
    assert body["slot"] is None and body["new_since_previous"] is None


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (503, False), (408, False), (429, False), (404, True), (400, True), (401, True)],
)
def test_webhook_failure_kind(
    status: int, permanent: bool, hook: HTTPServer, package: Package
) -> None:
    hook.status = status
    hook.answer = f"no such hook\n(signed with {WEBHOOK_SECRET})".encode()
    channel = WebhookChannel(
        WebhookSettings(url=hook.url), env={"BRIEFGEN_WEBHOOK_SECRET": WEBHOOK_SECRET}
    )

    error = send_failure(channel, package)

    assert error.permanent is permanent
    assert f"HTTP {status}" in str(error) and "no such hook (signed with ***)" in str(error)
    assert "/hooks/briefs" not in str(error)  # a hook URL's path may hold a token


def test_webhook_redirect_is_not_followed(hook: HTTPServer, package: Package) -> None:
    hook.status = 302
    hook.headers = {"Location": "http://127.0.0.1:1/elsewhere"}

    error = send_failure(WebhookChannel(WebhookSettings(url=hook.url), env={}), package)

    assert error.permanent and "not followed" in str(error)
    assert len(hook.requests) == 1


# --- settings and registry ------------------------------------------------------------


def problems(model: type[BaseModel], data: dict[str, Any]) -> list[str]:
    """Return where (``smtp.port``) each validation problem of ``data`` is."""
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [".".join(map(str, e["loc"])) for e in info.value.errors()]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"to": ["not an address"]}, "to.0"),
        ({"to": ["Desk <desk@example.org>"]}, "to.0"),
        ({"to": ["a@example.org, b@example.org"]}, "to.0"),
        ({"to": []}, "to"),
        ({"cc": ["desk@"]}, "cc.0"),
        ({"bcc": ["desk@example.org\nBcc: x@evil.example"]}, "bcc.0"),
        ({"from": "Briefs <briefs@>"}, "from"),
        ({"from": "Briefs <brèfs@example.org>"}, "from"),
        ({"smtp": {"host": "smtp.example.org", "security": "ssl"}}, "smtp.security"),
        ({"smtp": {"host": "smtp.example.org", "port": 0}}, "smtp.port"),
        ({"smtp": {"host": "smtp.example.org", "port": 70000}}, "smtp.port"),
        ({"smtp": {"host": "smtp.example.org", "password": "x"}}, "smtp.password"),
        ({"subject": "{title} {when}"}, "subject"),
        ({"attach": [""]}, "attach.0"),
        ({"attach": ["docx"]}, "attach.0"),
    ],
)
def test_email_settings_problems(change: dict[str, Any], where: str) -> None:
    assert problems(EmailSettings, {**VALID_EMAIL, **change}) == [where]


def test_email_settings_defaults() -> None:
    settings = EmailSettings.model_validate({**VALID_EMAIL, "smtp": {"host": "smtp.example.org"}})

    assert settings.sender == "Briefs <briefs@example.org>" and settings.attach == ["pdf"]
    assert (settings.smtp.security, settings.smtp.effective_port) == ("starttls", 587)
    assert EmailSettings.model_validate({**VALID_EMAIL, "from": "Équipe <b@example.org>"})


@pytest.mark.parametrize(
    ("url", "allow_http", "ok"),
    [
        ("https://hooks.example.org/briefs", False, True),
        ("http://127.0.0.1:8080/hook", False, True),
        ("http://127.9.9.9/hook", False, True),
        ("http://localhost/hook", False, True),
        ("http://[::1]:8080/hook", False, True),
        ("http://hooks.example.org/briefs", False, False),
        ("http://10.0.0.5/hook", False, False),
        ("http://hooks.example.org/briefs", True, True),
        ("ftp://hooks.example.org/briefs", True, False),
        ("https://user:pw@hooks.example.org/briefs", False, False),
        ("https:///no-host", False, False),
        ("https://hooks.example.org:99999/x", False, False),
    ],
)
def test_webhook_url_rules(url: str, allow_http: bool, ok: bool) -> None:
    data = {"url": url, "allow_http": allow_http}
    if ok:
        assert WebhookSettings.model_validate(data).url == url
    else:
        assert problems(WebhookSettings, data) == ["url"]


def test_registry_matches_deliver_settings() -> None:
    assert list(CHANNELS) == list(DeliverSettings.model_fields) == ["email", "webhook"]
    for name, spec in CHANNELS.items():
        assert spec.name == name
        assert DeliverSettings.model_fields[name].annotation == spec.settings_model | None


def test_configured_channels_in_registry_order() -> None:
    settings = DeliverSettings.model_validate(
        {"webhook": {"url": "https://hooks.example.org/briefs"}, "email": VALID_EMAIL}
    )
    only_hook = DeliverSettings.model_validate({"webhook": {"url": "http://localhost/h"}})

    assert configured_channels(settings) == ["email", "webhook"]
    assert configured_channels(only_hook) == ["webhook"]
    assert configured_channels(None) == []
    made = CHANNELS["webhook"].make(only_hook.webhook, {})  # type: ignore[arg-type]
    assert isinstance(made, WebhookChannel)
    assert problems(DeliverSettings, {"sms": {"to": "x"}}) == ["sms"]
