"""Benchmark work files: generated projects, the corpus subset for --quick, passage texts, profiles.

Everything is written under benchmarks/work/ (gitignored); nothing from ../shared/data is
copied into the repository.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pstats
import re
import shutil
from pathlib import Path
from typing import Any

import yaml
from bench_common import PYTHON, ROOT, WORK, log, module_exists, run_process, show_command

QUICK_ARTICLES = 10_000


def corpus_for(ctx_quick: bool, full: Path) -> Path:
    """The Reuters corpus to index: the full file, or (--quick) its first 10,000 articles."""
    if not ctx_quick:
        return full
    subset = WORK / "quick" / f"reuters_financial_{QUICK_ARTICLES // 1000}k.jsonl.gz"
    if not subset.exists():
        subset.parent.mkdir(parents=True, exist_ok=True)
        tmp = subset.with_suffix(".tmp")
        with gzip.open(full, "rt", encoding="utf-8") as src, \
                gzip.open(tmp, "wt", encoding="utf-8", compresslevel=1) as dst:
            for n, line in enumerate(src):
                if n >= QUICK_ARTICLES:
                    break
                dst.write(line)
        tmp.replace(subset)
    return subset


def reuse_index(ctx: Any, full: Path) -> None:
    """With `--only`, pick up the large-corpus index (and its passage texts) a prior run built."""
    if ctx.shared.get("index_ready"):
        return
    corpus = corpus_for(ctx.quick, full)
    project = WORK / ("quick" if ctx.quick else "full")
    if (project / "index.sqlite").exists() and (project / "config.yaml").exists():
        ctx.shared.update(corpus=corpus, project=project, config=project / "config.yaml",
                          index_ready=True)
        dumped = WORK / "passages" / f"{corpus.name}.indexed.txt"
        if dumped.exists():
            with open(dumped, encoding="utf-8") as fh:
                count = sum(1 for _ in fh)
            ctx.shared.update(passages_file=dumped, n_passages=count)
        log(f"reusing the index in {project} from an earlier run")


def make_project(
    folder: Path, corpus: Path | str, *, metadata: str | None = None, fresh: bool = False
) -> Path:
    """Write folder/config.yaml: the project's config with the corpus, index and output moved.

    templates/ and topics/ are symlinked to the project's own, so the briefs and topics are
    exactly those of config.yaml. Returns the config path.
    """
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8")) or {}
    config.setdefault("corpus", {})
    config["corpus"]["path"] = str(corpus)
    config["corpus"]["metadata"] = metadata
    config["corpus"]["max_file_mb"] = 4096  # the Reuters file is 119 MB compressed
    config["index"] = {"path": "index.sqlite"}
    config["output"] = {"dir": "briefs"}
    for name in ("templates", "topics"):
        link = folder / name
        if (ROOT / name).is_dir() and not link.exists():
            link.symlink_to(ROOT / name, target_is_directory=True)
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def remove_index(project: Path) -> None:
    """Delete the generated project's index (and SQLite side files) for a from-scratch run."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with_suffix = project / f"index.sqlite{suffix}"
        if with_suffix.exists():
            with_suffix.unlink()
    for extra in (project / ".briefgen",):
        if extra.exists():
            shutil.rmtree(extra)


# --------------------------------------------------------------------------- passage texts

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


def _fingerprint(corpus: Path) -> str:
    """Changes when the corpus file or briefgen's reading code changes."""
    h = hashlib.sha256()
    st = corpus.stat()
    h.update(f"{corpus}:{st.st_size}:{st.st_mtime_ns}".encode())
    for name in ("corpus", "passages", "clean", "htmltext", "models"):
        path = ROOT / "briefgen" / f"{name}.py"
        if path.exists():
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def passage_texts(corpus: Path, config: Path) -> tuple[Path, int, str]:
    """One passage text per line, as briefgen's own reader cuts them (cached by fingerprint).

    Before briefgen.corpus.files exists, a plain blank-line paragraph split stands in.
    Returns (file, passage count, how they were made).
    """
    how = "briefgen.corpus.files.read_path" if module_exists("corpus") else "blank-line paragraph split"
    out = WORK / "passages" / f"{corpus.name}.{_fingerprint(corpus)}.txt"
    meta_path = out.with_suffix(".json")
    if out.exists() and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        return out, int(meta["count"]), str(meta["how"])
    out.parent.mkdir(parents=True, exist_ok=True)
    for old in out.parent.glob(f"{corpus.name}.*"):
        old.unlink()
    log(f"writing passage texts of {corpus.name} ({how}) ...")
    tmp = out.with_suffix(".tmp")
    count = 0
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for text in _iter_passage_texts(corpus, config, how):
            fh.write(text.replace("\n", " ").replace("\r", " "))
            fh.write("\n")
            count += 1
    tmp.replace(out)
    meta_path.write_text(json.dumps({"count": count, "how": how}))
    log(f"  {count:,} passages")
    return out, count, how


def _iter_passage_texts(corpus: Path, config: Path, how: str) -> Any:
    if how.startswith("briefgen"):
        from briefgen.config.load import load_config
        from briefgen.corpus import files as bg_corpus

        cfg = load_config(config, topic_files=[])
        for doc in bg_corpus.read_path(corpus, cfg, warn=lambda message: None):
            for passage in doc.passages:
                yield passage.text
        return
    with gzip.open(corpus, "rt", encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line).get("text") or ""
            for block in _BLANK_LINE.split(text):
                norm = " ".join(block.split())
                if norm:
                    yield norm


def read_lines(path: Path) -> list[str]:
    """The passage texts of a passages file, in order."""
    with open(path, encoding="utf-8") as fh:
        return fh.read().split("\n")[:-1]


# --------------------------------------------------------------------------- profiles


def profile_command(args: list[str], name: str, *, top: int = 15) -> str:
    """Run `python -m cProfile -m briefgen ARGS`; return a Markdown table of where time goes."""
    return _profile(["-m", "briefgen", *args], name, top)


def profile_script(code: str, name: str, *, top: int = 15) -> str:
    """Run a small Python script under cProfile (e.g. the work a worker process does)."""
    script = WORK / "profiles" / f"{name}.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(code, encoding="utf-8")
    return _profile([str(script)], name, top)


def _profile(target: list[str], name: str, top: int) -> str:
    prof = WORK / "profiles" / f"{name}.prof"
    prof.parent.mkdir(parents=True, exist_ok=True)
    prof.unlink(missing_ok=True)
    cmd = [PYTHON, "-m", "cProfile", "-o", str(prof), *target]
    log(f"profiling: {show_command(cmd)}")
    res = run_process(cmd)
    if res.returncode != 0 or not prof.exists():
        return f"(profile failed: exit {res.returncode}: {res.stderr.strip()[-300:]})"
    stats = pstats.Stats(str(prof), stream=io.StringIO())
    raw = stats.stats  # type: ignore[attr-defined]
    total = max((v[3] for v in raw.values()), default=0.0)
    rows = [(tottime, cumtime, ncalls, _short(file), line, func)
            for (file, line, func), (_cc, ncalls, tottime, cumtime, _callers) in raw.items()]
    by_self = sorted(rows, reverse=True)[:top]
    own = sorted((r for r in rows if r[3].startswith("briefgen/")),
                 key=lambda r: r[1], reverse=True)[:top]
    lines = [(f"`{show_command(cmd)}` — {res.wall:.1f} s under cProfile "
             f"(`benchmarks/work/profiles/{prof.name}`)."), "",
             "| self s | % | calls | function (by self time) |", "|---:|---:|---:|---|"]
    for tottime, _cum, ncalls, file, line, func in by_self:
        pct = 100 * tottime / total if total else 0
        lines.append(f"| {tottime:.2f} | {pct:.0f}% | {ncalls:,} | `{file}:{line}({func})` |")
    lines += ["", "| cum s | % | calls | briefgen function (by cumulative time) |",
              "|---:|---:|---:|---|"]
    for _tot, cumtime, ncalls, file, line, func in own:
        pct = 100 * cumtime / total if total else 0
        lines.append(f"| {cumtime:.2f} | {pct:.0f}% | {ncalls:,} | `{file}:{line}({func})` |")
    return "\n".join(lines)


def _short(file: str) -> str:
    if file.startswith(str(ROOT) + os.sep):
        return os.path.relpath(file, ROOT)
    for marker in ("site-packages/", "lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file
