"""What a delivery channel is given, what it promises, and how it fails."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel

from briefgen.errors import BriefgenError

# Long server answers (an HTML error page) are cut so that a failure stays one readable line.
MAX_ANSWER_CHARS = 200


@dataclass(frozen=True)
class Section:
    """One topic section of a built brief, as a channel reports it."""

    topic: str
    title: str
    passages: int


@dataclass(frozen=True)
class Package:
    """A built brief ready to deliver; the scheduler makes one per run."""

    brief: str
    title: str
    date: str
    generated_at: str
    slot: str | None
    run_id: str  # stable per run, so a retried email keeps its Message-ID
    files: dict[str, Path]  # format -> absolute path of the written file
    sections: tuple[Section, ...]
    new_since_previous: int | None
    project_root: Path  # webhook "files" paths are relative to it


class Channel(Protocol):
    """A way to deliver a brief: email, webhook, ..."""

    name: ClassVar[str]

    def send(self, package: Package) -> str:
        """Deliver ``package``; return a short receipt or raise DeliveryError."""
        ...


class DeliveryError(BriefgenError):
    """A delivery failed; ``permanent`` says whether retrying the same message can help."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        self.permanent = permanent
        super().__init__(one_line(message))


SettingsT = TypeVar("SettingsT", bound=BaseModel)


@dataclass(frozen=True)
class ChannelSpec(Generic[SettingsT]):
    """A registered channel: its config key, its settings schema and how to build it."""

    name: str
    settings_model: type[SettingsT]
    make: Callable[[SettingsT, Mapping[str, str]], Channel]


def one_line(text: str, limit: int | None = None) -> str:
    """Return ``text`` with all whitespace runs made single spaces, cut to ``limit`` chars."""
    flat = " ".join(text.split())
    if limit is not None and len(flat) > limit:
        return flat[: limit - 1] + "…"
    return flat


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Return ``text`` with every occurrence of each non-empty secret replaced by ``***``."""
    # Longest first, so that a secret containing another is replaced whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def is_loopback(host: str) -> bool:
    """Return whether ``host`` names this machine (localhost, 127.0.0.0/8, ::1)."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def env_secret(env: Mapping[str, str], key: str) -> str | None:
    """Return the environment variable ``key``, or None when unset or empty."""
    value = env.get(key, "")
    return value or None
