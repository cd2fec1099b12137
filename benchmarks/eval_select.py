"""Topic selection quality, measured through briefgen's own selection path.

Run: ``make eval`` (or ``.venv/bin/python benchmarks/eval_select.py``).

Every figure comes from ``select_topic(cfg, topic, limit=N)`` — the function ``briefgen select
TOPIC --limit N`` calls — over an index built by ``update_index`` from a corpus written in the
shapes a user has (JSONL). An article counts as selected when ``select`` picks any of its
passages (a passage merged into a near-duplicate counts: ``select`` names it); ``--limit``
is large, so the brief's per-source cap does not hide articles.

Tasks:

- ``news``: the labelled newsarticles sample (``benchmarks/labels/news_labels.csv``, 520
  articles read by hand, a second reading of 130: see ``labels/GUIDELINES.md``). The whole
  corpus (3,824 articles) is indexed, so every topic competes with all of it; scores are on the
  labelled articles. Topics: the shipped ``config.yaml`` topics security, trade, china, korea.
- ``reuters``: Reuters-21578 ModApte test stories (3,299) indexed; ``benchmarks/topics/*.yaml``
  (tuned on ModApte train only) against the ``trade`` topic label and the ``japan``, ``china``,
  ``south-korea`` places labels.

Results are written between the ``select-eval`` markers of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import html
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from briefgen.config.load import load_config
from briefgen.config.schema import LoadedConfig
from briefgen.index.backends import open_store
from briefgen.index.update import update_index
from briefgen.select.fit import Counts, collect_features, cross_validate
from briefgen.select.selection import select_topic

DATA = ROOT.parent / "shared" / "data"
LABELS = ROOT / "benchmarks" / "labels" / "news_labels.csv"
TOPICS = ROOT / "benchmarks" / "topics"
WORK = ROOT / "benchmarks" / "work" / "eval"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- select-eval:start -->", "<!-- select-eval:end -->"
LIMIT = 100_000  # `select --limit`: every passage above the threshold

NEWS_TOPICS = ("security", "trade", "china", "korea")
REUTERS_TASKS = [("trade", "topics", "trade"), ("japan", "places", "japan"),
                 ("china", "places", "china"), ("south-korea", "places", "south-korea")]


def score(selected: set[str], positives: set[str], universe: set[str]) -> Counts:
    """Score a selection restricted to the labelled universe."""
    chosen = selected & universe
    return Counts(len(chosen), len(chosen & positives), len(positives))


def write_project(folder: Path, records: Iterable[dict[str, object]], topics: dict[str, object] | None,
                  topic_files: list[str]) -> Path:
    """Write a project folder: corpus.jsonl, config.yaml (shipped topics unless given)."""
    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus" / "corpus.jsonl"
    corpus.parent.mkdir(exist_ok=True)
    new = json.dumps(list(records), ensure_ascii=False)
    # Rewrite only when the records changed, so the index stays incremental between runs.
    if not corpus.exists() or (folder / "records.sha").read_text() != str(hash(new)):
        with corpus.open("w", encoding="utf-8") as fh:
            for record in json.loads(new):
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        (folder / "records.sha").write_text(str(hash(new)))
    shipped = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config = {
        "corpus": {"path": "corpus"},
        "index": {"path": "index.sqlite"},
        "topics": shipped["topics"] if topics is None else topics,
        "topic_files": topic_files,
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return folder / "config.yaml"


def news_records() -> tuple[list[dict[str, object]], dict[str, dict[str, int]]]:
    """Return the newsarticles corpus as JSONL records and the labels by article id."""
    csv.field_size_limit(1 << 30)
    with gzip.open(DATA / "newsarticles.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    records = []
    for row in rows:
        y, m, d = (row["publish_date"].split("/") + ["", "", ""])[:3]
        date = f"{int(y):04d}-{int(m):02d}-{int(d):02d}" if y.isdigit() and m.isdigit() and d.isdigit() else None
        outlet = urlparse(row["article_source_link"]).netloc.removeprefix("www.") or None
        records.append({"id": f"na{row['article_id']}", "title": row["title"], "date": date,
                        "url": row["article_source_link"], "outlet": outlet, "text": row["text"]})
    with LABELS.open(encoding="utf-8", newline="") as fh:
        labels = {f"na{r['article_id']}": {t: int(r[t]) for t in NEWS_TOPICS} for r in csv.DictReader(fh)}
    return records, labels


def reuters_records(split: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Return the ModApte stories of a split as JSONL records, with the raw stories."""
    stories = []
    with gzip.open(DATA / "reuters21578.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            s = json.loads(line)
            if s.get("has_topics_attr") == "YES" and s.get("lewissplit") == split:
                stories.append(s)
    records = []
    for s in stories:
        body = html.unescape(str(s.get("body") or ""))
        dateline = html.unescape(str(s.get("dateline") or "")).strip()
        text = f"{dateline} - {body}" if dateline and not body.lstrip().startswith(dateline[:6]) else body
        records.append({"id": f"r{s['newid']}", "title": html.unescape(str(s.get("title") or "")),
                        "text": text or html.unescape(str(s.get("title") or ""))})
    return records, stories


def selected_docs(cfg: LoadedConfig, topic: str) -> set[str]:
    """Return the articles ``briefgen select TOPIC --limit LIMIT`` picks a passage from.

    A passage merged into a near-duplicate counts too: ``select`` shows it ("also said in").
    """
    picked = select_topic(cfg, topic, limit=LIMIT).passages
    return {p.passage.doc_id for sp in picked for p in (sp, *sp.corroborated_by)}


def index(config: Path, topic_files: list[Path] | None = None) -> LoadedConfig:
    """Load a project and bring its index up to date."""
    cfg = load_config(config, topic_files=topic_files or [])
    update_index(cfg, progress=False)
    return cfg


def eval_news() -> list[tuple[str, str, Counts, float]]:
    """Score the shipped topics on the labelled news sample."""
    records, labels = news_records()
    cfg = index(write_project(WORK / "news", records, None, []))
    rows = []
    universe = set(labels)
    for topic in NEWS_TOPICS:
        started = time.perf_counter()
        chosen = selected_docs(cfg, topic)
        took = time.perf_counter() - started
        positives = {doc for doc, lab in labels.items() if lab[topic]}
        rows.append(("news", topic, score(chosen, positives, universe), took))
    return rows


def cv_news() -> list[tuple[str, str, Counts, float]]:
    """Held-out scores on the news sample: weights and min_score fitted on the other folds.

    The features are the product's own (``select.fit.collect_features`` scores candidates with
    ``select.selection.scored_candidates``); ``topic fit --keep-weights`` fits the same way.
    """
    _, labels = news_records()
    cfg = load_config(WORK / "news" / "config.yaml")
    rows = []
    with open_store(cfg) as store:
        for topic in NEWS_TOPICS:
            started = time.perf_counter()
            features = collect_features(cfg.topics[topic], store,
                                        {doc: bool(lab[topic]) for doc, lab in labels.items()})
            c = cross_validate(features, fit_weights=False)
            rows.append(("news, 5-fold CV", topic, c,
                         time.perf_counter() - started))
    return rows


def agreement() -> str:
    """Return Cohen's kappa between the first and the second reading of the news sample."""
    second = LABELS.with_name("news_labels_second.csv")
    with LABELS.open(encoding="utf-8", newline="") as fh:
        first = {r["article_id"]: r for r in csv.DictReader(fh)}
    with second.open(encoding="utf-8", newline="") as fh:
        other = {r["article_id"]: r for r in csv.DictReader(fh)}
    out = [f"Second reading: {len(other)} of {len(first)} articles, read independently.", "",
           "| topic | positives (1st / 2nd) | agreement | Cohen's κ |", "|---|---|---:|---:|"]
    for topic in NEWS_TOPICS:
        a = [int(first[i][topic]) for i in other]
        b = [int(other[i][topic]) for i in other]
        n = len(a)
        po = sum(x == y for x, y in zip(a, b, strict=True)) / n
        pa, pb = sum(a) / n, sum(b) / n
        pe = pa * pb + (1 - pa) * (1 - pb)
        kappa = (po - pe) / (1 - pe) if pe < 1 else 1.0
        out.append(f"| {topic} | {sum(a)} / {sum(b)} | {po:.3f} | {kappa:.3f} |")
    return "\n".join(out)


def eval_reuters() -> list[tuple[str, str, Counts, float]]:
    """Score the Reuters topic files on ModApte test."""
    records, stories = reuters_records("TEST")
    files = [TOPICS / f"{key}.yaml" for key, _, _ in REUTERS_TASKS]
    cfg = index(write_project(WORK / "reuters-test", records, {}, []), topic_files=files)
    universe = {f"r{s['newid']}" for s in stories}
    rows = []
    for key, field, value in REUTERS_TASKS:
        positives = {f"r{s['newid']}" for s in stories if value in (s.get(field) or [])}
        started = time.perf_counter()
        chosen = selected_docs(cfg, key)
        rows.append(("reuters", key, score(chosen, positives, universe), time.perf_counter() - started))
    return rows


def table(rows: list[tuple[str, str, Counts, float]]) -> str:
    """Return the results as a Markdown table."""
    out = ["| set | topic | positives | selected | P | R | F1 | select s |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for task, topic, s, took in rows:
        out.append(f"| {task} | {topic} | {s.positives} | {s.selected} | {s.precision:.3f} | "
                   f"{s.recall:.3f} | **{s.f1:.3f}** | {took:.2f} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["news", "reuters"], help="run one set")
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: {DATA} is absent (the evaluation needs ../shared/data)")
        return
    rows = []
    if args.only in (None, "news"):
        rows += eval_news()
        rows += cv_news()
    if args.only in (None, "reuters"):
        rows += eval_reuters()
    text = table(rows)
    if args.only in (None, "news"):
        text += "\n\n" + agreement()
    print(text)
    if not args.no_write and args.only is None:
        results = RESULTS.read_text(encoding="utf-8")
        block = f"{START}\n{text}\n{END}"
        if START in results:
            head, rest = results.split(START, 1)
            results = head + block + rest.split(END, 1)[1]
        else:
            results += f"\n## Topic selection through `briefgen select`\n\n{block}\n"
        RESULTS.write_text(results, encoding="utf-8")


if __name__ == "__main__":
    main()
