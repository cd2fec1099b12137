"""Regenerate the field tables of docs/config.md from the config schema (the field docstrings).

Run after changing briefgen/config.py:  .venv/bin/python scripts/config_docs.py
Only the part between the `fields:start` and `fields:end` markers is rewritten.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pydantic import BaseModel

from briefgen.config.schema import (
    BriefSpec,
    Config,
    CorpusFields,
    CorpusSettings,
    IndexSettings,
    OutputSettings,
    Schedule,
    Topic,
)
from briefgen.deliver import DeliverSettings, EmailSettings, SmtpSettings, WebhookSettings

SECTIONS: list[tuple[str, type[BaseModel]]] = [
    ("Top level", Config),
    ("`corpus:`", CorpusSettings),
    ("`corpus.fields:` (JSONL records)", CorpusFields),
    ("`index:`", IndexSettings),
    ("`output:`", OutputSettings),
    ("A topic (`topics.<key>:` or a topic file)", Topic),
    ("A brief (`briefs.<name>:`)", BriefSpec),
    ("`schedule:` (inside a brief)", Schedule),
    ("`deliver:` (inside a brief)", DeliverSettings),
    ("`deliver: email:`", EmailSettings),
    ("`deliver: email: smtp:`", SmtpSettings),
    ("`deliver: webhook:`", WebhookSettings),
]


def _default(model: type[BaseModel], name: str) -> str:
    field = model.model_fields[name]
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "see below"
    return "`" + json.dumps(value, ensure_ascii=False) + "`"


def field_tables() -> str:
    """Return the Markdown tables: one per model, one row per field."""
    out = []
    for title, model in SECTIONS:
        out += [f"### {title}", "", "| key | default | meaning |", "|---|---|---|"]
        for name, field in model.model_fields.items():
            meaning = " ".join((field.description or "").split()).replace("|", "\\|")
            key = field.alias or name  # `from:` is `sender` in Python
            out.append(f"| `{key}` | {_default(model, name)} | {meaning} |")
        out.append("")
    return "\n".join(out)


def main() -> int:
    """Rewrite the generated part of docs/config.md."""
    path = ROOT / "docs" / "config.md"
    text = path.read_text("utf-8")
    new = re.sub(
        r"(<!-- fields:start -->\n).*?(<!-- fields:end -->)",
        lambda m: m.group(1) + field_tables() + m.group(2),
        text,
        flags=re.DOTALL,
    )
    path.write_text(new, "utf-8")
    print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
