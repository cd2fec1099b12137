"""Nothing is written or deleted outside its folder (issue 13): output patterns are checked after
filling in and resolving, folders two briefs or two runs would share are refused, an index path
naming another application's database is never rebuilt, a template folder cannot be the whole
file system, and verify refuses sources outside the corpus."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from indexdata import article
from test_build import copy_project, indexed
from test_schedule import DAILY_TOKYO, Run, tokyo
from test_schedule import make_cfg as schedule_cfg

from briefgen.build import build_brief, output_dir
from briefgen.config.checks import output_pattern_problem
from briefgen.config.folders import brief_output_problem
from briefgen.config.load import load_config
from briefgen.config.schema import BriefSpec, LoadedConfig
from briefgen.errors import ConfigError, RenderError, ScheduleError, StoreError
from briefgen.index.sqlite.schema import APPLICATION_ID
from briefgen.index.update import update_index
from briefgen.outputs.templates import find_template_dirs
from briefgen.schedule.slots import dated_folder
from briefgen.verify import verify_brief

DAY = dt.date(2026, 3, 15)


def write_config(root: Path, briefs: dict[str, dict[str, Any]], **extra: Any) -> Path:
    data = {
        "corpus": {"path": "corpus", "metadata": None},
        "topics": {"t": {"title": "T", "terms": {"japan": 1}}},
        "topic_files": [],
        "briefs": {n: {"title": n, "topics": ["t"], "formats": ["md"], **b} for n, b in briefs.items()},
        **extra,
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "corpus").mkdir(exist_ok=True)
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


# --- output patterns ------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", ["{brief:/>5}/escaped", "{brief!r}", "{date:>30}", "{brief!s:.^9}"])
def test_format_specs_and_conversions_in_a_brief_output_are_refused(
    tmp_path: Path, pattern: str
) -> None:
    (problem,) = problems(write_config(tmp_path, {"tmp": {"output": pattern}}))
    assert "briefs.tmp.output: " in problem
    assert "format specs and conversions are not allowed in folder names" in problem


@pytest.mark.parametrize("pattern", ["{brief:/>5}/{date}", "{brief}/{date!a}", "x/{date:/<12}"])
def test_format_specs_in_a_schedule_output_are_refused(tmp_path: Path, pattern: str) -> None:
    brief = {"schedule": {"cron": "0 7 * * *", "output": pattern}}
    (problem,) = problems(write_config(tmp_path, {"tmp": brief}))
    assert "briefs.tmp.schedule.output: " in problem and "format specs and conversions" in problem


def test_a_brief_output_that_resolves_outside_the_output_folder_is_refused(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path, {"daily": {}}))
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (tmp_path / "briefs").mkdir()
    (tmp_path / "briefs" / "daily").symlink_to(outside)  # a link that leads out
    with pytest.raises(ConfigError, match="outside the output folder"):
        output_dir(cfg, "daily", cfg.config.briefs["daily"], DAY)
    # A pattern that slipped past validation is caught after it is filled in, too.
    sneaky = BriefSpec.model_construct(**{**cfg.config.briefs["daily"].__dict__, "output": "{brief:/>5}/x"})
    with pytest.raises(ConfigError, match="outside the output folder"):
        output_dir(cfg, "tmp", sneaky, DAY)
    assert list(outside.iterdir()) == []


def test_a_scheduled_run_never_writes_or_deletes_outside_the_output_folder(tmp_path: Path) -> None:
    spec = {**DAILY_TOKYO, "keep": 1}
    run = Run(schedule_cfg(tmp_path, daily=spec))
    outside = tmp_path / "users-folder"
    for name in ("2025-03-01", "2025-03-02"):
        (outside / name).mkdir(parents=True)
        (outside / name / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "briefs").mkdir()
    (tmp_path / "briefs" / "daily").symlink_to(outside)
    result = run(tokyo(2025, 3, 10, 7, 5))
    assert result.built == [] and "outside the output folder" in result.failed[0][2]
    assert sorted(p.name for p in outside.iterdir()) == ["2025-03-01", "2025-03-02"]
    assert all((outside / n / "notes.txt").exists() for n in ("2025-03-01", "2025-03-02"))


# Patterns made of the fields, arbitrary format specs and conversions, and path pieces.
pieces = st.sampled_from(["{brief}", "{date}", "{time}", "/", "..", ".", "x", "-", "\\", "{{", "}}"])
specs = st.sampled_from(["", "!r", "!s", "!a", ":/>5", ":.^12", ":/<3", ":>40", ":x", ":%Y", ":/"])
fields = st.tuples(st.sampled_from(["brief", "date", "time", "brief.real", "date[0]", "0", ""]), specs)


@given(parts=st.lists(st.one_of(pieces, fields.map(lambda f: "{" + f[0] + f[1] + "}")), max_size=8),
       name=st.from_regex(r"\A\w[\w.-]{0,12}\Z"))
def test_an_output_pattern_is_refused_or_stays_inside_its_folder(parts: list[str], name: str) -> None:
    pattern = "".join(parts)
    root = Path("/srv/briefs")
    slot = dt.datetime(2025, 3, 10, 7, 0)
    if output_pattern_problem(pattern) is None:
        folder = os.path.normpath(root / dated_folder(pattern, name, slot))
        assert folder.startswith(str(root) + "/"), (pattern, folder)
    if brief_output_problem(pattern) is None:
        filled = pattern.format(brief=name, date=slot.date().isoformat())
        folder = os.path.normpath(root / filled)
        assert folder == str(root) or folder.startswith(str(root) + "/"), (pattern, folder)
        assert all(f in (None, "brief", "date") for _, f, _, _ in string.Formatter().parse(pattern))


# --- folders two slots or two briefs would share --------------------------------------------


def test_two_runs_a_day_into_one_dated_folder_are_refused(tmp_path: Path) -> None:
    twice = {"schedule": {"cron": "0 7,19 * * *", "output": "{brief}/{date}"}}
    (problem,) = problems(write_config(tmp_path, {"daily": twice}))
    assert "briefs.daily.schedule.output: " in problem
    assert "runs more than once a day (07:00 and 19:00)" in problem and "{time}" in problem
    twice["schedule"]["output"] = "{brief}/{date}-{time}"
    load_config(write_config(tmp_path, {"daily": twice}))  # one folder per run: fine


def test_two_briefs_writing_into_one_folder_are_refused(tmp_path: Path) -> None:
    (problem,) = problems(write_config(tmp_path, {
        "a": {"output": "reports/{date}"}, "b": {"output": "reports/{date}"}, "c": {}}))
    assert "briefs.b.output: " in problem and "briefs a and b would share one folder" in problem
    (problem,) = problems(write_config(tmp_path, {"a": {"output": "b"}, "b": {}}))
    assert "briefs a and b would share one folder" in problem


def test_two_scheduled_briefs_sharing_dated_folders_or_latest_are_refused(tmp_path: Path) -> None:
    same = {"schedule": {"cron": "0 7 * * *", "output": "shared/{date}"}}
    found = problems(write_config(tmp_path, {"a": same, "b": same}))
    assert any("would share one folder" in p for p in found)
    assert any("would share one `latest` link" in p for p in found)
    apart = {"schedule": {"cron": "0 7 * * *", "output": "shared/{date}-b"}}
    (problem,) = problems(write_config(tmp_path, {"a": same, "b": apart}))
    assert "briefs a and b would share one `latest` link" in problem
    # The default patterns keep every brief apart.
    load_config(write_config(tmp_path, {"a": DAILY_TOKYO, "b": DAILY_TOKYO, "c": {}}))


# --- the index file -------------------------------------------------------------------------


def other_applications_database(path: Path, *, application_id: int = 0) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)")
    con.execute("INSERT INTO accounts (owner) VALUES ('alice')")
    con.execute("PRAGMA user_version=7")
    if application_id:
        con.execute(f"PRAGMA application_id={application_id}")
    con.commit()
    con.close()
    return path.read_bytes()


@pytest.mark.parametrize("application_id", [0, 0x12345678])
def test_an_index_path_naming_another_database_is_never_rebuilt(
    txt_corpus: LoadedConfig, application_id: int
) -> None:
    db = txt_corpus.root / ".briefgen" / "index.sqlite"
    before = other_applications_database(db, application_id=application_id)
    with pytest.raises(StoreError, match="it is not a briefgen index, so briefgen leaves it alone"):
        update_index(txt_corpus, progress=False)
    assert db.read_bytes() == before and not db.with_name("index.sqlite-wal").exists()
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT owner FROM accounts").fetchall() == [("alice",)]


def test_an_index_path_naming_any_other_file_is_left_alone(txt_corpus: LoadedConfig) -> None:
    db = txt_corpus.root / ".briefgen" / "index.sqlite"
    db.parent.mkdir()
    db.write_text("my notes\n" * 100, encoding="utf-8")
    with pytest.raises(StoreError, match="is not an SQLite database; it is not a briefgen index"):
        update_index(txt_corpus, progress=False)
    assert db.read_text(encoding="utf-8") == "my notes\n" * 100


def test_briefgen_marks_its_index_and_still_knows_an_unmarked_one(txt_corpus: LoadedConfig) -> None:
    update_index(txt_corpus, progress=False)
    db = txt_corpus.root / ".briefgen" / "index.sqlite"
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        con.execute("PRAGMA application_id=0")  # as an index made before files were marked
        con.execute(f"PRAGMA user_version={99}")  # ... by another schema version
    summary = update_index(txt_corpus, progress=False)  # recognised by its tables: rebuilt
    assert summary.added == 3 and "rebuilt it from scratch" in summary.format()
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_an_unmarked_index_of_this_schema_is_used_as_it_is(txt_corpus: LoadedConfig) -> None:
    # An index written before briefgen marked its files (application_id 0) has briefgen's own
    # tables *and indexes* (documents_source_path, documents_date): it must not look foreign.
    update_index(txt_corpus, progress=False)
    db = txt_corpus.root / ".briefgen" / "index.sqlite"
    con = sqlite3.connect(db)
    con.execute("PRAGMA application_id=0")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # into the file header, where the check reads it
    con.close()
    summary = update_index(txt_corpus, progress=False)
    assert summary.unchanged == 3 and "rebuilt" not in summary.format()
    (txt_corpus.root / "corpus" / "delta.txt").write_text(article("sanctions"), encoding="utf-8")
    summary = update_index(txt_corpus, progress=False)  # the next write marks it
    assert summary.added == 1 and summary.unchanged == 3 and "rebuilt" not in summary.format()
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


# --- template folders -----------------------------------------------------------------------


def test_a_template_folder_that_is_the_root_or_holds_a_home_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(RenderError, match="is the filesystem root or holds a home folder"):
        find_template_dirs(tmp_path, "/")
    home = tmp_path / "users" / "ann"
    home.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    for folder in (str(home), str(tmp_path / "users"), "users/ann/../.."):
        with pytest.raises(RenderError, match="holds a home folder"):
            find_template_dirs(tmp_path, folder)
    (home / "templates").mkdir()
    assert find_template_dirs(tmp_path, str(home / "templates")) == [home / "templates"]


def test_a_brief_with_template_dir_root_is_not_built(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "project")
    config = (root / "config.yaml").read_text(encoding="utf-8")
    (root / "config.yaml").write_text(
        config.replace("    paper: A4\n", "    paper: A4\n    template_dir: /\n"), encoding="utf-8"
    )
    cfg = indexed(root)
    with pytest.raises(RenderError, match="filesystem root"):
        build_brief(cfg, formats=["md"], out_dir=tmp_path / "out", as_of=DAY)
    assert not (tmp_path / "out").exists()


# --- verify ---------------------------------------------------------------------------------


def test_verify_refuses_sources_outside_the_corpus(tmp_path: Path) -> None:
    cfg = indexed(copy_project(tmp_path / "project"))
    build_brief(cfg, formats=["json"], out_dir=tmp_path / "out", as_of=DAY)
    path = tmp_path / "out" / "brief.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    forged = tmp_path / "forged"
    forged.mkdir()
    first, second = record["sources"][:2]
    # Copies of cited articles outside the corpus: same bytes, same sha256.
    shutil.copy(cfg.root / first["source_path"], forged / "x.txt")
    shutil.copy(cfg.root / second["source_path"], forged / "y.txt")
    first["source_path"] = "../forged/x.txt"
    second["source_path"] = str(forged / "y.txt")
    path.write_text(json.dumps(record), encoding="utf-8")
    report = verify_brief(path, cfg)
    assert not report.ok
    text = report.format()
    assert "source path '../forged/x.txt' is outside the corpus folder" in text
    assert f"source path '{forged / 'y.txt'}' is outside the corpus folder" in text


# --- the state folder -----------------------------------------------------------------------


def test_state_files_linked_out_of_the_state_folder_are_refused(tmp_path: Path) -> None:
    run = Run(schedule_cfg(tmp_path, daily=DAILY_TOKYO))
    precious = tmp_path / "precious.txt"
    precious.write_text("the user's own file\n", encoding="utf-8")
    state = tmp_path / ".briefgen"
    state.mkdir()
    (state / "run-due.lock").symlink_to(precious)  # the holder line would overwrite it
    with pytest.raises(ScheduleError, match="run-due.lock: cannot use the state folder"):
        run(tokyo(2025, 3, 10, 7, 5))
    (state / "run-due.lock").unlink()
    (state / "runs.sqlite").symlink_to(precious)  # SQLite would write through the link
    with pytest.raises(ScheduleError, match="links outside the state folder"):
        run(tokyo(2025, 3, 10, 7, 5))
    assert precious.read_text(encoding="utf-8") == "the user's own file\n"


def test_an_index_lock_file_that_is_a_link_is_refused(txt_corpus: LoadedConfig) -> None:
    precious = txt_corpus.root / "precious.txt"
    precious.write_text("the user's own file\n", encoding="utf-8")
    (txt_corpus.root / ".briefgen").mkdir()
    (txt_corpus.root / ".briefgen" / "index.sqlite.lock").symlink_to(precious)
    with pytest.raises(StoreError, match="index.sqlite.lock"):
        update_index(txt_corpus, progress=False)
    assert precious.read_text(encoding="utf-8") == "the user's own file\n"
