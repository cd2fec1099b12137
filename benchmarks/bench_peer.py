"""Benchmark 4: the peer — bm25s over the same passage texts with the same topic queries.

Run as `bench_peer.py worker PASSAGES QUERIES.json REPS` it is one fresh-process bm25s run:
it builds the index (tokenize + index), saves it, times each topic query REPS times and
prints the figures as JSON.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench_common import (
    PYTHON,
    REUTERS_FINANCIAL,
    WORK,
    Context,
    Figure,
    Section,
    Stats,
    data_file,
    log,
    module_exists,
    percentile,
    run_process,
    show_command,
)
from bench_work import read_lines, reuse_index

TOP_K = 100
QUERY_REPS = 20


def topic_terms(config: Path) -> dict[str, dict[str, float]]:
    """The default brief's topics and their weighted terms, from the generated config."""
    from briefgen.config.load import load_config

    cfg = load_config(config, topic_files=[])
    brief = cfg.config.briefs[cfg.config.default_brief or next(iter(cfg.config.briefs))]
    return {key: dict(cfg.topics[key].terms) for key in brief.topics}


def fts_query(terms: dict[str, float]) -> str:
    """An FTS5 MATCH expression: every term or phrase quoted, OR-ed together."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def worker(passages_file: Path, queries: dict[str, str], reps: int) -> dict[str, Any]:
    """Build a bm25s index over the passages and time the queries (in this process)."""
    import bm25s

    try:
        import Stemmer

        stemmer = Stemmer.Stemmer("english").stemWords
        stemmer_name = "PyStemmer english"
    except ImportError:  # bm25s works without a stemmer; say so in the results
        stemmer, stemmer_name = None, "none (PyStemmer absent)"
    texts = read_lines(passages_file)
    t0 = time.perf_counter()
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
    t1 = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    t2 = time.perf_counter()
    save_dir = WORK / "peer" / "bm25s-index"
    shutil.rmtree(save_dir, ignore_errors=True)
    retriever.save(str(save_dir), show_progress=False)
    t3 = time.perf_counter()
    size = sum(p.stat().st_size for p in save_dir.rglob("*") if p.is_file())
    latencies: dict[str, list[float]] = {}
    hits: dict[str, int] = {}
    for key, query in queries.items():
        q_tokens = bm25s.tokenize([query], stopwords="en", stemmer=stemmer,
                                  return_ids=False, show_progress=False)
        times = []
        for _ in range(reps):
            s = time.perf_counter()
            _docs, scores = retriever.retrieve(q_tokens, k=TOP_K, show_progress=False, n_threads=1)
            times.append(time.perf_counter() - s)
        latencies[key] = times
        hits[key] = int((scores[0] > 0).sum())
    return {"tokenize_s": t1 - t0, "index_s": t2 - t1, "build_s": t2 - t0, "save_s": t3 - t2,
            "disk_mb": size / 2**20, "latencies": latencies, "hits": hits,
            "stemmer": stemmer_name, "passages": len(texts)}


def fts_latencies(config: Path, queries: dict[str, str], reps: int) -> dict[str, list[float]]:
    """briefgen's SqliteStore.search with the same OR queries, in-process, on the full index."""
    from briefgen.config.load import load_config
    from briefgen.index.backends import open_store

    cfg = load_config(config, topic_files=[])
    out: dict[str, list[float]] = {}
    with open_store(cfg) as index:
        for key, match in queries.items():
            index.search(match, limit=TOP_K)  # warm the page cache once
            times = []
            for _ in range(reps):
                s = time.perf_counter()
                index.search(match, limit=TOP_K)
                times.append(time.perf_counter() - s)
            out[key] = times
    return out


def run_peer(ctx: Context) -> Section:
    """4. bm25s: index build and the same topic queries over the same passages."""
    sec = Section("peer", "4. Peer: bm25s over the same passages")
    full = data_file(REUTERS_FINANCIAL)
    if full is None:
        return sec.skip(f"../shared/data/{REUTERS_FINANCIAL} is absent")
    reuse_index(ctx, full)
    passages_file = ctx.shared.get("passages_file")
    config = ctx.shared.get("config")
    if passages_file is None or config is None:
        return sec.skip("no passage texts (the Reuters data file is absent)")
    try:
        import bm25s  # noqa: F401
    except ImportError:
        return sec.skip("bm25s is not installed (pip install -e '.[bench]')")
    if not module_exists("configload"):
        return sec.skip("briefgen/configload.py does not exist yet (topics cannot be loaded)")
    terms = topic_terms(config)
    bm25_queries = {k: " ".join(t) for k, t in terms.items()}
    qfile = WORK / "peer" / "queries.json"
    qfile.parent.mkdir(parents=True, exist_ok=True)
    qfile.write_text(json.dumps(bm25_queries))
    reps = 5 if ctx.quick else QUERY_REPS
    cmd = [PYTHON, __file__, "worker", str(passages_file), str(qfile), str(reps)]
    sec.commands.append(show_command(cmd))
    runs: list[dict[str, Any]] = []
    rss: list[float] = []
    for i in range(ctx.runs):
        res = run_process(cmd).check()
        runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
        rss.append(res.tree_peak_mb)
        log(f"  bm25s run {i + 1}: build {runs[-1]['build_s']:.1f} s")
    build = Stats([r["build_s"] for r in runs])
    tok = Stats([r["tokenize_s"] for r in runs])
    save = Stats([r["save_s"] for r in runs])
    sec.raw.update(runs=runs, peak_mb=rss)
    sec.figures.append(Figure("4", f"bm25s build (tokenize+index, {runs[0]['passages']:,} "
                                   "passages, in-process)", build.fmt()))
    index_raw = ctx.shared.get("index_wall")
    floor_raw = ctx.shared.get("floor")
    if index_raw:
        sec.figures.append(Figure("4", "`briefgen index` whole process / bm25s build",
                                  f"{index_raw['median'] / build.median:.2f}×"))
    if floor_raw:
        sec.figures.append(Figure("4", "bare FTS5 floor / bm25s build",
                                  f"{floor_raw['median'] / build.median:.2f}×"))
    bm_lat = {k: [t for r in runs for t in r["latencies"][k]] for k in terms}
    fts_lat: dict[str, list[float]] = {}
    if ctx.shared.get("index_ready") and module_exists("index"):
        fts_q = {k: fts_query(t) for k, t in terms.items()}
        fts_lat = fts_latencies(config, fts_q, reps)
        sec.details.append("FTS5 queries (briefgen `SqliteStore.search`, limit "
                           f"{TOP_K}):\n\n" + "\n".join(f"- `{k}`: `{q[:160]}…`"
                                                         for k, q in fts_q.items()))
    select_lat = ctx.shared.get("select_latency", {})
    rows = [("| topic | bm25s retrieve p50 / p95 (ms) | briefgen SqliteStore.search p50 / p95 (ms) "
            "| briefgen select_topic p50 (ms) | bm25s hits > 0 |"), "|---|---:|---:|---:|---:|"]
    for key in terms:
        b = bm_lat[key]
        f = fts_lat.get(key)
        s = select_lat.get(key)
        sel = f"{1000 * percentile(s, 50):.0f}" if s else "—"
        rows.append(f"| {key} | {1000 * percentile(b, 50):.1f} / {1000 * percentile(b, 95):.1f} "
                    f"| {_ms_pair(f)} | {sel} | {runs[0]['hits'][key]:,} |")
    all_b = [t for v in bm_lat.values() for t in v]
    all_f = [t for v in fts_lat.values() for t in v]
    sec.figures.append(Figure("4", "bm25s query, p50 over the 4 topics",
                              f"{1000 * percentile(all_b, 50):.1f} ms"))
    if all_f:
        sec.figures.append(Figure("4", "briefgen FTS5 query (same OR terms), p50",
                                  f"{1000 * percentile(all_f, 50):.1f} ms "
                                  f"({percentile(all_f, 50) / percentile(all_b, 50):.1f}× bm25s)"))
    sec.details.append("\n".join(rows))
    sec.details.append(
        f"bm25s set-up: `bm25s.tokenize(stopwords='en', stemmer={runs[0]['stemmer']})`, "
        f"`BM25()` defaults (Lucene BM25, k1=1.5, b=0.75), `retrieve(k={TOP_K}, n_threads=1)`; "
        "each query is the topic's terms joined into one bag of words (bm25s has no phrases "
        f"and no term weights). Tokenizing is {tok.median:.1f} s of the build. Saving the index "
        f"(`save`) takes a further {save.median:.1f} s and {runs[0]['disk_mb']:.0f} MB; peak RSS "
        f"of the bm25s process {Stats(rss).median:.0f} MB.")
    sec.details.append(
        "What briefgen gives that bm25s does not: **persistence** — the SQLite index is the "
        "store, written as it is built, readable by many processes, crash-safe per transaction; "
        "bm25s keeps the index in memory and needs an explicit `save`/`load` of the whole "
        "matrix plus the corpus kept elsewhere. **Incremental updates** — `briefgen index` "
        "re-reads only changed files (size+mtime, then sha256) and replaces those documents' "
        "passages; bm25s has no add/delete, so one new article means rebuilding the whole "
        "index (the build time above, every time). **Phrase and boolean queries** — FTS5 "
        "matches `\"armed forces\"`, `\"Xi Jinping\"` as phrases, `require`/`exclude` terms and "
        "date filters inside the query; bm25s scores a bag of tokens, so `armed forces` matches "
        "any passage with *armed* or *forces*. Plus exact source offsets for every passage, "
        "metadata (dates, outlets) and the text itself, which citations and `verify` need.")
    return sec


def _ms_pair(values: list[float] | None) -> str:
    if not values:
        return "—"
    return f"{1000 * percentile(values, 50):.1f} / {1000 * percentile(values, 95):.1f}"


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "worker":
        queries = json.loads(Path(sys.argv[3]).read_text())
        print(json.dumps(worker(Path(sys.argv[2]), queries, int(sys.argv[4]))))
    else:
        sys.exit("usage: bench_peer.py worker PASSAGES QUERIES.json REPS")
