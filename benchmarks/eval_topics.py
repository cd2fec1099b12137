"""Score topic configs as document selectors on Reuters-21578 (ModApte split).

Run: ``make eval`` (or ``.venv/bin/python benchmarks/eval_topics.py [--sweep]``).

Each topic in ``benchmarks/topics/*.yaml`` (the same format as a ``topics/*.yaml`` file) is
compared with a human label: ``trade`` with the ``trade`` topic label, ``japan``, ``china``
and ``south-korea`` with the ``places`` labels. The shipped ``config.yaml`` topics ``trade``
and ``china`` are scored too, for reference (they are written for today's news, not 1987).

Selection rule (document level): with ``briefgen.select.scoring`` — the code ``select`` applies to
passages, same tokens, weights, require and exclude — a story is selected when

    evidence(whole story) + evidence(lead) + evidence(headline) >= min_score

with a ``require`` term and no ``exclude`` term anywhere in the story. The whole story is
title, dateline and body (HTML entities decoded); the lead is the title, dateline and first
paragraph; the headline is the title and dateline. So a term counts once in the body, twice
in the first paragraph and three times in the title or dateline: wire copy states its
subject in the headline and lead, and a dateline such as "TOKYO, March 3 -" places the
story (on ModApte train, 300 of 302 Tokyo-datelined stories are labelled japan, all 46
Peking ones china). On train, counting the lead beats the whole story alone by 0.01–0.05 F1
for every task, and counting the headline once more adds 0.005–0.02 (trade, japan, china;
south-korea unchanged), also when weights and min_score are tuned on one half of train and
scored on the other.
Tuning is done on ModApte train only (``--sweep`` prints train F1 for a range of
min_score values); the table reports test, with train for reference, and is written
between the ``eval`` markers of ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import math
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval_fit import Factors, cross_validate, fit_report

from briefgen.config.schema import Topic
from briefgen.index.sqlite.analyzer import FtsAnalyzer
from briefgen.select.scoring import REPEAT_BONUS, CompiledTopic

DATA = ROOT.parent / "shared" / "data" / "reuters21578.jsonl.gz"
TOPICS = ROOT / "benchmarks" / "topics"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- eval:start -->", "<!-- eval:end -->"

# (topic file stem, label field, label value)
TASKS = [
    ("trade", "topics", "trade"),
    ("japan", "places", "japan"),
    ("china", "places", "china"),
    ("south-korea", "places", "south-korea"),
]
REFERENCE = [("trade", "topics", "trade"), ("china", "places", "china")]  # config.yaml topics
TARGET_F1 = {"trade": 0.75, "japan": 0.90, "china": 0.90, "south-korea": 0.90}


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 of one selector on one split."""

    positives: int
    selected: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.selected if self.selected else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.positives if self.positives else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def story_text(record: dict[str, object]) -> str:
    """Return a story as an importer would index it: title, dateline, body, entities decoded."""
    parts = [str(record.get(k) or "") for k in ("title", "dateline", "body")]
    return html.unescape("\n".join(p for p in parts if p))


def story_lead(record: dict[str, object]) -> str:
    """Return a story's title, dateline and first paragraph (paragraphs start indented)."""
    body = str(record.get("body") or "")
    first = next((p for p in re.split(r"\n {3,}", body) if p.strip()), "")
    parts = [str(record.get(k) or "") for k in ("title", "dateline")] + [first]
    return html.unescape("\n".join(p for p in parts if p))


def story_headline(record: dict[str, object]) -> str:
    """Return a story's title and dateline."""
    parts = [str(record.get(k) or "") for k in ("title", "dateline")]
    return html.unescape("\n".join(p for p in parts if p))


@dataclass(frozen=True)
class Story:
    """A story's tokens: the whole story, its lead and its headline."""

    full: tuple[str, ...]
    lead: tuple[str, ...]
    head: tuple[str, ...] = ()


def story_scores(compiled: CompiledTopic, stories: list[Story]) -> list[tuple[bool, float]]:
    """Return (require/exclude satisfied, document evidence) for each story."""
    out = []
    for story in stories:
        full = compiled.score(story.full)
        allowed = full.required and full.excluded_by is None
        evidence = full.evidence + compiled.score(story.lead).evidence
        if story.head:
            evidence += compiled.score(story.head).evidence
        out.append((allowed, evidence))
    return out


def story_factors(compiled: CompiledTopic, stories: list[Story]) -> tuple[list[Factors], list[bool]]:
    """Return each story's evidence as per-term factors (evidence = Σ weight · factor), and
    whether require/exclude allow it; the same figures as ``story_scores``, split by term."""
    index = {term: j for j, term in enumerate(compiled.terms)}
    factors, allowed = [], []
    for story in stories:
        full = compiled.score(story.full)
        allowed.append(full.required and full.excluded_by is None)
        fs: Factors = {}
        for evidence in (full, compiled.score(story.lead), compiled.score(story.head)):
            for term, count in evidence.hits:
                j = index[term]
                fs[j] = fs.get(j, 0.0) + 1.0 + REPEAT_BONUS * math.log(count)
        factors.append(fs)
    return factors, allowed


def load_topic(path: Path) -> Topic:
    """Read one topic file (the same format as ``topics/*.yaml``)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Topic.model_validate(data)


def load_config_topics() -> dict[str, Topic]:
    """Read the topics of the shipped config.yaml."""
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    return {k: Topic.model_validate(v) for k, v in (data.get("topics") or {}).items()}


def evaluate(topic: Topic, analyzer: FtsAnalyzer, stories: list[Story], labels: list[bool]) -> Scores:
    """Score a topic as a document selector against gold labels."""
    scored = story_scores(CompiledTopic(topic, analyzer), stories)
    return _scores([ok and ev >= topic.min_score for ok, ev in scored], labels)


def _scores(chosen: list[bool], labels: list[bool]) -> Scores:
    return Scores(sum(labels), sum(chosen), sum(c and g for c, g in zip(chosen, labels)))


def sweep(topic: Topic, analyzer: FtsAnalyzer, stories: list[Story], labels: list[bool]) -> str:
    """Return train F1 for a range of min_score values (the tuning aid)."""
    scored = story_scores(CompiledTopic(topic, analyzer), stories)
    lines = []
    for quarter in range(4, 121):
        t = quarter / 4
        s = _scores([ok and ev >= t for ok, ev in scored], labels)
        lines.append(f"  min_score {t:5.2f}: P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f}")
    return "\n".join(lines)


def row(name: str, label: str, test: Scores, train: Scores, target: float | None,
        cv: float | None = None) -> str:
    """Format one results-table row."""
    mark = "" if target is None else (" ✓" if test.f1 >= target else " ✗")
    goal = "—" if target is None else f"≥ {target:.2f}"
    return (
        f"| {name} | {label} | {test.positives} | {test.selected} | {test.precision:.3f} | "
        f"{test.recall:.3f} | **{test.f1:.3f}**{mark} | {goal} | {train.precision:.3f} / "
        f"{train.recall:.3f} / {train.f1:.3f} | {'—' if cv is None else f'{cv:.3f}'} |"
    )


def write_results(section: str) -> None:
    """Replace the eval section of benchmarks/RESULTS.md (create the file if absent)."""
    block = f"{START}\n{section}\n{END}"
    if RESULTS.exists():
        text = RESULTS.read_text(encoding="utf-8")
        if START in text and END in text:
            head, rest = text.split(START, 1)
            tail = rest.split(END, 1)[1]
            text = head + block + tail
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
    else:
        text = "# Benchmark results\n\n" + block + "\n"
    tmp = RESULTS.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(RESULTS)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation, print the table and write it into RESULTS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="print train F1 per min_score")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)
    if not DATA.exists():
        print(f"eval skipped: {DATA} is absent (the shared Reuters-21578 data is needed)")
        return 0

    started = time.perf_counter()
    with gzip.open(DATA, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    splits = {
        name: [r for r in records if r["lewissplit"] == name and r["has_topics_attr"] == "YES"]
        for name in ("TRAIN", "TEST")
    }
    analyzer = FtsAnalyzer()
    stems = {
        name: [
            Story(full, lead, head)
            for full, lead, head in zip(
                analyzer.stems_many([story_text(r) for r in rs]),
                analyzer.stems_many([story_lead(r) for r in rs]),
                analyzer.stems_many([story_headline(r) for r in rs]),
            )
        ]
        for name, rs in splits.items()
    }

    def gold(name: str, field: str, value: str) -> list[bool]:
        return [value in r[field] for r in splits[name]]

    def train_cv(topic: Topic, field: str, value: str) -> float:
        scored = story_scores(CompiledTopic(topic, analyzer), stems["TRAIN"])
        return cross_validate([ev if ok else 0.0 for ok, ev in scored], gold("TRAIN", field, value))

    rows, fits = [], []
    for stem, field, value in TASKS:
        topic = load_topic(TOPICS / f"{stem}.yaml")
        results = {n: evaluate(topic, analyzer, stems[n], gold(n, field, value)) for n in splits}
        rows.append(row(f"`benchmarks/topics/{stem}.yaml`", f"{field}:{value}",
                        results["TEST"], results["TRAIN"], TARGET_F1[stem],
                        train_cv(topic, field, value)))
        compiled = CompiledTopic(topic, analyzer)
        factors, allowed = story_factors(compiled, stems["TRAIN"])
        hand, fitted = fit_report(factors, allowed, gold("TRAIN", field, value),
                                  [t.weight for t in compiled.terms])
        fits.append(f"| {stem} | {len(compiled.terms)} | {hand:.3f} | {fitted:.3f} |")
        if args.sweep:
            print(f"{stem} (train):\n{sweep(topic, analyzer, stems['TRAIN'], gold('TRAIN', field, value))}")
    shipped = load_config_topics()
    for key, field, value in REFERENCE:
        if key in shipped:
            results = {n: evaluate(shipped[key], analyzer, stems[n], gold(n, field, value))
                       for n in splits}
            rows.append(row(f"`config.yaml` {key} (reference: a passage topic for today's news)",
                            f"{field}:{value}",
                            results["TEST"], results["TRAIN"], None))
    elapsed = time.perf_counter() - started

    section = "\n".join([
        "## Topic selection quality (Reuters-21578, ModApte)",
        "",
        (f"Test split: {len(splits['TEST'])} stories; train: {len(splits['TRAIN'])} "
        "(`lewissplit` TRAIN/TEST with `has_topics_attr` YES). A story is selected when the "
        "story qualifies under the same scoring code as `briefgen select`: evidence of the "
        "whole story + evidence of its lead (title, dateline, first paragraph) + evidence of "
        "its headline (title, dateline) ≥ min_score, with require/exclude; so a term counts "
        "once in the body, twice in the first paragraph, three times in the title or "
        "dateline. Topics were tuned on train only. Command: `make eval` "
        f"({elapsed:.1f} s)."),
        "",
        ("| topic config | gold label | test positives | selected | precision | recall | F1 "
        "| target | train P / R / F1 | train, held-out halves F1 |"),
        "|---|---|---:|---:|---:|---:|---:|---|---|---:|",
        *rows,
        "",
        ("*Held-out halves*: min_score chosen for the best F1 on a random half of train and "
         "scored on the other half, both ways, 5 random splits (`benchmarks/eval_fit.py`): "
         "what tuning on train can promise for unseen stories of the same kind. The next "
         "table goes further and searches every term weight too (grid 0–5, coordinate "
         "ascent, min_score re-chosen at each step) on one half, scoring the other:"),
        "",
        "| topic | terms | hand weights, held-out F1 | fitted weights, held-out F1 |",
        "|---|---:|---:|---:|",
        *fits,
        "",
        ("Fitted weights do no better than the hand-written ones on stories they were not "
         "fitted on (within ±0.03, the size of one or two stories for south-korea), so the "
         "configs are about as good as a rule of this kind gets on these labels; and even on "
         "train's own held-out halves, japan and south-korea stay below 0.90. What is left "
         "is in the labels: the `places` labels name a country a story concerns, often one "
         "named once in passing in a list (USDA export sales, G-7 currency talks) or only "
         "through a company (\"Mitsubishi Bank plans N.Z. dlr CD\" is japan), but not "
         "consistently: the same passing mention is unlabelled in other stories (the flash "
         "\"Japan February unemployment falls\" is japan, \"Japan February industrial "
         "production rose\" has no places), a Japanese borrower's Euro-yen bond in London "
         "is labelled uk, and most yen and Bank of Japan headline flashes carry no places at "
         "all. On test, recall is near 0.80 for all three places and precision is higher "
         "than on train. The 0.90 places target is missed; reaching it would take tuning on "
         "the test split, which this harness does not do."),
    ])
    print(section)
    if not args.no_write:
        write_results(section)
        print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
