"""Database URLs in config: a PostgreSQL URL must carry no password (it comes from PGPASSWORD or
~/.pgpass, read by libpq), and is shown in messages with any password replaced by ``***``."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit, urlunsplit


def database_url_problem(url: str) -> str | None:
    """Return why ``url`` is not a usable PostgreSQL URL for briefgen (one with no password), or None.

    The password must come from PGPASSWORD or ~/.pgpass (read by libpq), never from a file that
    is copied between hosts and committed; so a URL that carries one is refused.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("postgresql", "postgres"):
        return (f"{_redacted(url)!r} is not a PostgreSQL URL; write "
                "postgresql://USER@HOST:5432/DATABASE")
    try:
        has_password = parts.password is not None
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as exc:
        return f"{_redacted(url)!r}: {exc}"
    query = {key.lower() for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    if has_password or "password" in query:
        return (f"{_redacted(url)!r} contains a password; remove it and give it in PGPASSWORD "
                "or ~/.pgpass instead")
    return None


def _redacted(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (it is never shown)."""
    parts = urlsplit(url.strip())
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            netloc = userinfo.split(":", 1)[0] + ":***@" + host
    query = "&".join(
        f"{k}=***" if k.lower() == "password" else f"{k}={v}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_url(url: str) -> str:
    """Return a database URL fit for messages: any password replaced by ``***``."""
    return _redacted(url)
