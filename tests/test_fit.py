"""Article context, topic fitting (cross-validation) and term suggestions, on small corpora."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from briefgen.cli import cli
from briefgen.config.load import load_config
from briefgen.index.backends import open_store
from briefgen.index.update import update_index
from briefgen.select import fit
from briefgen.select.selection import select_topic

# The same passage evidence (defence 2 + army 2 + attack 1): only their articles tell them apart.
SPORT = ("{n}. The home side's defence held firm for ninety minutes while an army of fans "
         "sang; the striker's attack faded in the second half of the derby.")
WAR = ("{n}. The attack on the base was repelled by its defence, and the army said the "
       "fighting in the northern province went on for hours.")
BUDGET = ("{n}. The ministry published its budget for schools and hospitals; spending on "
          "roads rises while the pension fund is reformed, the finance minister said.")


def write_project(root: Path, articles: dict[str, tuple[str, str, list[str]]],
                  topic: dict[str, object]) -> Path:
    """Write a JSONL corpus (id → title, first template, paragraphs) and a config with topic t."""
    (root / "corpus").mkdir(parents=True)
    with (root / "corpus" / "news.jsonl").open("w", encoding="utf-8") as fh:
        for doc_id, (title, _, paragraphs) in articles.items():
            fh.write(json.dumps({"id": doc_id, "title": title, "text": "\n\n".join(paragraphs)}) + "\n")
    config = {"corpus": {"path": "corpus"}, "index": {"path": "index.sqlite"}, "topics": {"t": topic},
              "topic_files": []}
    (root / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return root / "config.yaml"


def corpus(n_war: int = 6, n_sport: int = 6) -> dict[str, tuple[str, str, list[str]]]:
    """War reports and football reports that share the word 'defence'; budget stories too."""
    docs: dict[str, tuple[str, str, list[str]]] = {}
    for i in range(n_war):
        docs[f"war{i}"] = ("Rebels and militants attack army base; military responds", WAR,
                           [WAR.format(n=i), WAR.format(n=i + 100), BUDGET.format(n=i)])
    for i in range(n_sport):
        docs[f"sport{i}"] = ("Home side wins the derby", SPORT,
                             [SPORT.format(n=i), SPORT.format(n=i + 100), BUDGET.format(n=i)])
    return docs


SECURITY = {"title": "Security", "terms": {"defence": 2, "military": 2, "army": 2, "rebels": 2,
                                           "militants": 3, "airstrikes": 3, "attack": 1},
            "min_score": 2, "semantic": False}


def test_article_context_keeps_the_war_and_drops_the_football(tmp_path: Path) -> None:
    # The football passages say "defence" and "attack" (evidence 3): enough alone at min_score
    # 2. With article context the war reports' headlines and leads lift their passages and
    # the football reports get nothing from theirs, so a higher min_score separates them.
    plain = load_config(write_project(tmp_path / "a", corpus(), SECURITY))
    update_index(plain, progress=False)
    chosen = {sp.passage.doc_id for sp in select_topic(plain, "t", limit=100).passages}
    assert any(d.startswith("sport") for d in chosen)  # the problem context solves

    with_context = {**SECURITY, "context_weight": 0.5, "min_score": 14}
    cfg = load_config(write_project(tmp_path / "b", corpus(), with_context))
    update_index(cfg, progress=False)
    picked = select_topic(cfg, "t", limit=100).passages
    docs = {p.passage.doc_id for sp in picked for p in (sp, *sp.corroborated_by)}
    assert docs == {f"war{i}" for i in range(6)}
    parts = dict(picked[0].parts)
    assert set(parts) == {"evidence", "context", "relevance"} and parts["context"] > 0


def test_explain_shows_every_part_of_the_score(tmp_path: Path) -> None:
    config = write_project(tmp_path, corpus(2, 2), {**SECURITY, "context_weight": 0.5, "min_score": 14})
    update_index(load_config(config), progress=False)
    result = CliRunner().invoke(cli, ["select", "t", "--explain", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "evidence" in result.output and "+ context" in result.output and "+ relevance" in result.output


def features(tmp_path: Path) -> tuple[fit.Features, dict[str, bool]]:
    config = write_project(tmp_path, corpus(), SECURITY)
    cfg = load_config(config)
    update_index(cfg, progress=False)
    labels = {d: d.startswith("war") for d in corpus()}
    with open_store(cfg) as store:
        return fit.collect_features(cfg.topics["t"], store, labels), labels


def test_features_are_the_products_scores(tmp_path: Path) -> None:
    f, labels = features(tmp_path)
    assert set(f.docs) == set(labels) and f.passage.shape[1] == len(SECURITY["terms"])  # type: ignore[arg-type]
    # With context 0 and the topic's own weights, an article's score is its best passage's
    # evidence as `select` computes it (equal here); with context, the war reports win.
    scores = dict(zip(f.docs, fit.article_scores(f, None, f.weights, 0.0, 0.0), strict=True))
    assert scores["war0"] == scores["sport0"] == 5.0
    scores = dict(zip(f.docs, fit.article_scores(f, None, f.weights, 0.5, 0.0), strict=True))
    assert scores["war0"] == pytest.approx(25.38, abs=0.01) and scores["sport0"] < 12


def test_best_threshold_picks_the_cut_with_the_best_f1() -> None:
    scores = np.array([9.0, 8.0, 7.0, 3.0, -np.inf])
    labels = np.array([True, True, False, True, False])
    # cuts: 9 → 2·1/(1+3) = 0.5; 8 → 0.8; 7 → 0.667; 3 → 2·3/(4+3) = 0.857
    f1, threshold = fit.best_threshold(scores, labels)
    assert threshold == 3.0 and f1 == pytest.approx(6 / 7)
    assert fit.best_threshold(np.array([5.0, 5.0]), np.array([True, False]))[1] == 5.0
    assert fit.best_threshold(np.array([-np.inf]), np.array([True])) == (0.0, math.inf)


def test_folds_are_stratified_disjoint_and_reproducible() -> None:
    labels = np.array([True] * 10 + [False] * 15)
    masks = fit.folds(labels)
    assert sum(m.astype(int) for m in masks).tolist() == [1] * 25  # every article once
    assert all(labels[m].sum() == 2 for m in masks)  # 2 positives per fold
    assert [m.tolist() for m in masks] == [m.tolist() for m in fit.folds(labels)]


def test_cross_validation_fits_context_on_separable_data(tmp_path: Path) -> None:
    f, _ = features(tmp_path)
    held_out = fit.cross_validate(f, fit_weights=False, semantic=False)
    assert held_out.f1 == 1.0  # context separates war from football on every held-out fold
    params = fit.fit(f, np.ones(len(f.docs), dtype=bool), fit_weights=False, semantic=False)
    assert params.context > 0


def test_weight_search_finds_the_informative_term(tmp_path: Path) -> None:
    f, _ = features(tmp_path)
    params = fit.fit(f, np.ones(len(f.docs), dtype=bool), fit_weights=True, semantic=False)
    weights = dict(zip(f.terms, params.weights, strict=True))
    assert weights["militants"] > 0 or weights["airstrikes"] > 0 or params.context > 0
    assert fit.counts(f, np.ones(len(f.docs), dtype=bool), params).f1 == 1.0


def test_topic_fit_and_suggest_through_the_cli(tmp_path: Path) -> None:
    config = write_project(tmp_path, corpus(), {**SECURITY, "context_weight": 0.5, "min_score": 14})
    update_index(load_config(config), progress=False)
    labels = tmp_path / "labels.csv"
    labels.write_text("doc_id,label\n" + "".join(
        f"{d},{int(d.startswith('war'))}\n" for d in corpus()), encoding="utf-8")
    before = config.read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["topic", "fit", "t", "--labels", str(labels), "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "fitted (held-out)" in result.output and "F1 1.000" in result.output
    proposed = tmp_path / "t.topic.yaml.proposed"
    assert proposed.exists() and config.read_text(encoding="utf-8") == before  # never overwritten
    data = yaml.safe_load(proposed.read_text(encoding="utf-8"))
    assert data["title"] == "Security" and "min_score" in data

    suggest = CliRunner().invoke(cli, ["topic", "suggest", "t", "-c", str(config)])
    assert suggest.exit_code == 0, suggest.output
    assert "fighting" in suggest.output  # in every war passage, in no other


def test_bad_labels_are_one_line_errors(tmp_path: Path) -> None:
    config = write_project(tmp_path, corpus(1, 1), SECURITY)
    bad = tmp_path / "bad.csv"
    bad.write_text("doc_id,label\nwar0,yes\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["topic", "fit", "t", "--labels", str(bad), "-c", str(config)])
    assert result.exit_code != 0 and "bad.csv:2: expected doc_id,label" in result.output
    one_class = tmp_path / "one.csv"
    one_class.write_text("war0,1\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["topic", "fit", "t", "--labels", str(one_class), "-c", str(config)])
    assert result.exit_code != 0 and "both positive (1) and negative (0)" in result.output
