"""The default brief from the seeds, pinned: brief.md must equal tests/golden/japan-daily/brief.md.

Regenerate after an intended change with `make golden` (BRIEFGEN_REGENERATE_GOLDEN=1), then
review the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from test_build import copy_project, indexed

from briefgen.build import build_brief

GOLDEN = Path(__file__).resolve().parent / "golden" / "japan-daily" / "brief.md"


def test_default_brief_markdown_matches_golden(tmp_path: Path) -> None:
    cfg = indexed(copy_project(tmp_path / "project"))
    result = build_brief(cfg, formats=["md"], out_dir=tmp_path / "out", as_of=dt.date(2026, 3, 15))
    produced = result.files[0].read_text(encoding="utf-8")
    if os.environ.get("BRIEFGEN_REGENERATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(produced, encoding="utf-8")
    assert GOLDEN.is_file(), "no golden file yet: run `make golden`"
    assert produced == GOLDEN.read_text(encoding="utf-8"), "brief.md changed: review, then `make golden`"
