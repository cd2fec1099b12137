"""Deliver a brief by webhook: POST a JSON summary, signed with HMAC-SHA256 when a secret is set."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

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

if TYPE_CHECKING:  # the HTTP stack is imported when a POST is sent: config loads stay quick
    import ssl
    import urllib.error
    import urllib.request

SECRET_ENV = "BRIEFGEN_WEBHOOK_SECRET"
SIGNATURE_HEADER = "X-Briefgen-Signature"
# Statuses worth retrying: the server is overloaded, slow or briefly broken.
TRANSIENT_4XX = (408, 429)


class WebhookSettings(BaseModel):
    """The `deliver.webhook` section: where the JSON summary of a brief is POSTed."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)

    # Declared before url so that url's check can read it.
    allow_http: bool = Field(default=False, strict=True)
    """Allow a plain http:// URL to another machine (the brief and its signature then cross
    the network unencrypted); http to this machine (localhost) is always allowed."""

    url: str
    """Where the JSON is POSTed, e.g. https://hooks.example.org/briefs. The signing secret
    comes from the environment (BRIEFGEN_WEBHOOK_SECRET), never from the config."""

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str, info: ValidationInfo) -> str:
        # An invalid allow_http is reported by itself; do not add a second problem here.
        problem = url_problem(value, allow_http=info.data.get("allow_http", True))
        if problem:
            raise ValueError(problem)
        return value


def url_problem(url: str, *, allow_http: bool) -> str | None:
    """Return why ``url`` is not an acceptable webhook address, or None when it is."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not 0..65535
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if url != url.strip() or any(c.isspace() for c in url):
        return "must not contain spaces"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "must be an https:// URL, e.g. https://hooks.example.org/briefs"
    if parts.username is not None or parts.password is not None:
        return f"must not hold a login; the signing secret goes in {SECRET_ENV}"
    if parts.scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        return "must use https:// (http:// is allowed only to localhost, or with allow_http: true)"
    return None


def webhook_payload(package: Package) -> dict[str, Any]:
    """Return the JSON object POSTed for ``package``."""
    files: dict[str, str] = {}
    for fmt, path in package.files.items():
        try:
            files[fmt] = path.relative_to(package.project_root).as_posix()
        except ValueError:  # written outside the project: give it whole
            files[fmt] = path.as_posix()
    return {
        "brief": package.brief,
        "title": package.title,
        "date": package.date,
        "generated_at": package.generated_at,
        "slot": package.slot,
        "files": files,
        "sections": [
            {"topic": s.topic, "title": s.title, "passages": s.passages} for s in package.sections
        ],
        "new_since_previous": package.new_since_previous,
    }


def signature(body: bytes, secret: str) -> str:
    """Return the X-Briefgen-Signature value: ``sha256=`` and the hex HMAC-SHA256 of ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _no_redirects() -> urllib.request.BaseHandler:
    """Return a handler that answers a redirect as the error it is: the URL in the config needs
    updating, and following it could send the brief (and its signature) somewhere unchecked."""
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> urllib.request.Request | None:
            return None

    return NoRedirects()


class WebhookChannel:
    """POST a brief's summary to a URL."""

    name: ClassVar[str] = "webhook"

    def __init__(
        self,
        settings: WebhookSettings,
        env: Mapping[str, str] = os.environ,
        *,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self.env = env
        self.timeout = timeout
        self.ssl_context = ssl_context  # None: the system's trusted CAs

    def send(self, package: Package) -> str:
        """POST ``package``'s summary; return ``HTTP <status>``."""
        import http.client
        import urllib.error
        import urllib.request

        body = json.dumps(webhook_payload(package), ensure_ascii=False).encode("utf-8")
        secret = env_secret(self.env, SECRET_ENV)
        headers = {"Content-Type": "application/json", "User-Agent": "briefgen"}
        if secret:
            headers[SIGNATURE_HEADER] = signature(body, secret)
        request = urllib.request.Request(
            self.settings.url, data=body, headers=headers, method="POST"
        )
        parts = urlsplit(self.settings.url)
        # Only scheme and host in messages: many hook URLs carry a token in their path.
        where = f"webhook {parts.scheme}://{parts.netloc}"
        try:
            with self._opener(parts.hostname or "").open(request, timeout=self.timeout) as answer:
                return f"HTTP {answer.status}"
        except urllib.error.HTTPError as exc:
            detail, permanent = _describe_status(exc)
        except urllib.error.URLError as exc:
            detail, permanent = _describe_network(exc.reason)
        except (http.client.HTTPException, OSError) as exc:
            detail, permanent = _describe_network(exc)
        raise DeliveryError(redact(f"{where}: {detail}", (secret,)), permanent=permanent) from None

    def _opener(self, host: str) -> urllib.request.OpenerDirector:
        import urllib.request

        # A proxy from the environment is for the outside world, never for this machine.
        proxies = urllib.request.ProxyHandler({} if is_loopback(host) else None)
        return urllib.request.build_opener(
            _no_redirects(), proxies, urllib.request.HTTPSHandler(context=self.ssl_context)
        )


def _describe_status(exc: urllib.error.HTTPError) -> tuple[str, bool]:
    """Return a one-line account of an HTTP error answer and whether it is permanent."""
    import http.client

    code = exc.code
    try:
        raw = exc.read(4 * MAX_ANSWER_CHARS)
    except (http.client.HTTPException, OSError):
        raw = b""
    finally:
        exc.close()
    text = one_line(raw.decode("utf-8", "replace"), MAX_ANSWER_CHARS)
    detail = f"HTTP {code} {exc.reason}".rstrip() + (f": {text}" if text else "")
    if 300 <= code < 400:
        location = exc.headers.get("Location", "") if exc.headers else ""
        return f"{detail} (redirect to {location or '?'} not followed; update the url)", True
    return detail, 400 <= code < 500 and code not in TRANSIENT_4XX


def _describe_network(reason: object) -> tuple[str, bool]:
    """Return a one-line account of a failure to reach the server and whether it is permanent."""
    import http.client
    import ssl

    if isinstance(reason, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted: {reason.verify_message}", True
    if isinstance(reason, ssl.SSLError):
        return f"TLS failed: {reason.reason or reason}", True
    if isinstance(reason, TimeoutError):
        return "timed out", False
    if isinstance(reason, OSError):
        return f"cannot connect: {reason.strerror or reason}", False
    if isinstance(reason, http.client.HTTPException):
        return f"bad answer from the server: {type(reason).__name__} {reason}".rstrip(), False
    return f"cannot connect: {reason}", False


SPEC = ChannelSpec(name=WebhookChannel.name, settings_model=WebhookSettings, make=WebhookChannel)
