"""Deliveries of built briefs: recorded per run and channel, sent, retried, never sent twice.

A run that is built (scheduled, or ``briefgen build --deliver``) gets a ``pending`` delivery
per configured channel in the same transaction that records it built. :func:`send_due` sends
every delivery that is due, each try recorded ``sending`` before the first byte leaves and
``sent`` / ``failed`` / ``gave-up`` after, with the server's answer. A failure that may pass
(a server down, a 4xx SMTP reply, HTTP 5xx, 408, 429) is tried again by later ``run-due``
calls, after growing pauses, up to :data:`MAX_ATTEMPTS` tries, from the files already built; a
refusal (5xx SMTP reply, other HTTP 4xx, a configuration mistake) is not. A sent delivery is
never sent again; ``briefgen deliver`` adds a separate re-send.

Sending happens only under the run-due lock. A process killed between the server's acceptance
and the ``sent`` record leaves the delivery ``sending``: the next ``run-due`` tries it again,
so the brief can arrive twice in that case (with the same Message-ID), never zero times.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from briefgen.deliver import (
    CHANNELS,
    SECRET_VARIABLES,
    DeliveryError,
    Package,
    Section,
    configured_channels,
)
from briefgen.deliver.base import redact
from briefgen.outputs import OUTPUTS
from briefgen.schedule.history import (
    FAILED,
    GAVE_UP,
    SCHEDULED,
    SENT,
    DeliveryRow,
    RunHistory,
    RunRow,
)

if TYPE_CHECKING:
    from pydantic import BaseModel

    from briefgen.config.schema import BriefSpec, LoadedConfig

MAX_ATTEMPTS = 8
# Pauses before the 2nd, 3rd, ... try; the last one repeats. Eight tries span about 4 h 15 min.
RETRY_PAUSES = (timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20),
                timedelta(minutes=40), timedelta(hours=1))
INTERRUPTED = "interrupted while sending (the process stopped); the server may have it: sent again"

Echo = Callable[[str], Any]


@dataclass
class DeliveryReport:
    """What one round of sending did."""

    sent: list[tuple[str, str]] = field(default_factory=list)  # (brief, channel)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (brief, channel, answer)


def channels_of(spec: BriefSpec | None) -> list[str]:
    """Return the channels a brief is delivered on, in registry order."""
    return configured_channels(spec.deliver if spec else None)


def formats_to_build(spec: BriefSpec, formats: list[str]) -> list[str]:
    """Return ``formats`` plus what the brief's deliveries send: an email's HTML body (brief.html),
    its plain-text part (brief.md) and its attachments."""
    email = spec.deliver.email if spec.deliver is not None else None
    extra = ["md", "html", *email.attach] if email else []
    return list(dict.fromkeys([*formats, *extra]))


def brief_summary(record: Mapping[str, Any], date: str) -> dict[str, Any]:
    """Return what deliveries say about a built brief, from its brief.json record."""
    new = record.get("new_since_previous")
    return {
        "title": record.get("title") or record.get("brief") or "",
        "date": date,
        "generated_at": record.get("generated_at") or "",
        "sections": [
            {"topic": s["topic"], "title": s["title"], "passages": len(s["passages"])}
            for s in record.get("sections", [])
        ],
        "new_since_previous": None if new is None else len(new),
    }


def summary_from_files(cfg: LoadedConfig, files: list[tuple[str, str]], date: str) -> dict[str, Any]:
    """Return the summary of a built brief from its brief.json (an empty one without it)."""
    for path, _ in files:
        if path.rsplit("/", 1)[-1] == OUTPUTS.get("json").filename:
            try:
                record = json.loads(cfg.resolve(path).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                break
            return brief_summary(record, date)
    return brief_summary({}, date)


def package_for(cfg: LoadedConfig, run: RunRow, delivery: DeliveryRow) -> Package:
    """Return what a channel sends for ``run``: its files as built, and its summary."""
    if run.summary is None:
        raise DeliveryError(
            f"run {run.id} of {run.brief} was built by an older briefgen and has no summary "
            "to deliver; build it again",
            permanent=True,
        )
    by_filename = {o.filename: o.name for o in OUTPUTS}
    files = {}
    for path, _ in run.files:
        fmt = by_filename.get(path.rsplit("/", 1)[-1])
        if fmt is not None:
            files[fmt] = cfg.resolve(path)
    summary = run.summary
    key = _run_key(run) + (f".resend{delivery.id}" if delivery.resend else "")
    return Package(
        brief=run.brief,
        title=summary["title"],
        date=summary["date"],
        generated_at=summary["generated_at"],
        slot=_local_slot(cfg, run),
        run_id=key,
        files=files,
        sections=tuple(Section(s["topic"], s["title"], s["passages"]) for s in summary["sections"]),
        new_since_previous=summary["new_since_previous"],
        project_root=cfg.root,
    )


def send_due(
    cfg: LoadedConfig,
    history: RunHistory,
    *,
    now: datetime,
    echo: Echo,
    only: set[int] | None = None,
    env: Mapping[str, str] = os.environ,
) -> DeliveryReport:
    """Send every delivery that is due (or only the ones with ids in ``only``); record each try.

    Call only while holding the run-due lock.
    """
    report = DeliveryReport()
    for delivery in history.deliveries_due(now, max_attempts=MAX_ATTEMPTS):
        if only is not None and delivery.id not in only:
            continue
        run = history.run(delivery.run_id)
        if history.shared and run and not all(cfg.resolve(p).is_file() for p, _ in run.files):
            # Built on another host that keeps its outputs to itself: that host sends it.
            echo(f"{run.brief}: {delivery.channel} delivery of run {run.id} left to "
                 f"{run.host or 'the host that built it'} (its files are not here)")
            continue
        send_one(cfg, history, delivery, now=now, echo=echo, report=report, env=env)
    return report


def send_one(
    cfg: LoadedConfig,
    history: RunHistory,
    delivery: DeliveryRow,
    *,
    now: datetime,
    echo: Echo,
    report: DeliveryReport,
    env: Mapping[str, str] = os.environ,
) -> None:
    """Try one delivery once and record the outcome."""
    run = history.run(delivery.run_id)
    assert run is not None  # deliveries are deleted with their run
    what = f"{run.brief}: {delivery.channel}" + (" (re-send)" if delivery.resend else "")
    try:
        settings = _settings(cfg, run.brief, delivery)
        channel = CHANNELS[delivery.channel].make(settings, env)
        package = package_for(cfg, run, delivery)
    except DeliveryError as exc:
        history.end_delivery(delivery.id, GAVE_UP, str(exc))
        report.failed.append((run.brief, delivery.channel, str(exc)))
        echo(f"{what}: not sent, giving up: {exc}")
        return
    history.start_delivery(delivery.id)
    attempt = delivery.attempts + 1
    try:
        receipt = channel.send(package)
    except Exception as exc:  # noqa: BLE001  recorded, and tried again like a network failure
        if not isinstance(exc, DeliveryError):
            secrets = [env.get(name) for name in SECRET_VARIABLES]
            exc = DeliveryError(redact(f"{type(exc).__name__}: {exc}", secrets), permanent=False)
        answer = str(exc)
        if exc.permanent or attempt >= MAX_ATTEMPTS:
            history.end_delivery(delivery.id, GAVE_UP, answer)
            why = "refused" if exc.permanent else f"{attempt} tries"
            echo(f"{what}: FAILED, giving up ({why}): {answer}")
        else:
            retry = now + RETRY_PAUSES[min(attempt, len(RETRY_PAUSES)) - 1]
            history.end_delivery(delivery.id, FAILED, answer, next_try=retry)
            echo(f"{what}: FAILED (try {attempt} of {MAX_ATTEMPTS}, again after "
                 f"{retry.astimezone(UTC):%Y-%m-%d %H:%M} UTC): {answer}")
        report.failed.append((run.brief, delivery.channel, answer))
        return
    history.end_delivery(delivery.id, SENT, receipt)
    report.sent.append((run.brief, delivery.channel))
    echo(f"{what}: sent ({receipt})")


def _settings(cfg: LoadedConfig, brief: str, delivery: DeliveryRow) -> BaseModel:
    """Return the channel's settings as configured now (--to recipients replace the configured)."""
    spec = cfg.config.briefs.get(brief)
    settings: BaseModel | None = (
        getattr(spec.deliver, delivery.channel, None) if spec and spec.deliver else None
    )
    if settings is None:
        raise DeliveryError(
            f"briefs.{brief}.deliver.{delivery.channel} is no longer in {cfg.path.name}",
            permanent=True,
        )
    if delivery.recipients:
        return settings.model_copy(update={"to": list(delivery.recipients), "cc": [], "bcc": []})
    return settings


def _run_key(run: RunRow) -> str:
    """Name a run for Message-IDs: its slot, or when a manual build finished."""
    if run.kind == SCHEDULED and run.slot:
        return run.slot.replace("-", "").replace(":", "")[:-3] + "Z"  # 20250309T2200Z
    stamp = (run.finished or run.started).replace("-", "").replace(":", "")
    return f"manual.{stamp}.{run.id}"


def _local_slot(cfg: LoadedConfig, run: RunRow) -> str | None:
    """Return a scheduled run's slot in the brief's zone, ISO-8601 with its offset."""
    if run.kind != SCHEDULED or not run.slot:
        return None
    spec = cfg.config.briefs.get(run.brief)
    zone = ZoneInfo(spec.schedule.timezone) if spec and spec.schedule else ZoneInfo("UTC")
    instant = datetime.fromisoformat(run.slot)
    return instant.astimezone(zone).isoformat()
