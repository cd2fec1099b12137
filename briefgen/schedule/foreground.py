"""The foreground scheduler (``briefgen schedule``): sleep until a slot, run-due, repeat.

It wakes at least once a minute to reload an edited config, and on SIGTERM/SIGINT finishes
the brief in progress and exits 0.
"""

from __future__ import annotations

import os
import select
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from briefgen.errors import ConfigError
from briefgen.schedule.run_due import (
    EXIT_LOCKED,
    EXIT_OK,
    BuildFunction,
    Echo,
    RefreshFunction,
    next_slot,
    run_due,
)

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

MAX_SLEEP = 60.0  # wake at least this often to notice config edits
RETRY_DELAY = 300.0  # retry failures after this (like a cron job every 5 minutes)


class _StopSignal:
    """SIGTERM/SIGINT → a stop request that also wakes the sleeping scheduler.

    The handler only sets a flag and writes to a pipe (no locks, no buffered I/O), so it is
    safe whatever the main thread is doing; a second signal falls back to the default action.
    """

    def __init__(self) -> None:
        self.requested = False
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        os.close(self._read)
        os.close(self._write)

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        os.write(
            2,
            b"briefgen schedule: stopping after the brief in progress (signal again to abort it)\n",
        )
        try:
            os.write(self._write, b"x")
        except BlockingIOError:
            pass

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds`` or until a stop request; return whether one came."""
        if not self.requested:
            select.select([self._read], [], [], max(seconds, 0.0))
        return self.requested


def run_forever(
    config_path: Path | None,
    *,
    topic_files: list[Path],
    echo: Echo,
    build: BuildFunction | None = None,
    refresh_index: RefreshFunction | None = None,
    clock: Callable[[], datetime] | None = None,
    wait: Callable[[float], bool] | None = None,
    load: Callable[..., LoadedConfig] | None = None,
) -> int:
    """Sleep until the next slot, run-due, repeat; reload edited config; exit 0 on SIGTERM.

    ``clock``, ``wait`` (sleep up to N seconds, return True to stop) and ``load`` are for tests.
    """
    if load is None:
        from briefgen.config.load import load_config

        load = load_config
    clock = clock or (lambda: datetime.now(UTC))
    stop = _StopSignal()
    stop.install()
    try:
        cfg = load(config_path, topic_files=topic_files)
        fingerprint = _config_fingerprint(cfg, topic_files)
        echo(
            f"briefgen schedule: watching {cfg.relative(cfg.path)} (stop with Ctrl-C or SIGTERM)"
        )
        checked: datetime | None = None  # run-due has looked at every slot up to this instant
        retry_at: datetime | None = None
        while not stop.requested:
            now = clock()
            wake = now if checked is None else _next_wake(cfg, checked, retry_at)
            if wake is None or wake > now:
                timeout = (
                    MAX_SLEEP if wake is None else min(MAX_SLEEP, (wake - now).total_seconds())
                )
                if (wait or stop.wait)(timeout):
                    break
                current = _config_fingerprint(cfg, topic_files)
                if current != fingerprint:
                    fingerprint = current
                    cfg, reloaded = _reload(load, cfg, config_path, topic_files, echo)
                    if reloaded:
                        checked = None  # a new or changed brief may be due already
                continue
            checked = clock()
            result = run_due(
                cfg,
                now=checked,
                echo=echo,
                build=build,
                refresh_index=refresh_index,
                should_stop=lambda: stop.requested,
            )
            delay = {EXIT_OK: None, EXIT_LOCKED: MAX_SLEEP}.get(result.exit_code, RETRY_DELAY)
            retry_at = None if delay is None else checked + timedelta(seconds=delay)
            if result.next_delivery_try is not None:  # a failed delivery waits for its next try
                retry_at = min(filter(None, (retry_at, result.next_delivery_try)))
        echo("briefgen schedule: stopped")
        return EXIT_OK
    finally:
        stop.restore()


def _next_wake(cfg: LoadedConfig, checked: datetime, retry_at: datetime | None) -> datetime | None:
    """Return the first slot after ``checked`` of any brief, or the retry time if sooner."""
    times = [
        s
        for spec in cfg.config.briefs.values()
        if spec.schedule and (s := next_slot(spec, checked))
    ]
    if retry_at is not None:
        times.append(retry_at)
    return min(times, default=None)


def _reload(
    load: Callable[..., LoadedConfig],
    cfg: LoadedConfig,
    config_path: Path | None,
    topic_files: list[Path],
    echo: Echo,
) -> tuple[LoadedConfig, bool]:
    """Load the edited config; on a mistake keep the previous one and say why."""
    try:
        new = load(config_path, topic_files=topic_files)
    except ConfigError as exc:
        for problem in exc.problems:
            echo(problem)
        echo("briefgen schedule: config has errors; still using the previous version")
        return cfg, False
    echo("briefgen schedule: config changed; reloaded")
    return new, True


def _config_fingerprint(
    cfg: LoadedConfig, topic_files: list[Path]
) -> tuple[tuple[str, int, int], ...]:
    """Return (path, mtime_ns, size) of the config and every topic file it reads."""
    paths = {cfg.path, *topic_files}
    for pattern in cfg.config.topic_files:
        paths.update(cfg.root.glob(pattern))
    stamps = []
    for path in sorted(paths):
        try:
            st = os.stat(path)
        except OSError:
            stamps.append((str(path), -1, -1))
        else:
            stamps.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(stamps)
