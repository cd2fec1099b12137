"""Selections for people and programs: ``select`` text (with ``--explain``) and ``--json``."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

from briefgen.models import ScoredPassage, TopicSelection

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig


def selection_to_json(selection: TopicSelection, cfg: LoadedConfig) -> dict[str, Any]:
    """Return the ``select --json`` object for a selection."""
    return {
        "topic": selection.topic,
        "passages": [
            {
                "doc_id": sp.passage.doc_id,
                "source_path": sp.source.source_path,
                "start": sp.passage.start,
                "end": sp.passage.end,
                "text": sp.passage.text,
                "score": round(sp.score, 4),
                "matched": list(sp.matched),
            }
            for sp in selection.passages
        ],
    }


def format_selection(selection: TopicSelection, cfg: LoadedConfig, *, explain: bool) -> str:
    """Return a selection as text for a person; with ``explain``, say why each was chosen."""
    count = len(selection.passages)
    lines = [f"{selection.title} [{selection.topic}]: {count} passage{'s' * (count != 1)}"]
    if selection.description:
        lines.append(selection.description)
    if not selection.passages:
        lines.append("(nothing in the corpus scores above this topic's min_score)")
    topic = cfg.topics.get(selection.topic)
    min_score = topic.min_score if topic is not None else 0.0
    for n, sp in enumerate(selection.passages, 1):
        p = sp.passage
        lines.append("")
        lines.append(
            f"{n}. {p.doc_id} ¶{p.ordinal}  score {sp.score:.2f}  "
            f"({sp.source.source_path}:{p.start}-{p.end})"
        )
        lines.extend(textwrap.wrap(p.text, 88, initial_indent="   ", subsequent_indent="   "))
        if explain:
            lines.extend(explain_passage(sp, min_score))
        elif sp.corroborated_by:
            lines.append(f"   also said in: {_where(sp.corroborated_by)}")
    return "\n".join(lines)


def _where(passages: tuple[ScoredPassage, ...]) -> str:
    return ", ".join(f"{c.passage.doc_id} ¶{c.passage.ordinal}" for c in passages)


def explain_passage(sp: ScoredPassage, min_score: float) -> list[str]:
    """Return the lines that say why a passage was chosen: terms, weights, each score part."""
    terms = ", ".join(
        f"{label} ({weight:g}{f' ×{count}' if count > 1 else ''})" for label, weight, count in sp.hits
    )
    parts = dict(sp.parts)
    evidence = parts.get("evidence", 0.0)
    out = [
        f"   matched: {terms}",
        (f"   evidence {evidence:.2f} (min_score {min_score:g})"
         + "".join(f" + {name} {value:.2f}" for name, value in sp.parts if name != "evidence")
         + f" = score {sp.score:.2f}"),
    ]
    if sp.corroborated_by:
        out.append(f"   near-duplicates merged: {_where(sp.corroborated_by)}")
    return out
