"""Benchmarks 1 and 2: indexing from scratch vs the bare FTS5 floor; re-index; one article added.

Run as a script with `floor PASSAGES DB` it is the floor worker: it inserts the passage
texts into a bare FTS5 table in one transaction and prints the seconds that took as JSON.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import pty
import re
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from bench_common import (
    PYTHON,
    REUTERS_FINANCIAL,
    ROOT,
    WORK,
    Context,
    Figure,
    Section,
    Stats,
    briefgen_command,
    data_file,
    log,
    module_exists,
    run_process,
    show_command,
)
from bench_work import (
    corpus_for,
    make_project,
    passage_texts,
    profile_command,
    profile_script,
    read_lines,
    remove_index,
    reuse_index,
)

INDEX_RATIO_TARGET = 2.5
INDEX_MEMORY_TARGET_MB = 1024
NOCHANGE_TARGET_S = 1.0
TXT_ARTICLES = 20_000
TXT_ARTICLES_QUICK = 2_000
# The same tokenizer as briefgen's passages_fts; a plain (content-storing) FTS5 table.
FLOOR_SCHEMA = ("CREATE VIRTUAL TABLE passages USING fts5(text, "
                "tokenize='porter unicode61 remove_diacritics 2')")


def floor_insert(passages_file: Path, db: Path) -> float:
    """Insert every passage text into a bare FTS5 table in one transaction; return seconds."""
    texts = read_lines(passages_file)
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute(FLOOR_SCHEMA)
    start = time.perf_counter()
    con.execute("BEGIN")
    con.executemany("INSERT INTO passages(text) VALUES (?)", ((t,) for t in texts))
    con.execute("COMMIT")
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def indexed_passage_texts(db: Path, corpus: Path, config: Path) -> tuple[Path, int, str]:
    """The passage texts exactly as `briefgen index` stored them, one per line.

    Read straight from the index's `passages` table; if its layout is not what this expects,
    the texts are cut again with briefgen.corpus.files.read_path (slower, same texts).
    """
    out = WORK / "passages" / f"{corpus.name}.indexed.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        count = 0
        with open(out, "w", encoding="utf-8", newline="\n") as fh:
            for (text,) in con.execute("SELECT text FROM passages ORDER BY id"):
                fh.write(text.replace("\n", " ").replace("\r", " ") + "\n")
                count += 1
        con.close()
        return out, count, "the `passages` table of the index `briefgen index` built"
    except sqlite3.Error as exc:
        log(f"  cannot read passages from the index ({exc}); cutting them with read_path")
        return passage_texts(corpus, config)


def measure_floor(passages_file: Path, runs: int) -> tuple[Stats, list[str]]:
    """The floor, each run in a fresh process (reading the texts is not timed)."""
    db = WORK / "floor" / "floor.sqlite"
    db.parent.mkdir(parents=True, exist_ok=True)
    cmd = [PYTHON, __file__, "floor", str(passages_file), str(db)]
    values = []
    for i in range(runs):
        res = run_process(cmd).check()
        values.append(json.loads(res.stdout.strip().splitlines()[-1])["seconds"])
        log(f"  floor run {i + 1}: {values[-1]:.1f} s")
    db.unlink(missing_ok=True)
    return Stats(values), [show_command(cmd)]


def run_index(ctx: Context) -> Section:
    """1. SqliteStore the Reuters financial corpus from scratch through `briefgen index`."""
    sec = Section("index", "1. Indexing from scratch vs the bare FTS5 floor")
    full = data_file(REUTERS_FINANCIAL)
    if full is None:
        return sec.skip(f"../shared/data/{REUTERS_FINANCIAL} is absent")
    corpus = corpus_for(ctx.quick, full)
    project = WORK / ("quick" if ctx.quick else "full")
    config = make_project(project, corpus)
    ctx.shared.update(corpus=corpus, project=project, config=config)
    if not module_exists("index"):
        passages_file, n_passages, how = passage_texts(corpus, config)
        ctx.shared.update(passages_file=passages_file, n_passages=n_passages)
        floor, floor_cmds = measure_floor(passages_file, ctx.runs)
        sec.commands += floor_cmds
        sec.raw["floor"] = floor.to_json()
        sec.figures.append(Figure("1", f"floor: bare FTS5 insert ({n_passages:,} passages, {how})",
                                  floor.fmt()))
        sec.details.append("`briefgen index` is not available yet (briefgen/index.py absent): "
                           "only the floor was measured.")
        return sec

    cmd = [*briefgen_command(), "index", "-c", str(config)]
    sec.commands.append(show_command(cmd) + "   # after deleting index.sqlite")
    walls, rss, cpus = [], [], []
    for i in range(ctx.runs):
        remove_index(project)
        res = run_process(cmd).check()
        walls.append(res.wall)
        rss.append(res.tree_peak_mb)
        cpus.append(res.cpu)
        log(f"  briefgen index run {i + 1}: {res.wall:.1f} s, peak {res.tree_peak_mb:.0f} MB")
    passages_file, n_passages, how = indexed_passage_texts(project / "index.sqlite", corpus,
                                                           config)
    ctx.shared.update(passages_file=passages_file, n_passages=n_passages, passages_how=how)
    log(f"floor: bare FTS5 insert of {n_passages:,} passages x{ctx.runs}")
    floor, floor_cmds = measure_floor(passages_file, ctx.runs)
    sec.commands += floor_cmds
    sec.raw["floor"] = floor.to_json()
    sec.raw["passages"] = {"count": n_passages, "how": how}
    floor_fig = Figure("1", f"floor: bare FTS5 insert, one transaction ({n_passages:,} passages)",
                       floor.fmt())
    ctx.shared["index_ready"] = True
    wall, mem = Stats(walls), Stats(rss)
    ratio = wall.median / floor.median
    rates = Stats([n_passages / w for w in walls])
    bar = progress_output(full)
    eta = bool(re.search(r"<\d+:\d\d", bar))
    sec.raw.update(index_wall=wall.to_json(), index_peak_mb=mem.to_json(), ratio=ratio,
                   index_cpu=Stats(cpus).to_json(),
                   progress_eta_seen=eta, summary=res.stdout.strip()[-2000:])
    sec.figures += [
        Figure("1", "`briefgen index` from scratch, whole process", wall.fmt()),
        Figure("1", "CPU time, user+sys of the process and its workers", Stats(cpus).fmt()),
        Figure("1", "throughput", rates.fmt("passages/s", 0)),
        floor_fig,
        Figure("1", "index time / floor", f"{ratio:.2f}×", f"≤ {INDEX_RATIO_TARGET}×",
               ratio <= INDEX_RATIO_TARGET),
        Figure("1", "peak RSS, whole process tree", mem.fmt("MB", 0),
               f"< {INDEX_MEMORY_TARGET_MB} MB", mem.hi < INDEX_MEMORY_TARGET_MB),
        Figure("1", "progress bar with ETA (stderr on a terminal)", "seen" if eta else "not seen",
               "present", eta),
    ]
    sec.details.append(f"Passage texts for the floor and the peer: {n_passages:,}, cut by {how} "
                       f"from `{corpus.name}`. Last run's summary:\n\n```\n"
                       f"{res.stdout.strip()[-1500:]}\n```")
    if ratio > INDEX_RATIO_TARGET or mem.hi >= INDEX_MEMORY_TARGET_MB:
        small = corpus_for(True, full)
        prof_project = WORK / "profile-index"
        prof_config = make_project(prof_project, small, fresh=True)
        sec.details.append(
            "**Profile** (target missed), on the 10,000-article subset. The main process "
            "(reading, hashing, SQLite writes; cleaning runs in worker processes):\n\n"
            + profile_command(["index", "-q", "-c", str(prof_config)], "index"))
        sec.details.append(
            "The cleaning work the worker processes do (`corpus.read_path`: decode, clean, "
            "split into passages), in one process:\n\n" + profile_script(
                WORKER_PROFILE.format(root=str(ROOT), corpus=str(small), config=str(prof_config)),
                "index-workers"))
    return sec


def progress_output(full: Path) -> str:
    """What `briefgen index` shows on a terminal (a pty), indexing the 10k subset from scratch."""
    project = WORK / "progress"
    config = make_project(project, corpus_for(True, full), fresh=True)
    master, slave = pty.openpty()
    # A fresh pty is 0 columns wide, and tqdm draws a 0-column bar: give it a real size.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100")
    proc = subprocess.Popen([*briefgen_command(), "index", "-c", str(config)], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


WORKER_PROFILE = """
import sys
sys.path.insert(0, {root!r})
from pathlib import Path
from briefgen.corpus import files as corpus
from briefgen.config.load import load_config
cfg = load_config(Path({config!r}), topic_files=[])
n = sum(len(d.passages) for d in corpus.read_path(Path({corpus!r}), cfg, warn=lambda m: None))
print(n, "passages")
"""


def run_reindex(ctx: Context) -> Section:
    """2. Re-index with nothing changed; one article added to a large .txt folder corpus."""
    sec = Section("reindex", "2. Re-index: nothing changed, one article added")
    full = data_file(REUTERS_FINANCIAL)
    if full is None:
        return sec.skip(f"../shared/data/{REUTERS_FINANCIAL} is absent")
    if not module_exists("index"):
        return sec.skip("briefgen/index.py does not exist yet")
    reuse_index(ctx, full)
    config = ctx.shared.get("config")
    if config and ctx.shared.get("index_ready"):
        cmd = [*briefgen_command(), "index", "-c", str(config)]
        # One untimed run first: if briefgen's cleaning code changed since the index was
        # built, that run re-reads everything (by design) and would pollute the figure.
        run_process(cmd).check()
        nochange = Stats(_nochange_runs(cmd, max(ctx.runs, 5), sec))
        sec.commands.append(show_command(cmd) + "   # again, nothing changed")
        sec.raw["nochange_jsonl"] = nochange.to_json()
        sec.figures.append(Figure("2", f"re-index, nothing changed ({ctx.shared['corpus'].name})",
                                  nochange.fmt(), f"< {NOCHANGE_TARGET_S:.0f} s",
                                  nochange.median < NOCHANGE_TARGET_S))
        if nochange.median >= NOCHANGE_TARGET_S:
            sec.details.append("**Profile** of the no-change re-index:\n\n"
                               + profile_command(["index", "-q", "-c", str(config)], "reindex"))

    n_files = TXT_ARTICLES_QUICK if ctx.quick else TXT_ARTICLES
    project = WORK / "txt"
    folder = project / "corpus"
    _write_txt_corpus(full, folder, n_files, ctx.runs)
    config_txt = make_project(project, "corpus")
    cmd = [*briefgen_command(), "index", "-c", str(config_txt)]
    sec.commands.append(show_command(cmd) + f"   # {n_files:,} .txt files: from scratch, "
                        "then nothing changed, then after adding one file")
    for extra in folder.glob("added_*.txt"):
        extra.unlink()
    scratch = []
    for i in range(ctx.runs):
        remove_index(project)
        scratch.append(run_process(cmd).check().wall)
        log(f"  txt folder from scratch run {i + 1}: {scratch[-1]:.1f} s")
    same = _nochange_runs(cmd, ctx.runs, sec)
    added = []
    for i, text in enumerate(_extra_articles(full, n_files, ctx.runs)):
        (folder / f"added_{i:02d}.txt").write_text(text, encoding="utf-8")
        added.append(run_process(cmd).check().wall)
    scratch_s, same_s, added_s = Stats(scratch), Stats(same), Stats(added)
    share = added_s.median / scratch_s.median
    delta = added_s.median - same_s.median
    proportional = delta < max(0.5, 20 * scratch_s.median / n_files) and share < 0.25
    sec.raw.update(txt_files=n_files, txt_scratch=scratch_s.to_json(), txt_same=same_s.to_json(),
                   txt_added=added_s.to_json())
    sec.figures += [
        Figure("2", f".txt folder ({n_files:,} files) from scratch", scratch_s.fmt()),
        Figure("2", ".txt folder, nothing changed", same_s.fmt(), f"< {NOCHANGE_TARGET_S:.0f} s",
               same_s.median < NOCHANGE_TARGET_S),
        Figure("2", ".txt folder, one article added", added_s.fmt(),
               "∝ change, not corpus", proportional),
    ]
    if same_s.median >= NOCHANGE_TARGET_S:
        sec.details.append(f"**Profile** of the no-change re-index of the {n_files:,} .txt "
                           "files:\n\n" + profile_command(["index", "-q", "-c", str(config_txt)],
                                                            "reindex-txt"))
    sec.details.append(
        f"One article added costs {added_s.median:.2f} s = {100 * share:.1f}% of the "
        f"from-scratch index of the folder; {delta * 1000:.0f} ms more than a re-index with "
        f"nothing changed (which stats all {n_files:,} files). Indexing from scratch costs "
        f"{1000 * scratch_s.median / n_files:.1f} ms per article, so the added article is "
        f"{'in line with' if proportional else 'far above'} its own share of the work.")
    return sec


def _nochange_runs(cmd: list[str], runs: int, sec: Section) -> list[float]:
    """Time `runs` re-index runs that should find nothing to do; note any that re-read files."""
    walls = []
    for _ in range(runs):
        res = run_process(cmd).check()
        walls.append(res.wall)
        if "read again" in res.stdout or "re-read" in res.stdout:
            sec.details.append(f"Note: a no-change run re-read files ({res.wall:.1f} s): "
                               "briefgen's code changed while the benchmark ran.")
    return walls


def _write_txt_corpus(full: Path, folder: Path, n_files: int, runs: int) -> None:
    """Write the first N non-empty Reuters articles as .txt files (once; reused after)."""
    marker = folder / f".complete-{n_files}"
    if marker.exists():
        return
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    log(f"writing {n_files:,} .txt articles into {folder} ...")
    written = 0
    with gzip.open(full, "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            text = (record.get("text") or "").strip()
            if not text:
                continue
            (folder / f"reuters_{written:05d}.txt").write_text(
                f"{record.get('title') or ''}\n\n{text}\n", encoding="utf-8")
            written += 1
            if written >= n_files:
                break
    marker.touch()


def _extra_articles(full: Path, skip: int, count: int) -> list[str]:
    """`count` non-empty articles that come after the first `skip` ones."""
    out: list[str] = []
    seen = 0
    with gzip.open(full, "rt", encoding="utf-8") as fh:
        for line in fh:
            text = (json.loads(line).get("text") or "").strip()
            if not text:
                continue
            seen += 1
            if seen > skip:
                out.append(text + "\n")
                if len(out) >= count:
                    break
    return out


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "floor":
        print(json.dumps({"seconds": floor_insert(Path(sys.argv[2]), Path(sys.argv[3]))}))
    else:
        sys.exit("usage: bench_index.py floor PASSAGES_FILE DB")
