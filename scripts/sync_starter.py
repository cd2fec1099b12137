"""Regenerate briefgen/starter/project/templates/ (what `briefgen init` writes) from templates/.

Run after changing templates/:  .venv/bin/python scripts/sync_starter.py
tests/test_init.py fails while the packaged copy differs from what this script would write.
The rest of the starter (config.yaml, README.md, topics/example.yaml, corpus/README) is written
by hand: a neutral new project, not a copy of this repository's demo configuration.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STARTER = ROOT / "briefgen" / "starter" / "project"


def _files_under(folder: Path, prefix: str) -> dict[str, bytes]:
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith("."):
            files[f"{prefix}/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
    return files


def expected_files() -> dict[str, bytes]:
    """Return the generated part of the starter: relative path -> content."""
    return _files_under(ROOT / "templates", "templates")


def actual_files() -> dict[str, bytes]:
    """Return the generated part of the starter as it is packaged now."""
    templates = STARTER / "templates"
    return _files_under(templates, "templates") if templates.is_dir() else {}


def main() -> int:
    """Rewrite the packaged starter's templates/."""
    shutil.rmtree(STARTER / "templates", ignore_errors=True)
    for name, data in expected_files().items():
        target = STARTER / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
