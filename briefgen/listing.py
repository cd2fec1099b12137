"""What a project defines, for people: ``briefgen topics``, ``briefgen briefs`` and
``briefgen schedule --list``.

Plain rows first (:func:`topic_rows`, :func:`brief_rows`), then their text. The rows are what
the configuration says and what the schedule will do next; nothing here reads the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from briefgen.schedule import slots as cronslots

if TYPE_CHECKING:
    from briefgen.config.schema import BriefSpec, LoadedConfig


@dataclass(frozen=True)
class TopicRow:
    """One topic: its key, title, the file that defines it and the briefs that use it."""

    key: str
    title: str
    defined_in: str  # relative to the project root when inside it
    used_by: tuple[str, ...]


@dataclass(frozen=True)
class BriefRow:
    """One brief: what it contains, where ``briefgen build`` writes it and when it runs next."""

    name: str
    title: str
    default: bool
    topics: tuple[str, ...]
    formats: tuple[str, ...]
    output: str  # the folder `briefgen build` writes today, relative to the project root
    schedule: str | None  # "0 7 * * 1-5" in Asia/Tokyo
    next_run: datetime | None  # in the brief's zone
    next_output: str | None  # the dated folder of the next scheduled run


def topic_rows(cfg: LoadedConfig) -> list[TopicRow]:
    """Return every topic, in the order the configuration defines them."""
    rows = []
    for key, topic in cfg.topics.items():
        source = cfg.topic_sources.get(key, cfg.path)
        used_by = tuple(name for name, spec in cfg.config.briefs.items() if key in spec.topics)
        rows.append(TopicRow(key, topic.title, cfg.relative(source), used_by))
    return rows


def brief_rows(cfg: LoadedConfig, now: datetime | None = None) -> list[BriefRow]:
    """Return every brief, with its next scheduled run after ``now`` (default: the present)."""
    now = now or datetime.now(UTC)
    default = cfg.config.default_brief or next(iter(cfg.config.briefs), None)
    rows = []
    for name, spec in cfg.config.briefs.items():
        sched, slot, dated = spec.schedule, None, None
        if sched is not None:
            slot = next(cronslots.slots_after(sched.cron, sched.timezone, now), None)
            if slot is not None:
                dated = cronslots.dated_path(cfg, name, slot) + "/"
        rows.append(BriefRow(
            name, spec.title, name == default, tuple(spec.topics), tuple(spec.formats),
            build_output(cfg, name, spec, now.date()),
            f'"{sched.cron}" in {sched.timezone}' if sched else None, slot, dated,
        ))
    return rows


def output_path(cfg: LoadedConfig, folder: str) -> str:
    """Return ``<output.dir>/<folder>/`` as shown to people (relative to the project root)."""
    return cfg.relative(cfg.resolve(cfg.config.output.dir) / folder) + "/"


def build_output(cfg: LoadedConfig, name: str, spec: BriefSpec, day: date) -> str:
    """Return the folder ``briefgen build NAME`` writes on ``day``."""
    return output_path(cfg, spec.output.format(brief=name, date=day.isoformat()))


def format_topics(cfg: LoadedConfig) -> str:
    """Return the table of ``briefgen topics``."""
    rows = topic_rows(cfg)
    if not rows:
        return "no topics defined; add one under `topics:` in config.yaml or as a file in topics/"
    table = [("TOPIC", "TITLE", "DEFINED IN", "USED BY")] + [
        (r.key, r.title, r.defined_in, ", ".join(r.used_by) or "-") for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[3]
             for row in table]
    unused = [r.key for r in rows if not r.used_by]
    if unused and cfg.config.briefs:
        lines.append(f"\nnot in any brief: {', '.join(unused)}; add to a brief's `topics:` for a "
                     "section (`briefgen select TOPIC` shows what one picks)")
    return "\n".join(lines)


def format_briefs(cfg: LoadedConfig, now: datetime | None = None) -> str:
    """Return the description of every brief, as ``briefgen briefs`` prints it."""
    rows = brief_rows(cfg, now)
    if not rows:
        return "no briefs defined; add one under `briefs:` in config.yaml"
    blocks = []
    for r in rows:
        lines = [f"{r.name}{' (default)' if r.default else ''}: {r.title}",
                 f"  topics:    {', '.join(r.topics)}",
                 f"  formats:   {', '.join(r.formats)}",
                 f"  output:    {r.output}  (briefgen build {r.name})"]
        if r.schedule is None:
            lines.append("  schedule:  none (add `schedule:` to build it with `briefgen run-due`)")
        else:
            lines.append(f"  schedule:  {r.schedule}")
            if r.next_run is not None:
                lines.append(f"  next run:  {cronslots.local_time(r.next_run)} -> {r.next_output}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def format_schedule_list(cfg: LoadedConfig, *, now: datetime | None = None, count: int = 3) -> str:
    """Show each scheduled brief's next ``count`` runs (its zone, UTC) and their folders."""
    now = now or datetime.now(UTC)
    lines = []
    for name, spec in cfg.config.briefs.items():
        sched = spec.schedule
        if sched is None:
            lines.append(f"{name}: not scheduled")
            continue
        keep = f", keep {spec.keep}" if spec.keep else ""
        lines.append(
            f'{name}: "{sched.cron}" in {sched.timezone} (catch up within '
            f"{sched.lateness_hours:g} h, {sched.max_retries} retries{keep})"
        )
        slots = cronslots.slots_after(sched.cron, sched.timezone, now)
        for _, slot in zip(range(count), slots, strict=False):
            lines.append(f"  {cronslots.local_time(slot):<26} {slot.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
                         f"  -> {cronslots.dated_path(cfg, name, slot)}/")
    if not any(s.schedule for s in cfg.config.briefs.values()):
        lines.append(
            'no brief is scheduled; add e.g. `schedule: {cron: "0 7 * * 1-5", timezone: UTC}` '
            "to a brief (`briefgen briefs` then shows its next run)"
        )
    return "\n".join(lines)
