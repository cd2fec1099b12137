"""Shared helpers for the benchmarks: paths, process timing with peak memory, statistics, results.

Nothing here asserts a timing: benchmarks measure and report; `make test` never runs them.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
WORK = BENCH_DIR / "work"
SHARED_DATA = ROOT.parent / "shared" / "data"
PYTHON = sys.executable

# Benchmarks import briefgen from this working tree even before `pip install -e .`.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REUTERS_FINANCIAL = "reuters_financial.jsonl.gz"
EXTRACTION_TARBALL = "article_extraction_benchmark.tar.gz"


def log(message: str) -> None:
    """Print one progress line of the benchmark run (stdout, flushed)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def data_file(name: str) -> Path | None:
    """Return ../shared/data/NAME, or None (after saying so on stdout) when it is absent."""
    path = SHARED_DATA / name
    if path.is_file():
        return path
    log(f"SKIP: {path} is absent")
    return None


def briefgen_command() -> list[str]:
    """The real `briefgen` console script of this interpreter's environment."""
    script = Path(PYTHON).parent / "briefgen"
    return [str(script)] if script.exists() else [PYTHON, "-m", "briefgen"]


def module_exists(name: str) -> bool:
    """Whether briefgen's module NAME (e.g. "corpus") exists yet."""
    return (ROOT / "briefgen" / f"{name}.py").is_file()


def show_command(cmd: Sequence[str]) -> str:
    """Render a command for RESULTS.md, with paths shortened relative to the project root."""
    parts = []
    for arg in cmd:
        text = str(arg)
        if text.startswith(str(ROOT) + "/"):
            text = os.path.relpath(text, ROOT)
        if text == PYTHON or text.endswith("/.venv/bin/python"):
            text = ".venv/bin/python"
        if text.endswith("/.venv/bin/briefgen"):
            text = "briefgen"
        parts.append(shlex.quote(text))
    return " ".join(parts)


# --------------------------------------------------------------------------- statistics


@dataclass
class Stats:
    """Repeated measurements of one figure."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def lo(self) -> float:
        return min(self.values)

    @property
    def hi(self) -> float:
        return max(self.values)

    def fmt(self, unit: str = "s", digits: int = 2) -> str:
        """`median unit (min–max, n=N)`."""
        if len(self.values) == 1:
            return f"{self.median:.{digits}f} {unit} (n=1)"
        return (
            f"{self.median:.{digits}f} {unit} "
            f"({self.lo:.{digits}f}–{self.hi:.{digits}f}, n={len(self.values)})"
        )

    def to_json(self) -> dict[str, Any]:
        return {"median": self.median, "min": self.lo, "max": self.hi, "values": self.values}


def percentile(values: Sequence[float], pct: float) -> float:
    """The pct-th percentile (linear interpolation between closest ranks)."""
    data = sorted(values)
    if not data:
        return float("nan")
    k = (len(data) - 1) * pct / 100.0
    f = int(k)
    c = min(f + 1, len(data) - 1)
    return data[f] + (data[c] - data[f]) * (k - f)


# --------------------------------------------------------------------------- processes


@dataclass
class ProcResult:
    """One whole-process run: wall time, peak memory, exit status and output."""

    cmd: list[str]
    wall: float  # seconds, from spawn to exit
    maxrss_mb: float  # peak RSS of the largest single process (wait4 rusage)
    tree_peak_mb: float  # peak of the summed RSS of the process and its children (sampled)
    returncode: int
    stdout: str
    stderr: str
    cpu: float = 0.0  # user+sys seconds of the process and the children it waited for

    def check(self) -> ProcResult:
        """Raise with the tail of stderr when the process failed."""
        if self.returncode != 0:
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"{show_command(self.cmd)} exited {self.returncode}:\n{tail}")
        return self


def _descendants(pid: int) -> list[int]:
    """pid and every descendant, from /proc/<pid>/task/*/children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_process(
    cmd: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    sample_interval: float = 0.05,
) -> ProcResult:
    """Run cmd to completion; time it and record its peak memory (whole process tree)."""
    cmd = [str(c) for c in cmd]
    WORK.mkdir(parents=True, exist_ok=True)
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), full_env.get("PYTHONPATH", "")) if p)
    full_env.update(env or {})
    with open(WORK / ".stdout", "w+b") as out, open(WORK / ".stderr", "w+b") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, sum(_rss_kb(p) for p in _descendants(proc.pid)))
                done.wait(sample_interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    maxrss_mb = usage.ru_maxrss / 1024.0
    return ProcResult(cmd, wall, maxrss_mb, max(peak / 1024.0, maxrss_mb), proc.returncode,
                      stdout, stderr, usage.ru_utime + usage.ru_stime)


def time_call(func: Callable[[], Any]) -> tuple[float, Any]:
    """Run func once; return (seconds, its result)."""
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


# --------------------------------------------------------------------------- results


@dataclass
class Figure:
    """One row of the summary table."""

    item: str  # e.g. "1", "2a"
    name: str
    value: str
    target: str = "—"
    met: bool | None = None  # None: no target, or not measured

    @property
    def verdict(self) -> str:
        return {True: "yes", False: "**no**", None: "—"}[self.met]


@dataclass
class Section:
    """What one benchmark reports: figures for the summary, then its own detail text."""

    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # Markdown blocks
    skipped: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # machine-readable, to results.json

    def skip(self, reason: str) -> Section:
        """Mark the section skipped, saying why on stdout and in RESULTS.md."""
        self.skipped = reason
        log(f"SKIP {self.title}: {reason}")
        return self


@dataclass
class Context:
    """Options and shared state of one `make bench` run."""

    runs: int = 3
    quick: bool = False
    shared: dict[str, Any] = field(default_factory=dict)  # e.g. the full index's config path


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")


# --------------------------------------------------------------------------- machine


def _first_line(path: str, prefix: str) -> str | None:
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def harfbuzz_subset_present() -> bool | None:
    """Whether Debian's libharfbuzz-subset0 is installed (None: no dpkg to ask)."""
    if shutil.which("dpkg-query") is None:
        return None
    res = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "libharfbuzz-subset0"],
                         check=False, capture_output=True, text=True)
    return "install ok installed" in res.stdout


def machine_info() -> dict[str, str]:
    """The facts a reader needs to compare these figures with their own machine."""
    mem_kb = _first_line("/proc/meminfo", "MemTotal")
    mem = f"{int(mem_kb.split()[0]) / 1024 / 1024:.1f} GiB" if mem_kb else "unknown"
    hb = harfbuzz_subset_present()
    return {
        "CPU": _first_line("/proc/cpuinfo", "model name") or platform.processor() or "unknown",
        "cores (os.cpu_count)": str(os.cpu_count()),
        "memory": mem,
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
        "WeasyPrint": _version("weasyprint"),
        "trafilatura": _version("trafilatura"),
        "bm25s": _version("bm25s"),
        "PyStemmer": _version("PyStemmer"),
        "libharfbuzz-subset0": {True: "present", False: "absent", None: "unknown (no dpkg)"}[hb],
    }
