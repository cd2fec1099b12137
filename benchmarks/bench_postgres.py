"""Benchmark 8: the PostgreSQL backend beside SQLite, through briefgen's own commands.

    .venv/bin/python benchmarks/bench_postgres.py            # 10k subset and all 106k articles
    .venv/bin/python benchmarks/bench_postgres.py --quick    # the 10k subset only

For each backend and corpus size: `briefgen index` from scratch (the whole process; for
PostgreSQL also the server's CPU time), the store's size, `briefgen index` with nothing changed
(what every build and scheduled run pays first), `select_topic` per topic of the default brief
(in-process, as bench_select.py times it) and `briefgen build --format md`. The server is a
throw-away one (tests/pgserver.py) with PostgreSQL's default durability (fsync on) and 1 GB of
shared buffers, on
127.0.0.1 of this machine. From the growth between the two sizes it estimates 1M and 10M
articles. It writes its section of RESULTS.md between the `postgres` markers (run.py keeps
that block as it is) and its figures to benchmarks/work/postgres.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml
from bench_common import (
    BENCH_DIR,
    PYTHON,
    REUTERS_FINANCIAL,
    WORK,
    Stats,
    briefgen_command,
    data_file,
    log,
    percentile,
    run_process,
    show_command,
    write_json,
)
from bench_work import corpus_for, make_project

sys.path.insert(0, str(BENCH_DIR.parent / "tests"))

RESULTS = BENCH_DIR / "RESULTS.md"
START, END = "<!-- postgres:start -->", "<!-- postgres:end -->"
FULL_ARTICLES = 106_520
QUICK_ARTICLES = 10_000
REPS = 5


def measure(label: str, config: Path, runs: int, server: Any | None) -> dict[str, Any]:
    """Index from scratch, index unchanged, select per topic, build md: one backend, one size."""
    out: dict[str, Any] = {}
    cmd = [*briefgen_command(), "index", "-q", "-c", str(config)]
    cpu0 = server.server_cpu_seconds() if server else 0.0
    res = run_process(cmd).check()
    out["index_wall"], out["index_cpu"] = res.wall, res.cpu
    out["server_cpu"] = server.server_cpu_seconds() - cpu0 if server else 0.0
    log(f"  {label}: index from scratch {res.wall:.1f} s (client CPU {res.cpu:.1f} s, "
        f"server CPU {out['server_cpu']:.1f} s)")
    out["nochange"] = Stats([run_process(cmd).check().wall for _ in range(runs)]).to_json()
    select_cmd = [PYTHON, str(BENCH_DIR / "bench_select.py"), "select-worker", str(config), str(REPS)]
    per_topic: dict[str, list[float]] = {}
    for _ in range(runs):
        got = json.loads(run_process(select_cmd).check().stdout.strip().splitlines()[-1])
        for key, r in got.items():
            per_topic.setdefault(key, []).extend(r["times"])
    out["select"] = {k: {"p50": percentile(v, 50), "p95": percentile(v, 95)} for k, v in per_topic.items()}
    build_cmd = [*briefgen_command(), "build", "-c", str(config), "--format", "md", "--out",
                 str(config.parent / "out")]
    out["build_md"] = Stats([run_process(build_cmd).check().wall for _ in range(runs)]).to_json()
    out["commands"] = [show_command(cmd), show_command(select_cmd), show_command(build_cmd)]
    return out


def store_size_mb(config: Path, server: Any | None, database: str) -> float:
    if server is None:
        return sum(p.stat().st_size for p in config.parent.glob("index.sqlite*")) / 1e6
    import psycopg

    with psycopg.connect(server.url(database), autocommit=True) as con:
        row = con.execute("SELECT pg_database_size(current_database())").fetchone()
    return float(row[0]) / 1e6 if row else 0.0


def project(name: str, corpus: Path, index: dict[str, Any]) -> Path:
    config = make_project(WORK / name, corpus, fresh=True)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["index"] = index
    config.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return config


def run(quick: bool, runs: int) -> dict[str, Any]:
    """Measure both backends at each size; return the figures."""
    import pgserver

    full = data_file(REUTERS_FINANCIAL)
    if full is None:
        return {"skipped": f"../shared/data/{REUTERS_FINANCIAL} is absent"}
    sizes = [(QUICK_ARTICLES, corpus_for(True, full))]
    if not quick:
        sizes.append((FULL_ARTICLES, full))
    server = pgserver.start_server(durable=True)
    figures: dict[str, Any] = {"sizes": {}, "server": str(server.bindir)}
    try:
        with server.admin() as con:
            figures["postgresql"] = con.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        for articles, corpus in sizes:
            tag = f"{articles // 1000}k"
            database = server.new_database(f"bench{tag}").rsplit("/", 1)[1]
            row: dict[str, Any] = {}
            for backend in ("sqlite", "postgresql"):
                index = ({"path": "index.sqlite"} if backend == "sqlite"
                         else {"backend": "postgresql", "url": server.url(database)})
                config = project(f"pg-bench-{tag}-{backend}", corpus, index)
                row[backend] = measure(f"{backend} {tag}", config, runs,
                                       server if backend == "postgresql" else None)
                row[backend]["size_mb"] = store_size_mb(config, server if backend == "postgresql"
                                                        else None, database)
                summary = run_process([*briefgen_command(), "index", "-c", str(config)]).check().stdout
                found = re.search(r"holds ([\d,]+) documents, ([\d,]+) passages", summary)
                if found:
                    row["documents"], row["passages"] = (int(found.group(i).replace(",", ""))
                                                         for i in (1, 2))
                shutil.rmtree(config.parent / "out", ignore_errors=True)
            figures["sizes"][tag] = row
    finally:
        server.destroy()
    return figures


def estimate(figures: dict[str, Any], backend: str, key: str, articles: int) -> float | None:
    """Extrapolate a figure linearly in the corpus size from the two measured sizes."""
    sizes = figures["sizes"]
    if "10k" not in sizes or "106k" not in sizes:
        return None
    a, b = sizes["10k"][backend][key], sizes["106k"][backend][key]
    slope = (b - a) / (FULL_ARTICLES - QUICK_ARTICLES)
    return b + slope * (articles - FULL_ARTICLES)


def render(figures: dict[str, Any], runs: int) -> str:
    """The RESULTS.md section."""
    lines = [START, "## 8. PostgreSQL beside SQLite (`benchmarks/bench_postgres.py`)", ""]
    if "skipped" in figures:
        return "\n".join([*lines, f"Skipped: {figures['skipped']}.", END])
    lines += [(f"PostgreSQL {figures['postgresql']} on 127.0.0.1 of this machine (a throw-away "
              "server, default durability: fsync on, shared_buffers 1 GB), sharing the 2 cores with briefgen. Medians of "
              f"{runs} run(s) (index from scratch: 1 run). Select: `select_topic` in-process, p50 "
              "over the default brief's topics' calls."), ""]
    header = "| figure | " + " | ".join(f"SQLite {t} | PostgreSQL {t}" for t in figures["sizes"]) + " |"
    lines += [header, "|---|" + "---:|" * (2 * len(figures["sizes"]))]

    def row(name: str, get: Any) -> str:
        cells = []
        for size in figures["sizes"].values():
            cells += [get(size["sqlite"]), get(size["postgresql"])]
        return f"| {name} | " + " | ".join(cells) + " |"

    lines.append(row("`briefgen index` from scratch (s)", lambda f: f"{f['index_wall']:.1f}"))
    lines.append(row("… client CPU / server CPU (s)",
                     lambda f: f"{f['index_cpu']:.1f} / {f['server_cpu']:.1f}"))
    lines.append(row("store size (MB)", lambda f: f"{f['size_mb']:.0f}"))
    lines.append(row("`briefgen index`, nothing changed (s)", lambda f: f"{f['nochange']['median']:.2f}"))
    topics = list(next(iter(figures["sizes"].values()))["sqlite"]["select"])
    for topic in topics:
        lines.append(row(f"select `{topic}` p50 / p95 (ms)", lambda f, t=topic:
                         f"{1000 * f['select'][t]['p50']:.0f} / {1000 * f['select'][t]['p95']:.0f}"))
    lines.append(row("`briefgen build --format md` (s)", lambda f: f"{f['build_md']['median']:.2f}"))
    counts = [f"{t}: {s.get('documents', 0):,} documents, {s.get('passages', 0):,} passages"
              for t, s in figures["sizes"].items()]
    lines += ["", "Corpora: " + "; ".join(counts) + "."]
    if estimate(figures, "sqlite", "index_wall", 1) is not None:
        lines += ["", ("Estimate (linear in the number of articles from the two sizes; selection "
                  "grows with the passages a topic matches, so about linearly too):"), "",
                  ("| articles | index from scratch SQLite / PostgreSQL | `select_topic` trade p50 "
                  "SQLite / PostgreSQL |"), "|---:|---:|---:|"]
        for n in (1_000_000, 10_000_000):
            lite = estimate(figures, "sqlite", "index_wall", n) or 0.0
            pg = estimate(figures, "postgresql", "index_wall", n) or 0.0
            sel = []
            for backend in ("sqlite", "postgresql"):
                a = figures["sizes"]["10k"][backend]["select"].get("trade", {}).get("p50", 0.0)
                b = figures["sizes"]["106k"][backend]["select"].get("trade", {}).get("p50", 0.0)
                sel.append(b + (b - a) / (FULL_ARTICLES - QUICK_ARTICLES) * (n - FULL_ARTICLES))
            lines.append(f"| {n:,} | {lite / 60:.0f} min / {pg / 60:.0f} min | "
                         f"{sel[0]:.1f} s / {sel[1]:.1f} s |")
    commands = [c for s in figures["sizes"].values() for b in ("sqlite", "postgresql")
                for c in s[b]["commands"]]
    lines += ["", "Commands (per backend and size):", "", "```sh",
              *list(dict.fromkeys(commands))[:6], "```", END]
    return "\n".join(lines)


def write_section(block: str) -> None:
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    if START in text and END in text:
        before, rest = text.split(START, 1)
        text = before + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the 10k subset only")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)
    try:
        figures = run(args.quick, args.runs)
    except FileNotFoundError as exc:  # no PostgreSQL binaries
        figures = {"skipped": str(exc)}
    write_json(WORK / "postgres.json", figures)
    block = render(figures, args.runs)
    print(block)
    if not args.no_write:
        write_section(block)
        log(f"wrote the postgres section of {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
