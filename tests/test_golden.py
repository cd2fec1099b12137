"""The default brief from the seeds, pinned: brief.md, brief.html and brief.json must equal the
files in tests/golden/japan-daily/.

Regenerate after an intended change with `make golden` (BRIEFGEN_REGENERATE_GOLDEN=1), then
review the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from test_build import copy_project, indexed

from briefgen.build import build_brief

GOLDEN = Path(__file__).resolve().parent / "golden" / "japan-daily"
FORMATS = ["md", "html", "json"]
NOW = dt.datetime(2026, 3, 15, 6, 0, tzinfo=dt.UTC)  # "Generated" in the method note


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("golden")
    cfg = indexed(copy_project(tmp / "project"))
    result = build_brief(cfg, formats=FORMATS, out_dir=tmp / "out", as_of=dt.date(2026, 3, 15),
                         now=NOW)
    return {path.name: path for path in result.files}


@pytest.mark.parametrize("name", [f"brief.{fmt}" for fmt in FORMATS])
def test_default_brief_matches_golden(built: dict[str, Path], name: str) -> None:
    produced = built[name].read_text(encoding="utf-8")
    golden = GOLDEN / name
    if os.environ.get("BRIEFGEN_REGENERATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        golden.write_text(produced, encoding="utf-8")
    assert golden.is_file(), "no golden file yet: run `make golden`"
    assert produced == golden.read_text(encoding="utf-8"), f"{name} changed: review, then `make golden`"
