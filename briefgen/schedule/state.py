"""Where the scheduler keeps its state: the run history and its locks.

Every command that reads or writes the run history opens it here (``open_history``). It
follows ``index.backend``: a project on SQLite keeps it in one file in its state folder, with
the run-due lock beside it; a project on PostgreSQL keeps it in the database that holds its
index, with advisory locks per slot, so that every host sharing the index shares the schedule.
"""

from __future__ import annotations

import contextlib
import importlib
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen._fs import exclusive_lock
from briefgen.errors import ScheduleError
from briefgen.index.backends import backend_named
from briefgen.schedule.sqlite_history import RunState

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig
    from briefgen.schedule.history import RunHistory


def runs_db_path(cfg: LoadedConfig) -> Path:
    """Return the SQLite run-history path (in the state folder, next to the index)."""
    return cfg.state_dir / "runs.sqlite"


def open_history(
    cfg: LoadedConfig, *, create: bool = True, backend: str | None = None
) -> RunHistory:
    """Open the project's run history (``create=False``: ScheduleError if there is none).

    ``backend`` overrides ``index.backend`` (``briefgen migrate`` opens both).
    """
    if (backend or cfg.config.index.backend) == "postgresql":
        backend_named("postgresql")  # says how to install the driver if it is missing
        # Imported on use: a project on SQLite never imports the PostgreSQL driver.
        url = importlib.import_module("briefgen.index.postgres.connection").database_url(cfg)
        history: RunHistory = importlib.import_module("briefgen.schedule.pg_history").PgRunState(
            url, create=create)
        return history
    return RunState(runs_db_path(cfg), create=create)


def history_exists(cfg: LoadedConfig) -> bool:
    """Say whether the project has a run history (without creating one)."""
    if cfg.config.index.backend != "postgresql":
        return runs_db_path(cfg).exists()
    try:
        open_history(cfg, create=False).close()
    except ScheduleError:
        return False
    return True


def describe_history(cfg: LoadedConfig) -> str:
    """Return where the run history is, for messages."""
    if cfg.config.index.backend == "postgresql":
        return "the run history in the database"
    return cfg.relative(runs_db_path(cfg))


def lock_path(cfg: LoadedConfig) -> Path:
    """Return the run-due lock file (SQLite projects)."""
    return cfg.state_dir / "run-due.lock"


def run_lock(cfg: LoadedConfig) -> AbstractContextManager[str | None]:
    """Hold the lock every run-due takes first; yield None, or who holds it.

    SQLite: a file lock beside the history (the kernel drops it when its process dies), so one
    run-due at a time builds and sends. PostgreSQL: nothing, since hosts share the schedule;
    each slot, and sending, has its own lock in the database (``RunHistory``).
    """
    if cfg.config.index.backend == "postgresql":
        return contextlib.nullcontext(None)
    return exclusive_lock(lock_path(cfg))
