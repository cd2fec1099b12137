"""Where the scheduler keeps its state: the run history and its locks.

Every command that reads or writes the run history opens it here (``open_history``). It
follows ``index.backend``: a project on SQLite keeps it in one file in its state folder, with
the run-due lock beside it; a project on PostgreSQL keeps it in the database that holds its
index, with advisory locks per slot, so that every host sharing the index shares the schedule.
A state folder that cannot be written, or a history file linked out of it, is one line saying
what to do, not a traceback (a damaged history file: see ``sqlite_history``).
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen._fs import exclusive_lock, is_inside
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
    path = runs_db_path(cfg)
    if path.is_symlink() and not is_inside(path, path.parent):  # SQLite would write through it
        raise ScheduleError(
            f"{path} links outside the state folder ({os.path.realpath(path)}); nothing is "
            "written there: remove the link"
        )
    return RunState(path, create=create)


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
    return _file_lock(cfg)


@contextlib.contextmanager
def _file_lock(cfg: LoadedConfig) -> Iterator[str | None]:
    """Hold the run-due lock file; a state folder that cannot be written is one line."""
    path = lock_path(cfg)
    with contextlib.ExitStack() as stack:
        try:
            holder = stack.enter_context(exclusive_lock(path))
        except OSError as exc:
            raise ScheduleError(
                f"{path}: cannot use the state folder ({exc.strerror or exc}); make "
                f"{cfg.state_dir} a writable folder or set state_dir in {cfg.path.name}"
            ) from None
        yield holder
