"""What a person does by hand: a build recorded in the run history (and delivered with
``briefgen build --deliver``), and ``briefgen deliver`` re-sending a built brief.

Sending needs the run-due lock, as in ``run-due``: if a ``run-due`` holds it, the deliveries
stay pending and that ``run-due`` (or the next) sends them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen._fs import sha256_file
from briefgen.deliver.email import address_problem
from briefgen.errors import ConfigError, ScheduleError
from briefgen.schedule import deliveries
from briefgen.schedule.history import DONE, RunHistory, RunRow
from briefgen.schedule.state import open_history, run_lock

if TYPE_CHECKING:
    from briefgen.brief.model import Brief
    from briefgen.config.schema import BriefSpec, LoadedConfig


def require_channels(cfg: LoadedConfig, name: str, spec: BriefSpec) -> list[str]:
    """Return the brief's delivery channels; a ConfigError if it has none."""
    channels = deliveries.channels_of(spec)
    if not channels:
        raise ConfigError(
            f"{cfg.path.name}: briefs.{name} has no deliver: section; add deliver: email: or "
            "webhook: (see docs/scheduling.md)"
        )
    return channels


def record_build(
    cfg: LoadedConfig, brief: Brief, files: Sequence[Path], *, channels: Sequence[str] = ()
) -> int:
    """Record a manual build in the run history (with a pending delivery per channel)."""
    from briefgen.brief.record import brief_record

    recorded = [(cfg.relative(f), sha256_file(f)) for f in files]
    folder = cfg.relative(Path(files[0]).parent) if files else ""
    summary = deliveries.brief_summary(brief_record(brief), brief.date)
    with open_history(cfg) as history:
        return history.record_manual(brief.name, folder, recorded, summary, channels)


def send_run(cfg: LoadedConfig, run_id: int, echo: deliveries.Echo) -> deliveries.DeliveryReport:
    """Send the pending deliveries of one run now (under the run-due lock)."""
    with open_history(cfg) as history:
        run = history.run(run_id)
        ids = {d.id for d in run.deliveries} if run else set()
    return _send(cfg, ids, echo)


def resend(
    cfg: LoadedConfig,
    brief: str,
    *,
    run_id: int | None,
    to: Sequence[str],
    echo: deliveries.Echo,
) -> deliveries.DeliveryReport:
    """Send a built brief again (``briefgen deliver``): the latest run, or run ``run_id``;
    ``to`` replaces the email recipients (and sends the email only)."""
    spec = cfg.config.briefs.get(brief)
    if spec is None:
        known = ", ".join(sorted(cfg.config.briefs)) or "(none)"
        raise ConfigError(f"{cfg.path.name}: no brief named {brief!r} (defined: {known})")
    channels = require_channels(cfg, brief, spec)
    for address in to:
        problem = address_problem(address, display_name=False)
        if problem:
            raise ConfigError(f"--to {address}: {problem}")
    if to:
        if "email" not in channels:
            raise ConfigError(
                f"--to: briefs.{brief} is not delivered by email; add deliver: email: to it"
            )
        channels = ["email"]
    with open_history(cfg) as history:
        run = _run_to_send(history, brief, run_id)
        ids = {history.add_resend(run.id, channel, list(to) or None) for channel in channels}
    echo(f"{brief}: sending run {run.id} ({run.out_dir}) again by {' and '.join(channels)}")
    return _send(cfg, ids, echo)


def _run_to_send(history: RunHistory, brief: str, run_id: int | None) -> RunRow:
    if run_id is None:
        run = history.latest_built(brief)
        if run is None:
            raise ScheduleError(f"{brief} has not been built yet; build it first")
        return run
    run = history.run(run_id)
    if run is None or run.brief != brief:
        raise ScheduleError(
            f"run {run_id} is not a run of {brief}; see `briefgen history {brief}`"
        )
    if run.status != DONE:
        raise ScheduleError(f"run {run_id} of {brief} was not built ({run.status})")
    return run


def _send(cfg: LoadedConfig, ids: set[int], echo: deliveries.Echo) -> deliveries.DeliveryReport:
    with run_lock(cfg) as holder, contextlib.ExitStack() as opened:
        history = opened.enter_context(open_history(cfg)) if holder is None else None
        sender = None if history is None else opened.enter_context(history.delivery_lock())
        if history is None or sender is not None:
            echo(f"briefgen run-due is running ({holder or sender}): it sends these deliveries "
                 "when it is done with its own")
            return deliveries.DeliveryReport()
        return deliveries.send_due(cfg, history, now=datetime.now(UTC), echo=echo, only=ids)
