"""Whole-process `briefgen build` of the default brief vs a bare WeasyPrint render of its HTML.

    .venv/bin/python benchmarks/bench_render.py [--runs 5]

Both sides run in a fresh process each time (Python start-up and imports included). The
floor is WeasyPrint alone rendering the exact HTML and CSS that briefgen produced; the
target is briefgen's total within 1.2× of it. Work files go to benchmarks/work/render/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
WORK = BENCH_DIR / "work" / "render"
AS_OF = "2026-03-15"
sys.path.insert(0, str(ROOT))

from briefgen.outputs.pdf import PDF_OPTIONS

# A bare WeasyPrint render with the same PDF options as briefgen (a tagged PDF).
BARE = f"""
import sys, weasyprint
html, css, out = sys.argv[1:4]
weasyprint.HTML(filename=html).write_pdf(out, stylesheets=[weasyprint.CSS(filename=css)],
                                         **{PDF_OPTIONS!r})
"""


def prepare() -> tuple[Path, Path, Path]:
    """Copy the project, index it, and save the default brief's HTML next to its CSS."""
    from briefgen.brief.assemble import assemble_brief
    from briefgen.build import RunWindow, find_brief, select_sections
    from briefgen.config.load import load_config
    from briefgen.index.update import update_index
    from briefgen.outputs.render import find_template_dirs, render_html, render_markdown

    shutil.rmtree(WORK, ignore_errors=True)
    project = WORK / "project"
    project.mkdir(parents=True)
    shutil.copy2(ROOT / "config.yaml", project / "config.yaml")
    for name in ("seeds", "topics", "templates"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, project / name)
    cfg = load_config(project / "config.yaml")
    update_index(cfg, progress=False, warn=lambda _m: None)
    day = dt.date.fromisoformat(AS_OF)
    name, spec = find_brief(cfg, None)
    window = RunWindow(as_of=day, since=None, within_days=spec.within_days, day=day)
    topics = {key: window.apply(cfg.topics[key]) for key in spec.topics}
    selections, corpus, brief_window = select_sections(cfg, topics, window)
    brief = assemble_brief(name, spec, topics, selections, corpus, date=day, as_of=day,
                           generated_at=f"{AS_OF}T00:00:00Z", version="bench", window=brief_window)
    dirs = find_template_dirs(cfg.root, spec.template_dir)
    page = render_html(brief, render_markdown(brief, dirs), dirs)
    html = dirs[0] / "bench.html"  # beside brief.css, so relative URLs resolve the same way
    html.write_text(page, encoding="utf-8")
    return project, html, dirs[0] / "brief.css"


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Run a command to completion; return its wall time and CPU time (user+sys) in seconds.

    CPU time is reported too because wall time on a shared 2-core machine mostly measures
    the neighbours.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    """Time both sides alternately (so machine noise hits both) and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    project, html, css = prepare()
    build = [sys.executable, "-m", "briefgen", "build", "--as-of", AS_OF]
    bare = [sys.executable, "-c", BARE, str(html), str(css), str(WORK / "bare.pdf")]
    os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    timed(build, project)  # warm the OS file cache and font cache once
    ours: list[tuple[float, float]] = []
    floor: list[tuple[float, float]] = []
    for _ in range(runs):
        ours.append(timed(build, project))
        floor.append(timed(bare, project))
    for kind, i in (("wall", 0), ("CPU", 1)):
        b = statistics.median(t[i] for t in ours)
        f = statistics.median(t[i] for t in floor)
        print(f"{kind:>4}: briefgen build {b:.2f} s (min {min(t[i] for t in ours):.2f}) | "
              f"bare WeasyPrint {f:.2f} s (min {min(t[i] for t in floor):.2f}) | "
              f"ratio {b / f:.2f}x (target <= 1.20x, n={runs})")

if __name__ == "__main__":
    main()
