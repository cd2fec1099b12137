"""The "ok" report of ``briefgen validate``: which topics and briefs the configuration defines."""

from __future__ import annotations

from briefgen.config.schema import LoadedConfig


def format_summary(cfg: LoadedConfig, shown: str | None = None) -> str:
    """Return the "ok" report of ``briefgen validate``: the topics and briefs found."""
    lines = [f"{shown or cfg.path.name}: ok"]
    topics = []
    for key in cfg.topics:
        source = cfg.topic_sources.get(key)
        topics.append(
            key
            if source is None or source == cfg.path
            else f"{key} ({cfg.relative(source)})"
        )
    lines.append(f"  {len(topics)} topic{'s' * (len(topics) != 1)}: {', '.join(topics) or '-'}")
    default = cfg.config.default_brief or next(iter(cfg.config.briefs), None)
    for name, spec in cfg.config.briefs.items():
        extra = " (default)" if name == default else ""
        if spec.schedule:
            extra += f', scheduled "{spec.schedule.cron}" {spec.schedule.timezone}'
        lines.append(f"  brief {name}{extra}: {', '.join(spec.topics)}")
    if not cfg.config.briefs:
        lines.append("  no briefs defined")
    return "\n".join(lines)

