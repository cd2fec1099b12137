"""Semantic relevance: offline loading, similarity to a topic, determinism, a missing package."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from briefgen.select.embedding import (
    BATCH_TEXTS,
    SemanticModel,
    SemanticScorer,
    SemanticUnavailable,
    load_model,
)

ROOT = Path(__file__).resolve().parent.parent
HAS_NUMPY = importlib.util.find_spec("numpy") is not None
HAS_WORDLLAMA = importlib.util.find_spec("wordllama") is not None
needs_numpy = pytest.mark.skipif(not HAS_NUMPY, reason="numpy is not installed")
needs_wordllama = pytest.mark.skipif(
    not HAS_WORDLLAMA,
    reason="wordllama is not installed (pip install 'wordllama>=0.4,<0.5'): "
    "the semantic model ships inside its wheel",
)

SECURITY_ABOUT = (
    "Defence policy, military posture, alliances and deterrence, nuclear policy and Taiwan."
)
SECURITY_SENTENCE = (
    "The defence ministry will deploy missile batteries and more troops to the islands."
)
COOKING_SENTENCE = "Simmer the onions in butter, then stir in the flour and a pinch of salt."

# Environment variables that would make a loader skip the network whatever it tried:
# the offline test unsets them, so it passes only because no download is attempted.
OFFLINE_SWITCHES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE")


class NetworkUsed(AssertionError):
    """Code under test tried to open a network connection."""


def _refuse(*args: object, **kwargs: object) -> Any:
    raise NetworkUsed(f"network access attempted: {args!r}")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every way of opening a connection raise, and unset the offline switches."""
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    for name in OFFLINE_SWITCHES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fresh_model_cache() -> Iterator[None]:
    """Forget the process's model before and after the test, so the test really loads it."""
    load_model.cache_clear()
    yield
    load_model.cache_clear()


@pytest.fixture(scope="module")
def security() -> SemanticScorer:
    """A scorer for the security topic of config.yaml, built from its description."""
    if not HAS_WORDLLAMA:
        pytest.skip("wordllama is not installed")
    return SemanticScorer(SECURITY_ABOUT)


@needs_wordllama
def test_model_loads_with_the_network_unavailable(
    no_network: None, fresh_model_cache: None
) -> None:
    model = load_model()
    assert model.dim == 256
    assert load_model() is model  # cached for the process
    [vector] = model.embed(["Tariffs on steel imports"])
    assert len(vector) == 256
    assert sum(x * x for x in vector) == pytest.approx(1.0, abs=1e-5)


@needs_wordllama
def test_a_fresh_process_loads_offline_and_keeps_the_root_logger(tmp_path: Path) -> None:
    # wordllama's import calls logging.basicConfig(level=INFO); a new interpreter is the only
    # place where that import, and the first load with the network gone, really happen.
    script = f"""
import json, logging, socket
def refuse(*a, **k):
    raise OSError("network access attempted")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from briefgen.select.embedding import SemanticScorer
scorer = SemanticScorer({SECURITY_ABOUT!r})
root = logging.getLogger()
print(json.dumps({{"handlers": len(root.handlers), "level": root.level,
                  "score": scorer.similarity([{SECURITY_SENTENCE!r}])[0]}}))
"""
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_SWITCHES}
    env["HOME"] = str(tmp_path)  # no user cache to fall back on
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    report = json.loads(done.stdout)
    assert report["handlers"] == 0
    assert report["level"] == 30  # WARNING, the default
    assert report["score"] > 0.2


@needs_wordllama
def test_a_security_sentence_is_closer_to_security_than_a_cooking_one(
    security: SemanticScorer,
) -> None:
    on_topic, off_topic = security.similarity([SECURITY_SENTENCE, COOKING_SENTENCE])
    assert on_topic > off_topic + 0.2
    assert all(type(score) is float for score in (on_topic, off_topic))


@needs_wordllama
def test_scores_are_deterministic_and_independent_of_the_batch(
    security: SemanticScorer,
) -> None:
    texts = [f"{SECURITY_SENTENCE} Item {i}." for i in range(BATCH_TEXTS + 7)]
    texts[3] = COOKING_SENTENCE
    texts[BATCH_TEXTS + 2] = "short"
    scores = security.similarity(texts)
    assert scores == security.similarity(texts)
    assert scores == SemanticScorer(SECURITY_ABOUT).similarity(texts)
    for i in (0, 3, BATCH_TEXTS - 1, BATCH_TEXTS + 2):
        assert security.similarity([texts[i]]) == [scores[i]]


@needs_wordllama
@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=8), st.data())
def test_a_text_scores_the_same_whatever_its_neighbours(
    security: SemanticScorer, texts: list[str], data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(texts) - 1))
    scores = security.similarity(texts)
    assert security.similarity([texts[i]]) == [scores[i]]
    assert all(-1.0 <= s <= 1.0 for s in scores)


@needs_wordllama
def test_a_text_without_tokens_scores_zero(security: SemanticScorer) -> None:
    assert security.similarity(["", SECURITY_SENTENCE])[0] == 0.0
    assert security.similarity([]) == []
    assert security.embed([""]) == [[0.0] * 256]


@needs_wordllama
def test_examples_and_terms_describe_a_topic_too() -> None:
    by_terms = SemanticScorer(terms=["tariff", "trade deficit", "exports", "imports"])
    by_example = SemanticScorer(examples=["Washington raised tariffs on Japanese car imports."])
    texts = ["The trade deficit widened as exports fell.", COOKING_SENTENCE]
    for scorer in (by_terms, by_example):
        trade, cooking = scorer.similarity(texts)
        assert trade > cooking
    assert by_terms.references == ("tariff, trade deficit, exports, imports",)


@needs_wordllama
def test_a_topic_needs_some_text() -> None:
    with pytest.raises(ValueError, match="needs an about text"):
        SemanticScorer("  ", examples=[""], terms=[" "])


def test_a_missing_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, fresh_model_cache: None
) -> None:
    monkeypatch.setitem(sys.modules, "wordllama", None)  # makes `import wordllama` fail
    with pytest.raises(SemanticUnavailable) as caught:
        load_model()
    message = str(caught.value)
    assert "\n" not in message
    assert "pip install 'wordllama>=0.4,<0.5'" in message
    assert "semantic: false" in message
    assert caught.value.exit_code == 1


def test_a_broken_model_says_how_to_recover(
    monkeypatch: pytest.MonkeyPatch, fresh_model_cache: None, tmp_path: Path
) -> None:
    from briefgen.select import embedding

    (tmp_path / "tokenizers").mkdir()
    (tmp_path / "tokenizers" / embedding.TOKENIZER_FILE).write_text("{not json", encoding="utf-8")
    monkeypatch.setattr(embedding, "_model_folder", lambda: tmp_path)  # a damaged install
    with pytest.raises(SemanticUnavailable) as caught:
        SemanticScorer(SECURITY_ABOUT)
    message = str(caught.value)
    assert "\n" not in message
    assert str(tmp_path) in message
    assert "--force-reinstall" in message and "semantic: false" in message


@dataclass
class _Encoding:
    ids: list[int]


class _WordTokenizer:
    """Give each known word its id in ``words`` and drop unknown ones."""

    def __init__(self, words: Sequence[str]) -> None:
        self.ids = {w: i for i, w in enumerate(words)}

    def encode_batch(
        self, input: Sequence[str], /, *, add_special_tokens: bool = True
    ) -> list[_Encoding]:
        return [_Encoding([self.ids[w] for w in t.split() if w in self.ids]) for t in input]


@needs_numpy
def test_a_text_vector_is_the_normalized_mean_of_its_token_vectors() -> None:
    import numpy as np

    table = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 4.0]], dtype=np.float32)
    model = SemanticModel(vectors=table, tokenizer=_WordTokenizer(["east", "north", "far"]))
    east, mixed, far, unknown = model.embed(["east", "east north", "far far", "west"])
    assert east == [1.0, 0.0]
    assert mixed == pytest.approx([2**-0.5, 2**-0.5])
    assert far == pytest.approx([0.6, 0.8])
    assert unknown == [0.0, 0.0]
    scorer = SemanticScorer(examples=["east", "north"], model=model)
    assert scorer.similarity(["east north", "east", "west"]) == pytest.approx([1.0, 2**-0.5, 0.0])
