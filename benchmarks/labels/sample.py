"""Draw the labelled news sample from ../shared/data/newsarticles.csv.gz (seeded, reproducible).

Writes benchmarks/labels/sample_ids.txt: one article_id a line, in labelling order. Only ids are
written; the article text stays in ../shared/data and is never committed.

At least a third of the sample has no match of any term of the shipped topics (config.yaml), so
recall is measured on articles a keyword rule would never see.

    python benchmarks/labels/sample.py            # writes sample_ids.txt
    python benchmarks/labels/sample.py --show N   # prints article N of the sample (for reading)
"""
from __future__ import annotations

import argparse
import csv
import gzip
import random
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "newsarticles.csv.gz"
OUT = Path(__file__).with_name("sample_ids.txt")
SEED = 20261206
WITH_TERMS = 340
WITHOUT_TERMS = 180


def read_articles() -> list[dict[str, str]]:
    """Return every article of the corpus (skipping empty bodies)."""
    if not DATA.exists():
        sys.exit(f"{DATA} is absent: the labelled sample needs ../shared/data")
    csv.field_size_limit(1 << 30)
    with gzip.open(DATA, "rt", encoding="utf-8", newline="") as fh:
        return [row for row in csv.DictReader(fh) if row["text"].strip()]


def shipped_terms_pattern() -> re.Pattern[str]:
    """Match any term of the shipped topics (case-insensitive, word-bounded prefix match)."""
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    terms = {str(t) for topic in cfg["topics"].values() for t in topic["terms"]}
    alts = sorted((re.escape(t) for t in terms), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(alts) + r")", re.IGNORECASE)


def draw(rows: list[dict[str, str]]) -> list[str]:
    """Return the sample's article ids: WITH_TERMS matching articles, WITHOUT_TERMS not, shuffled."""
    pattern = shipped_terms_pattern()
    hit = [r["article_id"] for r in rows if pattern.search(r["title"] + "\n" + r["text"])]
    miss = [r["article_id"] for r in rows if not pattern.search(r["title"] + "\n" + r["text"])]
    rng = random.Random(SEED)
    sample = rng.sample(sorted(hit, key=int), WITH_TERMS) + rng.sample(sorted(miss, key=int), WITHOUT_TERMS)
    rng.shuffle(sample)
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, metavar="N", help="print sample item N (0-based)")
    parser.add_argument("--range", nargs=2, type=int, metavar=("FROM", "TO"),
                        help="print sample items FROM..TO-1")
    args = parser.parse_args()
    rows = read_articles()
    if args.show is None and args.range is None:
        ids = draw(rows)
        OUT.write_text("\n".join(ids) + "\n", encoding="utf-8")
        print(f"wrote {len(ids)} ids to {OUT}")
        return
    ids = OUT.read_text(encoding="utf-8").split()
    by_id = {r["article_id"]: r for r in rows}
    lo, hi = (args.show, args.show + 1) if args.show is not None else args.range
    for n in range(lo, min(hi, len(ids))):
        r = by_id[ids[n]]
        print(f"=== item {n} · article_id {r['article_id']} · {r['publish_date']} · {r['article_source_link']}")
        print(f"TITLE: {r['title']}\nSUBTITLE: {r['subtitle']}\n{r['text']}\n")


if __name__ == "__main__":
    main()
