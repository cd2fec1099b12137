"""Where the scheduler keeps its state: the run history and the run-due lock.

Every command that reads or writes the run history opens it here (``open_history``), so a
second store (a shared database) is chosen in one place. Whoever holds the run-due lock is
the only process that builds scheduled briefs or sends deliveries.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from briefgen.schedule.sqlite_history import RunState

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig


def runs_db_path(cfg: LoadedConfig) -> Path:
    """Return the run-history database path (in the state folder, next to the index)."""
    return cfg.state_dir / "runs.sqlite"


def open_history(cfg: LoadedConfig, *, create: bool = True) -> RunState:
    """Open the project's run history (``create=False``: ScheduleError if there is none)."""
    return RunState(runs_db_path(cfg), create=create)


def lock_path(cfg: LoadedConfig) -> Path:
    """Return the run-due lock file."""
    return cfg.state_dir / "run-due.lock"
