"""The topic-quality harness (benchmarks/eval_topics.py, eval_fit.py): its arithmetic and its figures."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import pytest

from briefgen.config.schema import Topic
from briefgen.index.sqlite.analyzer import FtsAnalyzer
from briefgen.select.scoring import CompiledTopic

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import eval_fit
import eval_topics


def test_best_threshold_picks_the_cut_with_the_best_f1() -> None:
    evidence = [9.0, 8.0, 7.0, 3.0, 0.0]
    labels = [True, True, False, True, False]
    # cuts: 9 → 2·1/(1+3)=0.5; 8 → 2·2/(2+3)=0.8; 7 → 2·2/6=0.667; 3 → 2·3/7=0.857
    f1, min_score = eval_fit.best_threshold(evidence, labels)
    assert min_score == 3.0
    assert f1 == pytest.approx(6 / 7)
    assert eval_fit.f1_at(evidence, labels, min_score) == pytest.approx(f1)


def test_best_threshold_never_splits_equal_evidence_or_selects_zero() -> None:
    f1, min_score = eval_fit.best_threshold([5.0, 5.0, 0.0], [True, False, True])
    assert min_score == 5.0  # both 5s go together; the 0 story is never selected
    assert f1 == pytest.approx(2 * 1 / (2 + 2))
    assert eval_fit.best_threshold([0.0, 0.0], [True, False]) == (0.0, math.inf)


def test_halves_cover_every_story_once_per_fold_and_are_reproducible() -> None:
    pairs = eval_fit.halves(11)
    assert len(pairs) == 2 * eval_fit.FOLD_REPEATS
    for tune, held in pairs:
        assert sorted(tune + held) == list(range(11))
    assert pairs == eval_fit.halves(11)


def test_cross_validation_is_perfect_on_separable_labels_and_worse_on_noise() -> None:
    separable = [float(i % 2) * 10 + 1 for i in range(200)]
    labels = [i % 2 == 1 for i in range(200)]
    assert eval_fit.cross_validate(separable, labels) == pytest.approx(1.0)
    noisy = [1.0 + (i * 7919 % 13) for i in range(200)]  # unrelated to the labels
    assert eval_fit.cross_validate(noisy, labels) < 0.8


def test_fit_weights_finds_the_informative_term() -> None:
    # term 0 marks the positives, term 1 is on every story; the hand weights favour term 1
    factors = [{0: 1.0, 1: 1.0} if i % 3 == 0 else {1: 1.0} for i in range(60)]
    labels = [i % 3 == 0 for i in range(60)]
    allowed = [True] * 60
    fitted = eval_fit.fit_weights(factors, allowed, labels, [0.5, 3.0])
    evidence = eval_fit.story_evidence(factors, allowed, fitted)
    assert eval_fit.best_threshold(evidence, labels)[0] == pytest.approx(1.0)
    hand, held_out = eval_fit.fit_report(factors, allowed, labels, [0.0, 3.0])
    assert held_out == pytest.approx(1.0) and hand < 1.0


def test_story_factors_add_up_to_the_scoring_codes_evidence() -> None:
    topic = Topic.model_validate(
        {
            "title": "Japan",
            "description": "d",
            "min_score": 1,
            "terms": {"Japan": 3, "Tokyo": 2, "Bank of Japan": 1.5, "yen": 0.5},
            "exclude": ["Japan Fund"],
        }
    )
    analyzer = FtsAnalyzer()
    compiled = CompiledTopic(topic, analyzer)
    texts = [
        ("JAPAN RATES", "TOKYO, March 3 -", "The Bank of Japan held rates.\n   Yen rose. Japan, Japan."),
        ("", "", "Nothing here."),
        ("FUND", "NEW YORK -", "The Japan Fund rose in yen terms."),
    ]
    stories = []
    for title, dateline, body in texts:
        record = {"title": title, "dateline": dateline, "body": body}
        stories.append(eval_topics.Story(
            analyzer.stems(eval_topics.story_text(record)),
            analyzer.stems(eval_topics.story_lead(record)),
            analyzer.stems(eval_topics.story_headline(record)),
        ))
    scored = eval_topics.story_scores(compiled, stories)
    factors, allowed = eval_topics.story_factors(compiled, stories)
    weights = [t.weight for t in compiled.terms]
    assert allowed == [ok for ok, _ in scored] == [True, True, False]
    from_factors = eval_fit.story_evidence(factors, allowed, weights)
    assert from_factors[:2] == pytest.approx([scored[0][1], scored[1][1]])
    assert from_factors[0] > 3 * 3 and from_factors[1] == 0.0 and from_factors[2] == 0.0


@pytest.mark.shared_data
def test_make_eval_reports_every_task_and_meets_the_trade_target(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not (shared_data / "reuters21578.jsonl.gz").exists():
        pytest.skip("../shared/data/reuters21578.jsonl.gz is absent")
    assert eval_topics.main(["--no-write"]) == 0
    out = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line for line in out.splitlines()
            if line.startswith("| `benchmarks/topics/")}
    assert set(rows) == {f"`benchmarks/topics/{t}.yaml`" for t, _, _ in eval_topics.TASKS}
    trade = rows["`benchmarks/topics/trade.yaml`"].split("|")
    assert float(trade[7].strip().strip("*✓✗ ")) >= 0.75
    assert re.search(r"^\| trade \| \d+ \| 0\.\d{3} \| 0\.\d{3} \|$", out, re.MULTILINE)  # weight search
