"""The SQLite FTS5 index: incremental updates, crash safety, queries and ``briefgen index``."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from indexdata import article, make_cfg, q

from briefgen.cli import cli
from briefgen.config.schema import LoadedConfig
from briefgen.errors import CorpusError, StoreError
from briefgen.index.backends import open_store
from briefgen.index.sqlite.schema import SCHEMA_VERSION
from briefgen.index.update import update_index

ROOT = Path(__file__).resolve().parent.parent


def search_ids(cfg: LoadedConfig, match: str) -> set[str]:
    with open_store(cfg) as ix:
        return {p.doc_id for p, _, _ in ix.search(q(match, limit=100))}


# --- incremental updates ------------------------------------------------------------------


# --- bad input and errors -----------------------------------------------------------------


def test_missing_corpus_folder_is_a_corpus_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        update_index(make_cfg(tmp_path, "nowhere"), progress=False)


def test_unwritable_index_folder_is_an_index_error(txt_corpus: LoadedConfig, tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where the index folder should be")
    cfg = LoadedConfig(
        config=txt_corpus.config.model_copy(
            update={"index": txt_corpus.config.index.model_copy(update={"path": "blocker/index.sqlite"})}
        ),
        path=txt_corpus.path, root=txt_corpus.root, topics={},
    )
    with pytest.raises(StoreError, match="blocker"):
        update_index(cfg, progress=False)


def test_concurrent_update_is_refused(txt_corpus: LoadedConfig) -> None:
    import fcntl

    update_index(txt_corpus, progress=False)
    (txt_corpus.root / "corpus" / "delta.txt").write_text(article("fishery"), encoding="utf-8")
    index = txt_corpus.config.index.model_copy(update={"lock_wait_seconds": 0.0})
    cfg = txt_corpus.model_copy(update={"config": txt_corpus.config.model_copy(update={"index": index})})
    lock = txt_corpus.root / ".briefgen" / "index.sqlite.lock"
    with open(lock, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="another `briefgen index`"):
            update_index(cfg, progress=False)  # a new file: the update needs the lock


def test_index_of_another_schema_version_is_rebuilt(txt_corpus: LoadedConfig) -> None:
    update_index(txt_corpus, progress=False)
    db = txt_corpus.root / ".briefgen" / "index.sqlite"
    con = sqlite3.connect(db)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 7}")
    con.close()
    with pytest.raises(StoreError, match="schema version"):
        open_store(txt_corpus)
    summary = update_index(txt_corpus, progress=False)
    assert summary.added == 3 and "rebuilt" in summary.format()
    assert search_ids(txt_corpus, "tariff") == {"alpha"}


# --- crash safety ---------------------------------------------------------------------------

CRASH_SCRIPT = """
import os, sys, time
from pathlib import Path
import briefgen.index.update as indexer
from briefgen.index.sqlite.store import SqliteWriter
from briefgen.config.schema import Config, LoadedConfig

indexer.BATCH_DOCS = 10                    # many small batches
signal_file = Path(sys.argv[2])
real_commit = SqliteWriter.commit
commits = []

def commit_then_pause(self):
    real_commit(self)
    commits.append(1)
    if len(commits) == 3:                  # planning commit, then two document batches
        signal_file.write_text("committed")
        time.sleep(600)                    # wait here to be killed

SqliteWriter.commit = commit_then_pause
root = Path(sys.argv[1])
cfg = LoadedConfig(config=Config.model_validate({"corpus": {"path": "corpus", "metadata": None},
                   "topic_files": []}), path=root / "config.yaml", root=root, topics={})
indexer.update_index(cfg, progress=False)
"""


def test_kill_9_mid_index_leaves_a_consistent_index(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(60):
        (folder / f"doc{i:03d}.txt").write_text(article(f"subject{i}"), encoding="utf-8")
    cfg = make_cfg(tmp_path)
    signal_file = tmp_path / "paused"
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(tmp_path), str(signal_file)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 120  # a hang guard, not a timing assumption
        while not signal_file.exists():
            assert proc.poll() is None, "the indexing subprocess ended before pausing"
            assert time.monotonic() < deadline, "the indexing subprocess never paused"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()

    db = tmp_path / ".briefgen" / "index.sqlite"
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.execute("INSERT INTO passages_fts(passages_fts) VALUES ('integrity-check')")
    docs = con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    assert docs == 20  # exactly the two committed batches, no half-written document
    orphans = con.execute(
        "SELECT COUNT(*) FROM passages WHERE doc NOT IN (SELECT id FROM documents)"
    ).fetchone()[0]
    assert orphans == 0
    assert con.execute("SELECT COUNT(*) FROM passages").fetchone()[0] == 3 * docs
    con.close()
    with open_store(cfg) as ix:
        assert len(ix.search(q("subject0", limit=5))) == 3  # the previous index is usable

    summary = update_index(cfg, progress=False)
    assert (summary.added, summary.documents_total, summary.passages_total) == (40, 60, 180)
    assert summary.unchanged == 20


# --- queries ----------------------------------------------------------------------------------


# --- the command line -----------------------------------------------------------------------


def write_config(root: Path, corpus_path: str = "corpus") -> Path:
    path = root / "config.yaml"
    path.write_text(
        f"corpus:\n  path: {corpus_path}\n  metadata: null\nindex:\n  path: .briefgen/index.sqlite\n"
        "topic_files: []\n",
        encoding="utf-8",
    )
    return path


def test_cli_index_prints_summary_and_strict_fails_on_skips(txt_corpus: LoadedConfig) -> None:
    config = write_config(txt_corpus.root)
    runner = CliRunner()
    result = runner.invoke(cli, ["index", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "documents: 3 added, 0 updated, 0 unchanged, 0 removed, 0 skipped" in result.output
    assert "passages: 9 written" in result.output

    (txt_corpus.root / "corpus" / "empty.txt").write_bytes(b"")
    result = runner.invoke(cli, ["index", "-c", str(config), "--strict"])
    assert result.exit_code == 1
    assert "3 unchanged" in result.output and "empty.txt" in result.output


def test_cli_missing_corpus_is_one_line_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, "nowhere")
    result = CliRunner().invoke(cli, ["index", "-c", str(config)])
    assert result.exit_code == 1
    assert "nowhere" in result.output and "Traceback" not in result.output


# --- scale (skipped without ../shared/data) --------------------------------------------------


def test_large_jsonl_streams_through_workers(shared_data: Path, tmp_path: Path) -> None:
    lines = []
    with gzip.open(shared_data / "reuters_financial.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            lines.append(line)
            if len(lines) == 1500:
                break
    (tmp_path / "reuters.jsonl.gz").write_bytes(gzip.compress("".join(lines).encode(), 1))
    cfg = make_cfg(tmp_path, "reuters.jsonl.gz")
    from briefgen.index import update as indexer

    parallel = indexer.PARALLEL_MIN_BYTES
    indexer.PARALLEL_MIN_BYTES = 0  # force the worker processes on this small sample
    try:
        summary = update_index(cfg, progress=False)
    finally:
        indexer.PARALLEL_MIN_BYTES = parallel
    assert summary.added + len(summary.skipped) == 1500
    assert summary.passages_total > summary.added
    assert update_index(cfg, progress=False).unchanged == summary.added




def test_build_and_scheduled_runs_show_a_bounded_number_of_skip_warnings(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    records = [{"id": f"good{i}", "text": article("trade")} for i in range(3)]
    records += [{"id": f"empty{i}", "text": ""} for i in range(30)]
    (tmp_path / "corpus" / "feed.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    cfg = make_cfg(tmp_path)
    for run in ("first", "unchanged"):  # known bad records are reported again on every run
        shown: list[str] = []
        summary = update_index(cfg, progress=False, warn=shown.append, max_warnings=5)
        assert len(summary.skipped) == 30, run
        assert shown[:5] == summary.skipped[:5]
        assert shown[5:] == ["… and 25 more skipped input(s) not shown; `briefgen index --verbose` lists them all"]
    everything: list[str] = []
    update_index(cfg, progress=False, warn=everything.append)  # `briefgen index`: every line
    assert len(everything) == 30


def test_the_pipeline_fingerprint_covers_every_module_that_cuts_passages() -> None:
    # A module that briefgen.corpus reaches (and so may change what passages are) but that is
    # not in the fingerprint would let an index keep passages the current code would not cut.
    import re

    from briefgen.index import fingerprint

    package = Path(fingerprint.__file__).resolve().parents[1]
    covered = {
        p.relative_to(package).with_suffix("").as_posix().replace("/", ".")
        for p in fingerprint.pipeline_sources()
    }
    reached: set[str] = set()

    # settings, messages and file writing: they never change what a passage is (and what
    # they import in turn, e.g. the settings of outputs and deliveries, is not reached)
    not_about_passages = {"config", "config.schema", "config.yamlread", "config.yamlsyntax",
                          "config.problems", "errors", "_fs", "names"}

    def visit(module: str) -> None:
        if module in reached:
            return
        reached.add(module)
        if module in not_about_passages:
            return
        path = package / (module.replace(".", "/") + ".py")
        if not path.exists():
            path = package / module.replace(".", "/") / "__init__.py"
        for name in re.findall(
            r"^\s*from briefgen\.([\w.]+) import", path.read_text(), re.MULTILINE
        ):
            visit(name)

    for p in (package / "corpus").glob("*.py"):
        visit("corpus." + p.stem)
    assert reached - not_about_passages <= covered
    assert {m for m in covered if m.startswith("corpus.")} >= {"corpus.clean", "corpus.passages"}
