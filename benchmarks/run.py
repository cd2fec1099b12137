"""Run every benchmark and rewrite benchmarks/RESULTS.md (the `make bench` entry point).

    .venv/bin/python benchmarks/run.py            # everything, 3 runs per timing (~20 min)
    .venv/bin/python benchmarks/run.py --quick    # a 10,000-article subset, for a quick look
    .venv/bin/python benchmarks/run.py --only index,peer --no-write

Benchmarks read ../shared/data and skip, saying which file is absent, when it is not there.
The topic-quality section between the `select-eval` markers is written by eval_select.py (run
here too) and kept verbatim. Work files go to benchmarks/work/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import (
    BENCH_DIR,
    PYTHON,
    SHARED_DATA,
    WORK,
    Context,
    Figure,
    Section,
    log,
    machine_info,
    run_process,
    write_json,
)

RESULTS = BENCH_DIR / "RESULTS.md"
EVAL_START, EVAL_END = "<!-- select-eval:start -->", "<!-- select-eval:end -->"
SECTIONS = ("index", "reindex", "select", "render", "peer", "extract", "eval", "postgres")
# Sections that write their own block of RESULTS.md between markers (kept as they are otherwise).
PG_START, PG_END = "<!-- postgres:start -->", "<!-- postgres:end -->"
OWN_BLOCKS = ("eval", "postgres")


def _runner(key: str) -> Callable[[Context], Section]:
    """The function that runs benchmark KEY (imported late: a broken one fails alone)."""
    if key == "index":
        from bench_index import run_index
        return run_index
    if key == "reindex":
        from bench_index import run_reindex
        return run_reindex
    if key == "select":
        from bench_select import run_select
        return run_select
    if key == "render":
        from bench_select import run_render
        return run_render
    if key == "peer":
        from bench_peer import run_peer
        return run_peer
    if key == "extract":
        from bench_extract import run_extract
        return run_extract
    if key == "eval":
        return run_eval
    if key == "postgres":
        return run_postgres
    raise KeyError(key)


def run_postgres(ctx: Context) -> Section:
    """8. Run bench_postgres.py; it writes its own section between the postgres markers."""
    sec = Section("postgres", "8. PostgreSQL beside SQLite")
    cmd = [PYTHON, str(BENCH_DIR / "bench_postgres.py"), "--runs", str(ctx.runs),
           *(["--quick"] if ctx.quick else [])]
    sec.commands.append(" ".join(cmd[1:]))
    res = run_process(cmd)
    if res.returncode != 0:
        tail = "\n".join(res.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"bench_postgres.py exited {res.returncode}: {tail}")
    sec.raw["seconds"] = res.wall
    return sec


def current_pg_block() -> str:
    """The postgres section of RESULTS.md as it is now (markers included), or a placeholder."""
    if RESULTS.exists():
        text = RESULTS.read_text(encoding="utf-8")
        if PG_START in text and PG_END in text:
            return PG_START + text.split(PG_START, 1)[1].split(PG_END, 1)[0] + PG_END
    return (f"{PG_START}\n## 8. PostgreSQL beside SQLite\n\nNot run yet: "
            f"`.venv/bin/python benchmarks/bench_postgres.py` writes this section.\n{PG_END}")


def run_eval(ctx: Context) -> Section:
    """7. Run eval_select.py; it writes its own section between the select-eval markers."""
    sec = Section("eval", "7. Topic quality through `briefgen select`")
    script = BENCH_DIR / "eval_select.py"
    res = run_process([PYTHON, str(script)])
    sec.commands.append("make eval   # .venv/bin/python benchmarks/eval_select.py")
    if res.returncode != 0:
        tail = "\n".join(res.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"eval_select.py exited {res.returncode}: {tail}")
    if "skipped" in res.stdout:
        return sec.skip(res.stdout.strip().splitlines()[-1])
    sec.raw["seconds"] = res.wall
    return sec


def eval_figures(block: str) -> list[Figure]:
    """Summary rows from the eval section's table (topic configs with a target)."""
    figures = []
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 8 or cells[0] not in ("reuters", "news, 5-fold CV"):
            continue
        f1 = re.search(r"[\d.]+", cells[6])
        if not f1:
            continue
        goal = (0.80 if cells[1] == "trade" else 0.90) if cells[0] == "reuters" else 0.85
        label = "ModApte test" if cells[0] == "reuters" else "labelled news, held-out"
        figures.append(Figure("7", f"topic `{cells[1]}`, {label} F1 via `briefgen select`",
                              f"{float(f1.group()):.3f} (P {cells[4]}, R {cells[5]})",
                              f"≥ {goal:.2f}", float(f1.group()) >= goal))
    return figures


def current_eval_block() -> str:
    """The eval section of RESULTS.md as it is now (markers included), or a placeholder."""
    if RESULTS.exists():
        text = RESULTS.read_text(encoding="utf-8")
        if EVAL_START in text and EVAL_END in text:
            return EVAL_START + text.split(EVAL_START, 1)[1].split(EVAL_END, 1)[0] + EVAL_END
    return (f"{EVAL_START}\n## Topic selection quality (Reuters-21578)\n\nNot run yet: "
            f"`make eval` writes this section.\n{EVAL_END}")


def render_results(ctx: Context, sections: list[Section], machine: dict[str, str],
                   seconds: float, eval_block: str) -> str:
    """The whole RESULTS.md text."""
    mode = ("**quick** (`--quick`: the first 10,000 Reuters articles, 2,000 .txt files)"
            if ctx.quick else "full")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# briefgen benchmarks",
        "",
        (f"Generated by `make bench` (`benchmarks/run.py`) on {when}; mode: {mode}; the whole "
        f"run took {seconds / 60:.1f} min. Every timing is the median of {ctx.runs} runs with "
        "min–max beside it (n = number of runs); whole-process figures include Python start-up. "
        "What each figure means and how to reproduce it: [README.md](README.md). "
        "Do not edit by hand: `make bench` rewrites this file (the topic-quality section is "
        "written by `make eval` and kept verbatim)."),
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in machine.items()],
        "",
    ]
    missing = [s for s in sections if s.skipped]
    if not SHARED_DATA.is_dir():
        out += [f"**Skipped: the shared data folder `{SHARED_DATA}` is absent.**", ""]
    figures = [f for s in sections for f in s.figures] + eval_figures(eval_block)
    figures.sort(key=lambda f: f.item)  # stable: in benchmark order within an item
    out += ["## Summary", "", "| # | figure | result | target | met |", "|---|---|---|---|---|"]
    out += [f"| {f.item} | {f.name} | {f.value} | {f.target} | {f.verdict} |" for f in figures]
    for s in missing:
        out.append(f"| {s.title.split('.')[0]} | {s.title} | skipped: {s.skipped} | | |")
    out.append("")
    for s in sections:
        if s.key in OWN_BLOCKS:
            continue
        out += [f"## {s.title}", ""]
        if s.skipped:
            out += [f"Skipped: {s.skipped}.", ""]
            continue
        if s.commands:
            out += ["Commands:", "", "```sh", *s.commands, "```", ""]
        for block in s.details:
            out += [block, ""]
    out += [eval_block, "", current_pg_block(), ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; write RESULTS.md and benchmarks/work/results.json."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="index a 10,000-article subset (and 2,000 .txt files)")
    parser.add_argument("--runs", type=int, default=3, help="runs per timing (default 3)")
    parser.add_argument("--only", default=None,
                        help=f"comma-separated subset of: {','.join(SECTIONS)}")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite RESULTS.md")
    parser.add_argument("--rerender", action="store_true",
                        help="rewrite RESULTS.md from the last run's saved figures, run nothing")
    args = parser.parse_args(argv)
    if args.rerender:
        return rerender()
    keys = SECTIONS if args.only is None else tuple(k.strip() for k in args.only.split(","))
    unknown = [k for k in keys if k not in SECTIONS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(SECTIONS)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    ctx = Context(runs=args.runs, quick=args.quick)
    WORK.mkdir(parents=True, exist_ok=True)
    if not SHARED_DATA.is_dir():
        log(f"SKIP: the shared data folder {SHARED_DATA} is absent; every data benchmark skips")
    started = time.perf_counter()
    sections: list[Section] = []
    for key in keys:
        log(f"=== {key}")
        t0 = time.perf_counter()
        try:
            section = _runner(key)(ctx)
        except Exception as exc:  # noqa: BLE001 — one broken benchmark must not lose the others
            traceback.print_exc()
            section = Section(key, f"{key} (failed)")
            section.skipped = f"failed: {type(exc).__name__}: {str(exc)[:300]}"
        for fig in section.figures:
            log(f"  {fig.name}: {fig.value}  [target {fig.target}: {fig.verdict}]")
        log(f"  ({time.perf_counter() - t0:.0f} s)")
        sections.append(section)
        _share(ctx, section)
    seconds = time.perf_counter() - started
    machine = machine_info()
    if not args.no_write:
        sections = merge_previous(sections, ctx)
    write_json(WORK / "results.json", {"quick": ctx.quick, "runs": ctx.runs, "seconds": seconds,
                                       "machine": machine,
                                       "sections": {s.key: {"skipped": s.skipped, **s.raw}
                                                    for s in sections}})
    if args.no_write:
        log("--no-write: RESULTS.md left as it is")
        return 0
    text = render_results(ctx, sections, machine, seconds, current_eval_block())
    tmp = RESULTS.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(RESULTS)
    log(f"wrote {RESULTS} ({seconds / 60:.1f} min)")
    return 0


def merge_previous(sections: list[Section], ctx: Context) -> list[Section]:
    """Save this run's sections; with --only, keep the other sections from the last run.

    Kept sections are marked with the time they were measured, so RESULTS.md always shows
    every benchmark and says which figures are older.
    """
    store = WORK / "sections.json"
    previous: dict[str, dict[str, Any]] = {}
    if store.exists():
        try:
            previous = json.loads(store.read_text(encoding="utf-8"))
        except ValueError:
            previous = {}
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick" if ctx.quick else "full"
    for sec in sections:
        previous[sec.key] = {"when": stamp, "mode": mode,
                             "section": json.loads(json.dumps(asdict(sec), default=str))}
    write_json(store, previous)
    ran = {sec.key for sec in sections}
    merged = []
    for key in SECTIONS:
        if key in ran:
            merged.append(next(s for s in sections if s.key == key))
        elif key in previous and previous[key]["mode"] == mode and key not in OWN_BLOCKS:
            data = previous[key]["section"]
            data["figures"] = [Figure(**f) for f in data["figures"]]
            old = Section(**data)
            old.details.insert(0, f"*(Carried over from the run of {previous[key]['when']}: "
                                  "not re-run this time.)*")
            merged.append(old)
    return merged


def rerender() -> int:
    """Rewrite RESULTS.md from benchmarks/work/{results,sections}.json (after a layout change)."""
    results = json.loads((WORK / "results.json").read_text(encoding="utf-8"))
    stored = json.loads((WORK / "sections.json").read_text(encoding="utf-8"))
    ctx = Context(runs=results["runs"], quick=results["quick"])
    sections = []
    for key in SECTIONS:
        if key in stored:
            data = stored[key]["section"]
            data["figures"] = [Figure(**f) for f in data["figures"]]
            sections.append(Section(**data))
    text = render_results(ctx, sections, results["machine"], results["seconds"],
                          current_eval_block())
    RESULTS.write_text(text, encoding="utf-8")
    log(f"rewrote {RESULTS} from the saved figures")
    return 0


def _share(ctx: Context, section: Section) -> None:
    """Pass figures that later benchmarks compare against (e.g. the peer vs the index)."""
    if section.key == "index":
        for name in ("index_wall", "floor"):
            if name in section.raw:
                ctx.shared[name] = section.raw[name]


if __name__ == "__main__":
    sys.exit(main())
