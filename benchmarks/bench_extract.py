"""Benchmark 6: HTML extraction quality on the article-extraction-benchmark pages.

The metric is the benchmark's own (scrapinghub/article-extraction-benchmark, evaluate.py):
tokens are `\\w+` matches, shingles are 4 consecutive tokens (a text of fewer than 4 tokens is
one shorter shingle), TP/FP/FN are counted over shingle multisets per page and scaled to sum
to 1; precision is averaged over pages with TP+FP > 0, recall over pages with TP+FN > 0, and
F1 is computed from the two averages. An empty prediction is an empty string.
"""

from __future__ import annotations

import gzip
import json
import re
import tarfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from statistics import mean

from bench_common import (
    EXTRACTION_TARBALL,
    WORK,
    Context,
    Figure,
    Section,
    data_file,
    log,
    module_exists,
)

F1_TARGET = 0.958
_TOKEN_RE = re.compile(r"\w+", re.UNICODE | re.MULTILINE | re.IGNORECASE | re.DOTALL)
TpFpFn = tuple[float, float, float]


# --------------------------------------------------------------------------- the metric


def tokenize(text: str | None) -> list[str]:
    """The benchmark's tokens: every `\\w+` run."""
    return _TOKEN_RE.findall(text or "")


def shingles(text: str | None, n: int = 4) -> Counter[tuple[str, ...]]:
    """Multiset of n-token shingles, as the benchmark's `_ngrams` makes them."""
    tokens = tokenize(text)
    out: Counter[tuple[str, ...]] = Counter()
    for i in range(max(1, len(tokens) - n + 1)):
        shingle = tuple(tokens[i:i + n])
        if shingle:
            out[shingle] += 1
    return out


def shingle_matching(true: str | None, pred: str | None) -> TpFpFn:
    """Per-page TP/FP/FN over shingle multisets, scaled to sum to 1 (0,0,0 if both empty)."""
    t, p = shingles(true), shingles(pred)
    tp = fp = fn = 0.0
    for key in set(t) | set(p):
        tc, pc = t.get(key, 0), p.get(key, 0)
        tp += min(tc, pc)
        fp += max(0, pc - tc)
        fn += max(0, tc - pc)
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s > 0 else (tp, fp, fn)


def precision_score(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def recall_score(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def metrics(tp_fp_fns: list[TpFpFn]) -> dict[str, float]:
    """Precision and recall averaged over pages, F1 from the two averages."""
    precision = mean(precision_score(*x) for x in tp_fp_fns if x[0] + x[1] > 0)
    recall = mean(recall_score(*x) for x in tp_fp_fns if x[0] + x[2] > 0)
    return {"f1": 2 * precision * recall / (precision + recall),
            "precision": precision, "recall": recall}


def page_f1(x: TpFpFn) -> float:
    p, r = precision_score(*x), recall_score(*x)
    return 2 * p * r / (p + r) if p + r else 0.0


# --------------------------------------------------------------------------- the data


def load_pages(tarball: Path) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Unpack once under benchmarks/work/; return (ground truth, id → HTML text)."""
    dest = WORK / "extraction"
    if not (dest / ".complete").exists():
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as tar:
            tar.extractall(dest, filter="data")
        (dest / ".complete").touch()
    truth_path = next(dest.rglob("ground-truth.json"))
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    html_dir = truth_path.parent / "html"
    pages: dict[str, str] = {}
    for key in truth:
        plain, packed = html_dir / f"{key}.html", html_dir / f"{key}.html.gz"
        if packed.exists():
            with gzip.open(packed, "rt", encoding="utf8") as fh:
                pages[key] = fh.read()
        else:
            pages[key] = plain.read_text(encoding="utf8")
    return truth, pages


def score(name: str, extract: Callable[[str], str | None], truth: dict[str, dict[str, str]],
          pages: dict[str, str]) -> dict[str, object]:
    """Run one extractor over every page and score it."""
    preds: dict[str, str] = {}
    start = time.perf_counter()
    for key, html in pages.items():
        try:
            preds[key] = extract(html) or ""
        except Exception as exc:  # noqa: BLE001 — a crash is an empty prediction, reported
            log(f"  {name} failed on {key[:12]}: {exc!r}")
            preds[key] = ""
    seconds = time.perf_counter() - start
    per_page = {k: shingle_matching(truth[k].get("articleBody", ""), preds[k]) for k in truth}
    result: dict[str, object] = metrics(list(per_page.values()))
    exact = mean(float(tokenize(truth[k].get("articleBody")) == tokenize(preds[k]))
                 for k in truth)
    result.update(accuracy=exact, seconds=seconds, per_page=per_page, preds=preds,
                  empty=sum(1 for v in preds.values() if not v.strip()))
    return result


# --------------------------------------------------------------------------- diagnosis


def _unmatched_lines(text: str, other: Counter[tuple[str, ...]]) -> list[str]:
    """Lines of text whose shingles are mostly absent from `other`, longest first."""
    found = []
    for line in text.splitlines():
        sh = shingles(line)
        if len(tokenize(line)) < 3:
            continue
        missing = sum(c for s, c in sh.items() if s not in other)
        if missing > 0.6 * sum(sh.values()):
            found.append(line.strip())
    return sorted(found, key=len, reverse=True)


def diagnose(truth_text: str, pred: str) -> tuple[str, str]:
    """(what leaks in, what goes missing) on one page, as short quotes."""
    def clip(lines: list[str]) -> str:
        if not lines:
            return "—"
        shown = "; ".join(f"“{line[:70]}{'…' if len(line) > 70 else ''}”" for line in lines[:2])
        more = f" (+{len(lines) - 2} more lines)" if len(lines) > 2 else ""
        return shown.replace("|", "\\|") + more
    leaks = _unmatched_lines(pred, shingles(truth_text))
    missing = _unmatched_lines(truth_text, shingles(pred))
    return clip(leaks), clip(missing)


# --------------------------------------------------------------------------- the section


def run_extract(ctx: Context) -> Section:
    """6. Score briefgen.corpus.files.extract_html_text (and plain trafilatura) on 181 pages."""
    sec = Section("extract", "6. HTML extraction quality (article-extraction-benchmark)")
    tarball = data_file(EXTRACTION_TARBALL)
    if tarball is None:
        return sec.skip(f"../shared/data/{EXTRACTION_TARBALL} is absent")
    truth, pages = load_pages(tarball)
    sec.commands.append(".venv/bin/python benchmarks/run.py --only extract   # in-process, "
                        "pages unpacked to benchmarks/work/extraction/")
    import trafilatura

    def plain_trafilatura(html: str) -> str | None:
        return trafilatura.extract(html, include_comments=False)

    extractors: list[tuple[str, Callable[[str], str | None]]] = []
    if module_exists("corpus"):
        from briefgen.corpus import files as corpus

        if hasattr(corpus, "extract_html_text"):
            extractors.append(("briefgen `corpus.extract_html_text`", corpus.extract_html_text))
    if not extractors:
        sec.details.append("`briefgen.corpus.files.extract_html_text` does not exist yet: only plain "
                           "trafilatura was scored.")
    extractors.append((("plain `trafilatura.extract(html, include_comments=False)` "
                       f"{trafilatura.__version__} (reference)"), plain_trafilatura))
    results = {}
    for name, func in extractors:
        log(f"  extracting {len(pages)} pages with {name}")
        results[name] = score(name, func, truth, pages)
    table = ["| extractor | F1 | precision | recall | exact (accuracy) | empty | pages/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        table.append(f"| {name} | {r['f1']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | "
                     f"{r['accuracy']:.3f} | {r['empty']} | {len(pages) / r['seconds']:.0f} |")
        sec.raw[name] = {k: r[k] for k in ("f1", "precision", "recall", "accuracy", "seconds",
                                           "empty")}
    first_name, first = next(iter(results.items()))
    own = first_name.startswith("briefgen")
    sec.figures.append(Figure("6", f"{first_name} F1 ({len(pages)} pages)",
                              f"{first['f1']:.3f} (P {first['precision']:.3f}, "
                              f"R {first['recall']:.3f})", f"≥ {F1_TARGET}",
                              first["f1"] >= F1_TARGET if own else None))
    if own and len(results) > 1:
        ref = results[list(results)[1]]
        sec.figures.append(Figure("6", "plain trafilatura F1 (reference)",
                                  f"{ref['f1']:.3f} (P {ref['precision']:.3f}, "
                                  f"R {ref['recall']:.3f})"))
    sec.details.append("\n".join(table))
    sec.details.append("Published table for reference: trafilatura 2.0.0 F1 0.958 "
                       "(P 0.938, R 0.978); best system (rs_trafilatura) 0.970.")
    per_page = first["per_page"]
    worst = sorted(per_page, key=lambda k: page_f1(per_page[k]))[:10]
    rows = [f"Worst ten pages for {first_name}:", "",
            "| page | F1 | P | R | leaks in (not in articleBody) | missing (from articleBody) |",
            "|---|---:|---:|---:|---|---|"]
    for key in worst:
        x = per_page[key]
        leak, miss = diagnose(truth[key].get("articleBody", ""), first["preds"][key])
        host = re.sub(r"^https?://(www\.)?", "", truth[key].get("url", ""))[:40]
        rows.append(f"| `{key[:10]}` {host} | {page_f1(x):.2f} | {precision_score(*x):.2f} | "
                    f"{recall_score(*x):.2f} | {leak} | {miss} |")
    sec.details.append("\n".join(rows))
    return sec
