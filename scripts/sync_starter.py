"""Regenerate briefgen/starter/project/ (what `briefgen init` writes) from the project's files.

Run after changing config.yaml or templates/:  .venv/bin/python scripts/sync_starter.py
tests/test_init.py fails while the packaged copy differs from what this script would write.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTER = ROOT / "briefgen" / "starter" / "project"
SCHEMA_HINT = "# yaml-language-server: $schema=config.schema.json\n"


def starter_config(text: str) -> str:
    """Return the project's config.yaml adapted to a new project: articles go in corpus/."""
    text, n_path = re.subn(
        r"(?m)^  path: seeds( *)", lambda m: "  path: corpus" + m.group(1)[1:], text, count=1
    )
    text, n_meta = re.subn(
        r"(?m)^  metadata: \S+ *#.*$",
        lambda m: (
            "  metadata: null".ljust(m.group(0).index("#"))
            + "# or a YAML file of per-article title, outlet, author, date, url, kind"
        ),
        text,
        count=1,
    )
    if not (n_path and n_meta):
        raise SystemExit(
            "sync_starter: config.yaml has no `corpus: path:/metadata:` lines to adapt"
        )
    return SCHEMA_HINT + text


def expected_files() -> dict[str, bytes]:
    """Return the generated part of the starter: relative path -> content."""
    files = {
        "config.yaml": starter_config((ROOT / "config.yaml").read_text("utf-8")).encode("utf-8")
    }
    templates = ROOT / "templates"
    for path in sorted(templates.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith("."):
            files[f"templates/{path.relative_to(templates).as_posix()}"] = path.read_bytes()
    return files


def actual_files() -> dict[str, bytes]:
    """Return the generated part of the starter as it is packaged now."""
    files = (
        {"config.yaml": (STARTER / "config.yaml").read_bytes()}
        if (STARTER / "config.yaml").exists()
        else {}
    )
    templates = STARTER / "templates"
    if templates.is_dir():
        for path in sorted(templates.rglob("*")):
            if path.is_file():
                files[f"templates/{path.relative_to(templates).as_posix()}"] = path.read_bytes()
    return files


def main() -> int:
    """Rewrite the packaged starter config.yaml and templates/."""
    shutil.rmtree(STARTER / "templates", ignore_errors=True)
    for name, data in expected_files().items():
        target = STARTER / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
