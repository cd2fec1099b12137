"""The one exception hierarchy of briefgen; only ``cli.py`` turns these into exit codes."""

from __future__ import annotations


class BriefgenError(Exception):
    """A problem the user can act on; the message names the file and says what to do."""

    exit_code = 1


class ConfigError(BriefgenError):
    """The configuration (config.yaml, a topic file) is invalid.

    ``problems`` holds every problem found, one ``file:line:col: path: message`` string each.
    """

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = problems if problems else [message]
        super().__init__("\n".join(self.problems))


class CorpusError(BriefgenError):
    """The corpus cannot be read (missing folder, unreadable file in --strict mode)."""


class StoreError(BriefgenError):
    """The index store cannot be opened or updated (locked, corrupt, unreachable, disk full)."""


class IndexBusyError(StoreError):
    """Another process kept the index's update lock longer than ``index.lock_wait_seconds``."""


class RenderError(BriefgenError):
    """A brief could not be rendered (template mistake, PDF failure, unwritable output)."""


class VerifyError(BriefgenError):
    """A brief's quotes or sources no longer match the corpus."""


class ScheduleError(BriefgenError):
    """A scheduled run cannot proceed (lock held, bad state database)."""
