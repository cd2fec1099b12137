"""Which topics a brief uses: a run's sections, and loaded topics that no brief uses.

A topic that is loaded but used by no brief is a warning from ``build`` and ``validate``,
never silence: a topic file dropped into topics/ (or given with ``--topic-file`` and then left
out by ``--topics``) would otherwise do nothing without a word.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from briefgen.config.schema import BriefSpec, LoadedConfig


def with_cli_topics(cfg: LoadedConfig, topic_files: Sequence[Path]) -> LoadedConfig:
    """Return the config with the keys of the topics loaded from ``--topic-file`` noted."""
    keys = tuple(dict.fromkeys(Path(f).stem for f in topic_files if Path(f).stem in cfg.topics))
    return cfg.model_copy(update={"cli_topics": keys}) if keys else cfg


def run_sections(cfg: LoadedConfig, spec: BriefSpec, topics: Sequence[str] | None) -> list[str]:
    """Return the topics a build's sections show, in order.

    ``topics`` (``build --topics a,b``) replaces the brief's own list for this run; without it,
    the topics of ``--topic-file`` files follow the brief's own.
    """
    if topics is not None:
        return list(dict.fromkeys(topics))
    return list(dict.fromkeys([*spec.topics, *cfg.cli_topics]))


def unused_topics(cfg: LoadedConfig, run: tuple[str, Sequence[str]] | None = None) -> list[str]:
    """Return one warning line for each loaded topic no brief uses.

    ``run``: (brief name, this build's sections) when a build sets them; ``--topic-file``
    topics count as used unless such a run leaves them out.
    """
    used = {key for spec in cfg.config.briefs.values() for key in spec.topics}
    if run is not None:
        used |= set(run[1])
    warnings = []
    for key in cfg.topics:
        if key in used:
            continue
        where = cfg.relative(cfg.topic_sources[key]) if key in cfg.topic_sources else cfg.path.name
        if key in cfg.cli_topics:
            if run is None:
                continue  # `build --topic-file` adds it to the brief
            warnings.append(
                f"{where}: topic '{key}' is loaded but not in this build's sections "
                f"(--topics {','.join(run[1])}); it is not used"
            )
        else:
            warnings.append(
                f"{where}: topic '{key}' is used by no brief; add it to a brief's topics in "
                f"{cfg.path.name}, or build with --topics or --topic-file"
            )
    return warnings
