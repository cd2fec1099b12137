"""Benchmarks 3 and 5: selection latency and whole builds on the full index; the render floor.

Run as `bench_select.py select-worker CONFIG REPS` it times `select_topic` for each topic of
the default brief in one fresh process and prints the latencies as JSON.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench_common import (
    BENCH_DIR,
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
    harfbuzz_subset_present,
    log,
    module_exists,
    percentile,
    run_process,
    show_command,
)
from bench_work import corpus_for, make_project, profile_command, reuse_index

BUILD_RATIO_TARGET = 1.5
RENDER_RATIO_TARGET = 1.2
SELECT_REPS = 20
SELECT_BUDGET_S = 6.0  # per topic and process: slow selections get fewer repeats (>= 3)


def select_worker(config: Path, reps: int) -> dict[str, Any]:
    """Time select_topic for each default-brief topic: the first call, then up to `reps` more."""
    from briefgen.config.load import load_config
    from briefgen.index.backends import open_store
    from briefgen.select.selection import select_topic

    cfg = load_config(config)
    brief = cfg.config.briefs[cfg.config.default_brief or next(iter(cfg.config.briefs))]
    out: dict[str, Any] = {}
    with open_store(cfg) as index:
        for key in brief.topics:
            t0 = time.perf_counter()
            selection = select_topic(cfg, key, store=index)
            first = time.perf_counter() - t0
            times: list[float] = []
            # Up to `reps` calls, but stop after SELECT_BUDGET_S once 3 are in (slow topics).
            while len(times) < reps and (len(times) < 3 or sum(times) < SELECT_BUDGET_S):
                s = time.perf_counter()
                select_topic(cfg, key, store=index)
                times.append(time.perf_counter() - s)
            out[key] = {"first": first, "times": times, "passages": len(selection.passages)}
    return out


def seeds_project() -> Path:
    """A generated project over the project's own seeds/ (its own index and output)."""
    meta = ROOT / "seeds" / "corpus.yaml"
    return make_project(WORK / "seeds", ROOT / "seeds", metadata=str(meta) if meta.exists()
                        else None)


def ensure_index(config: Path) -> None:
    """Bring the generated project's index up to date, untimed.

    Also when it exists: if briefgen's cleaning code changed since it was built, the next
    `briefgen build` would re-read the corpus, and that is not what a build costs.
    """
    log(f"bringing the {config.parent.name} index up to date (not timed)")
    run_process([*briefgen_command(), "index", "-q", "-c", str(config)]).check()


def time_build(config: Path, formats: str, out: Path, runs: int) -> tuple[Stats, Stats, str]:
    """Whole-process `briefgen build --format F --out OUT`: (wall, peak MB, command)."""
    cmd = [*briefgen_command(), "build", "-c", str(config), "--format", formats, "--out", str(out)]
    walls, rss = [], []
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        res = run_process(cmd).check()
        walls.append(res.wall)
        rss.append(res.tree_peak_mb)
    return Stats(walls), Stats(rss), show_command(cmd)


def run_select(ctx: Context) -> Section:
    """3. Selection latency per topic, `build --format md`, and md+pdf 106k vs seeds."""
    sec = Section("select", "3. Selection and whole builds on the full index")
    full = data_file(REUTERS_FINANCIAL)
    if full is None:
        return sec.skip(f"../shared/data/{REUTERS_FINANCIAL} is absent")
    for needed in ("index", "select", "configload"):
        if not module_exists(needed):
            return sec.skip(f"briefgen/{needed}.py does not exist yet")
    reuse_index(ctx, full)
    config = ctx.shared.get("config") or make_project(
        WORK / ("quick" if ctx.quick else "full"), corpus_for(ctx.quick, full))
    ensure_index(config)
    reps = 5 if ctx.quick else SELECT_REPS
    cmd = [PYTHON, __file__, "select-worker", str(config), str(reps)]
    sec.commands.append(show_command(cmd) + "   # select_topic in-process, per topic")
    per_topic: dict[str, list[float]] = {}
    firsts: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for _ in range(ctx.runs):
        res = json.loads(run_process(cmd).check().stdout.strip().splitlines()[-1])
        for key, r in res.items():
            per_topic.setdefault(key, []).extend(r["times"])
            firsts.setdefault(key, []).append(r["first"])
            counts[key] = r["passages"]
    ctx.shared["select_latency"] = per_topic
    rows = [("| topic | p50 (ms) | p95 (ms) | calls | first call in a process (ms, median) "
            "| passages |"), "|---|---:|---:|---:|---:|---:|"]
    for key, times in per_topic.items():
        rows.append(f"| {key} | {1000 * percentile(times, 50):.0f} | "
                    f"{1000 * percentile(times, 95):.0f} | {len(times)} | "
                    f"{1000 * Stats(firsts[key]).median:.0f} | {counts[key]} |")
        sec.figures.append(Figure("3", f"`select_topic` {key}: p50 / p95 (in-process)",
                                  f"{1000 * percentile(times, 50):.0f} / "
                                  f"{1000 * percentile(times, 95):.0f} ms"))
    sec.details.append(f"Selection latency over {ctx.runs} processes × up to {reps} calls per "
                       f"topic (at least 3; fewer than {reps} once {SELECT_BUDGET_S:.0f} s are "
                       "spent on a topic) "
                       "(the first call of each process, which warms SQLite's page cache, "
                       "is reported apart):\n\n" + "\n".join(rows))
    sel_cmd = [*briefgen_command(), "select", "security", "-c", str(config)]
    sel = Stats([run_process(sel_cmd).check().wall for _ in range(ctx.runs)])
    sec.commands.append(show_command(sel_cmd))
    sec.figures.append(Figure("3", "`briefgen select security`, whole process", sel.fmt()))

    if not module_exists("build"):
        sec.details.append("`briefgen build` is not available yet (briefgen/build.py absent).")
        return sec
    outdir = WORK / "out"
    ensure_index(config)
    md, md_rss, md_cmd = time_build(config, "md", outdir / "full-md", ctx.runs)
    sec.commands.append(md_cmd)
    sec.figures.append(Figure("3", "`briefgen build --format md`, full corpus, whole process",
                              md.fmt()))
    seeds = seeds_project()
    time_build(seeds, "md", outdir / "warm", 1)  # index the seeds once, untimed
    big, big_rss, big_cmd = time_build(config, "md,pdf", outdir / "full-mdpdf", ctx.runs)
    small, _small_rss, small_cmd = time_build(seeds, "md,pdf", outdir / "seeds-mdpdf", ctx.runs)
    sec.commands += [big_cmd, small_cmd]
    ratio = big.median / small.median
    corpus_name = "10k subset" if ctx.quick else "106k articles"
    sec.figures += [
        Figure("3", f"default brief md+pdf over {corpus_name}", big.fmt()),
        Figure("3", "default brief md+pdf over seeds/ (5 articles)", small.fmt()),
        Figure("3", f"md+pdf {corpus_name} / seeds", f"{ratio:.2f}×", f"≤ {BUILD_RATIO_TARGET}×",
               ratio <= BUILD_RATIO_TARGET),
    ]
    sec.raw.update(select=per_topic, build_md=md.to_json(), build_big=big.to_json(),
                   build_seeds=small.to_json(), ratio=ratio, build_big_peak_mb=big_rss.to_json())
    sec.details.append(f"Peak RSS: build --format md {md_rss.median:.0f} MB, md+pdf over the "
                       f"large corpus {big_rss.median:.0f} MB. Every build runs "
                       "`update_index` first (nothing changed here), as `briefgen build` does.")
    if ratio > BUILD_RATIO_TARGET:
        ensure_index(config)
        sec.details.append("**Profile** (target missed) of the md+pdf build over the large "
                           "corpus:\n\n" + profile_command(
                               ["build", "-c", str(config), "--format", "md,pdf", "--out",
                                str(outdir / "profile")], "build-large"))
    return sec


# --------------------------------------------------------------------------- render floor

def run_render(ctx: Context) -> Section:
    """5. `briefgen build` of the default brief vs a bare WeasyPrint render of its HTML.

    benchmarks/bench_render.py (written with the renderer) prepares the project and the exact
    HTML+CSS briefgen renders; the timing here alternates the two sides, each a fresh process.
    """
    sec = Section("render", "5. Rendering floor: `briefgen build` vs bare WeasyPrint")
    hb = {True: "present", False: "absent", None: "unknown"}[harfbuzz_subset_present()]
    if not (BENCH_DIR / "bench_render.py").exists():
        return sec.skip("benchmarks/bench_render.py does not exist yet")
    import bench_render

    project, html, css = bench_render.prepare()
    build_cmd = [*briefgen_command(), "build", "--as-of", bench_render.AS_OF]
    bare_script = WORK / "render" / "bare_render.py"
    bare_script.write_text(bench_render.BARE, encoding="utf-8")
    bare_cmd = [PYTHON, str(bare_script), str(html), str(css), str(WORK / "render" / "bare.pdf")]
    run_process(build_cmd, cwd=project).check()  # warm the file and font caches once
    runs = max(ctx.runs, 3 if ctx.quick else 5)
    ours, floor = [], []
    for _ in range(runs):
        ours.append(run_process(build_cmd, cwd=project).check())
        floor.append(run_process(bare_cmd, cwd=project).check())
    build, bare = Stats([r.wall for r in ours]), Stats([r.wall for r in floor])
    build_cpu, bare_cpu = Stats([r.cpu for r in ours]), Stats([r.cpu for r in floor])
    ratio, cpu_ratio = build.median / bare.median, build_cpu.median / bare_cpu.median
    sec.commands += [f"cd benchmarks/work/render/project && {show_command(build_cmd)}",
                     show_command(bare_cmd) + "   # bench_render.BARE: HTML(bench.html)"
                     ".write_pdf(stylesheets=[CSS(brief.css)], pdf_tags=True)"]
    sec.figures += [
        Figure("5", "`briefgen build` default brief (md+pdf+json, seeds), whole process",
               build.fmt()),
        Figure("5", "bare WeasyPrint render of the same HTML+CSS, fresh process", bare.fmt()),
        Figure("5", "build / bare render (wall)", f"{ratio:.2f}×", f"≤ {RENDER_RATIO_TARGET}×",
               ratio <= RENDER_RATIO_TARGET),
        Figure("5", "build / bare render (CPU user+sys)",
               f"{cpu_ratio:.2f}× ({build_cpu.median:.2f} s / {bare_cpu.median:.2f} s)"),
    ]
    sec.raw.update(build=build.to_json(), bare=bare.to_json(), build_cpu=build_cpu.to_json(),
                   bare_cpu=bare_cpu.to_json(), ratio=ratio, harfbuzz=hb)
    sec.details.append(f"Runs alternate build and bare render ({runs} each, after one warm-up "
                       "build) so machine noise hits both; CPU time (user+sys of the process "
                       "and its children) is shown because wall time on a shared 2-core "
                       f"machine also measures the neighbours. Debian's `libharfbuzz-subset0`: "
                       f"**{hb}** (installed by scripts/system-deps.sh; without it WeasyPrint "
                       "embeds fonts more slowly and warns).")
    if ratio > RENDER_RATIO_TARGET:
        sec.details.append("**Profile** (target missed) of the same build:\n\n" + profile_command(
            ["build", "-c", str(project / "config.yaml"), "--as-of", bench_render.AS_OF,
             "--out", str(WORK / "out" / "render-profile")], "build-render"))
    return sec


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "select-worker":
        print(json.dumps(select_worker(Path(sys.argv[2]), int(sys.argv[3]))))
    else:
        sys.exit("usage: bench_select.py select-worker CONFIG REPS")
