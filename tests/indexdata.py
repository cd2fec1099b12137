"""Small corpora for the index tests: a plain-text article, a config around a corpus folder."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from briefgen.config.schema import Config, LoadedConfig
from briefgen.index.base import Phrase, TopicQuery


def article(topic: str, n: int = 3) -> str:
    """Return a plain-text article of ``n`` paragraphs that cleaning keeps."""
    paragraphs = [
        f"The government said on Monday that {topic} talks would continue next week, "
        f"according to officials familiar with the matter. Paragraph {i} adds detail on {topic}."
        for i in range(1, n + 1)
    ]
    return "\n\n".join(paragraphs) + "\n"


def make_cfg(
    root: Path, corpus_path: str = "corpus", *, index: dict[str, object] | None = None,
    **corpus_settings: object,
) -> LoadedConfig:
    """Return a config for a corpus under ``root`` (no metadata file, no topics); ``index``: the
    index settings (default: the SQLite index)."""
    data = {"corpus": {"path": corpus_path, "metadata": None, **corpus_settings}, "topic_files": [],
            "index": index or {}}
    return LoadedConfig(config=Config.model_validate(data), path=root / "config.yaml", root=root, topics={})


def write_jsonl(path: Path, records: list[dict[str, object]]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record) + "\n")


def q(*terms: str, limit: int = 100, date_from: str | None = None, date_to: str | None = None) -> TopicQuery:
    """Return a store query for any of ``terms`` (each a phrase, as a topic would write it)."""
    return TopicQuery(tuple(Phrase(t, ()) for t in terms), date_from=date_from, date_to=date_to, limit=limit)
