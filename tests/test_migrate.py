"""Moving a project to PostgreSQL: `briefgen migrate --to postgresql` re-indexes the corpus and
copies the run history; switched over, the project builds the same brief as on SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import copy_project

from briefgen.cli import cli
from briefgen.config.load import load_config
from briefgen.schedule.history import DONE
from briefgen.schedule.state import open_history

AS_OF = "2026-03-15"


def set_index(config: Path, lines: str) -> None:
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("index:\n", "index:\n" + lines, 1), encoding="utf-8")


def test_migrate_to_postgresql_then_switch_builds_the_same_brief(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1773532800")  # both builds say the same "Generated"
    project = copy_project(tmp_path / "project")
    config = project / "config.yaml"
    set_index(config, f"  url: {pg_url}\n")  # still on sqlite: the URL waits for the switch
    runner = CliRunner()
    built = runner.invoke(cli, ["build", "-c", str(config), "--format", "md,json", "--as-of", AS_OF,
                                "--out", str(tmp_path / "lite")])
    assert built.exit_code == 0, built.output
    with open_history(load_config(config)) as state:  # a run recorded on SQLite
        run_id = state.start("japan-daily", "2026-03-14T22:00:00Z", 1, "briefs/japan-daily/2026-03-15")
        state.finish(run_id, DONE, files=[("briefs/japan-daily/2026-03-15/brief.md", "0" * 64)])

    moved = runner.invoke(cli, ["migrate", "-c", str(config), "--to", "postgresql", "-q"])
    assert moved.exit_code == 0, moved.output
    assert "5 added" in moved.output and "2 run(s) copied, 0 already there" in moved.output  # manual + scheduled
    assert "next: set `index.backend: postgresql`" in moved.output
    again = runner.invoke(cli, ["migrate", "-c", str(config), "--to", "postgresql", "-q"])
    assert "5 unchanged" in again.output and "0 run(s) copied, 2 already there" in again.output

    set_index(config, "  backend: postgresql\n")
    built = runner.invoke(cli, ["build", "-c", str(config), "--format", "md,json", "--as-of", AS_OF,
                                "--out", str(tmp_path / "pg")])
    assert built.exit_code == 0, built.output
    assert (tmp_path / "pg" / "brief.md").read_bytes() == (tmp_path / "lite" / "brief.md").read_bytes()
    shown = runner.invoke(cli, ["history", "-c", str(config)])
    assert shown.exit_code == 0 and "briefs/japan-daily/2026-03-15 (1 files)" in shown.output
    same = runner.invoke(cli, ["migrate", "-c", str(config), "--to", "postgresql"])
    assert same.exit_code == 1 and "already postgresql" in same.output
