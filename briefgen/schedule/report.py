"""What ``briefgen history`` prints (``schedule --list`` is in ``briefgen.listing``)."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from briefgen.errors import ScheduleError
from briefgen.schedule import slots as cronslots
from briefgen.schedule.history import DONE, FAILED, MANUAL, MISSED, RUNNING, DeliveryRow, RunRow
from briefgen.schedule.state import describe_history, history_exists, open_history

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig


def format_history(cfg: LoadedConfig, brief: str | None, *, limit: int) -> str:
    """Show the newest ``limit`` runs (of one brief or all), newest first, each followed by
    its deliveries."""
    if not history_exists(cfg):
        if brief is not None and brief not in cfg.config.briefs:
            raise ScheduleError(_unknown_brief(cfg, brief, []))
        return f"no runs yet ({describe_history(cfg)} does not exist; see `briefgen run-due`)"
    with open_history(cfg, create=False) as state:
        if brief is not None and brief not in cfg.config.briefs and brief not in state.briefs():
            raise ScheduleError(_unknown_brief(cfg, brief, state.briefs()))
        rows = state.history(brief, limit=limit)
    if not rows:
        return "no runs yet" + (f" of {brief}" if brief else "")
    table: list[tuple[str, ...]] = [
        ("RUN", "BRIEF", "SLOT (brief's zone)", "STATUS", "TRY", "STARTED (UTC)", "TOOK",
         "OUTPUT / ERROR")
    ]
    for row in rows:
        table.append(_history_cells(cfg, row))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]) - 1)]
    runs: list[RunRow | None] = [None, *rows]  # the header has no deliveries
    lines = []
    for cells, run in zip(table, runs):
        lines.append(("  ".join(c.ljust(w) for c, w in zip(cells, widths)) + "  " + cells[-1]).rstrip())
        for delivery in run.deliveries if run else ():
            lines.append(" " * (widths[0] + widths[1] + 4) + _delivery_line(delivery))
    return "\n".join(lines)


def _history_cells(cfg: LoadedConfig, row: RunRow) -> tuple[str, ...]:
    spec = cfg.config.briefs.get(row.brief)
    zone = ZoneInfo(spec.schedule.timezone) if spec and spec.schedule else UTC
    slot = "manual build"
    if row.kind != MANUAL and row.slot:
        slot = cronslots.local_time(cronslots.parse_slot(row.slot).astimezone(zone))
    took = ""
    if row.finished and row.status != MISSED and row.kind != MANUAL:
        seconds = (
            cronslots.parse_slot(row.finished) - cronslots.parse_slot(row.started)
        ).total_seconds()
        took = f"{seconds:.0f} s"
    if row.status == DONE:
        detail = f"{row.out_dir} ({len(row.files)} files)"
        if row.host:
            detail += f" on {row.host}"
    elif row.status == RUNNING:
        detail = "building now (or killed; retried on the next run)"
    else:
        detail = (row.error or "").splitlines()[0] if row.error else ""
    attempt = str(row.attempt) if row.attempt and row.kind != MANUAL else "-"
    return (
        str(row.id),
        row.brief,
        slot,
        row.status,
        attempt,
        row.started.replace("T", " ").rstrip("Z"),
        took,
        detail,
    )


def _delivery_line(delivery: DeliveryRow) -> str:
    """One delivery as a line under its run: channel, status, tries, when, the server's answer."""
    what = delivery.channel
    if delivery.resend:
        what += " re-send" + (f" to {', '.join(delivery.recipients)}" if delivery.recipients else "")
    tries = f"{delivery.attempts} {'try' if delivery.attempts == 1 else 'tries'}"
    line = f"-> {what}: {delivery.status}"
    if delivery.attempts:
        line += f", {tries}, last {delivery.updated.replace('T', ' ').rstrip('Z')}"
    if delivery.next_try and delivery.status == FAILED:
        line += f", next after {delivery.next_try.replace('T', ' ').rstrip('Z')}"
    if delivery.answer:
        line += f": {delivery.answer}"
    return line


def _unknown_brief(cfg: LoadedConfig, brief: str, with_history: list[str]) -> str:
    known = sorted(set(cfg.config.briefs) | set(with_history))
    return f"unknown brief {brief!r}; known briefs: {', '.join(known) or '(none)'}"
