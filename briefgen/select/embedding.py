"""Score how close texts are to what a topic is about, offline, with the model inside wordllama.

wordllama (MIT) ships a 256-dimension static token-embedding model in its wheel. A text's vector
is the mean of its tokens' vectors, so embedding is a table lookup: no network, GPU or torch, a
0.15 s load and thousands of passages a second on one core. A topic's vector is the normalized
mean of the unit vectors of its reference texts (about sentences, example passages, the term
list); measured on Reuters, that mean separates on- from off-topic stories better than taking
the best match over the references one by one.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from briefgen.errors import BriefgenError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["SemanticModel", "SemanticScorer", "SemanticUnavailable", "load_model"]

#: The requirement to install; the loader below relies on wordllama 0.4's ``WordLlama.load``.
REQUIREMENT = "wordllama>=0.4,<0.5"
#: The name of the model wordllama ships in its wheel.
MODEL_NAME = "wordllama l2_supercat 256d"
#: Texts tokenized and pooled at a time: bounds the (tokens x 256) block of float32 in memory.
BATCH_TEXTS = 256


class SemanticUnavailable(BriefgenError):
    """The semantic model cannot be loaded: its package is missing or its files are broken."""


class Encoding(Protocol):
    """One tokenized text, as a ``tokenizers.Encoding`` is."""

    @property
    def ids(self) -> list[int]:
        """Return the text's token ids."""
        ...


class Tokenizer(Protocol):
    """What the model needs of a ``tokenizers.Tokenizer``."""

    def encode_batch(
        self, input: Sequence[str], /, *, add_special_tokens: bool = True
    ) -> Sequence[Encoding]:
        """Tokenize each text."""
        ...


@dataclass(frozen=True, eq=False)
class SemanticModel:
    """A static embedding model: one vector per token id and the tokenizer that finds the ids."""

    vectors: NDArray[np.float32]
    """The token vectors, one row per token id (C-contiguous float32)."""
    tokenizer: Tokenizer
    """Turns a text into token ids; must not pad or truncate."""
    name: str = MODEL_NAME
    """Names the model in explanations and benchmarks."""

    @property
    def dim(self) -> int:
        """Return the number of dimensions of a vector."""
        return int(self.vectors.shape[1])

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one unit vector per text (all zeros for a text without tokens)."""
        vectors: list[list[float]] = []
        for block in self._unit_vector_blocks(texts):
            vectors.extend(block.tolist())
        return vectors

    def _unit_vector_blocks(self, texts: Sequence[str]) -> Iterator[NDArray[np.float32]]:
        """Yield the texts' unit vectors as arrays of at most ``BATCH_TEXTS`` rows, in order."""
        import numpy as np

        for first in range(0, len(texts), BATCH_TEXTS):
            batch = list(texts[first : first + BATCH_TEXTS])
            encodings = self.tokenizer.encode_batch(batch, add_special_tokens=False)
            lengths = np.fromiter((len(e.ids) for e in encodings), np.int64, len(encodings))
            ids = np.fromiter(
                itertools.chain.from_iterable(e.ids for e in encodings),
                np.int64,
                int(lengths.sum()),
            )
            block = np.zeros((len(batch), self.dim), dtype=np.float32)
            has_tokens = lengths > 0
            if ids.size:
                # wordllama clamps ids past the table the same way
                np.clip(ids, 0, len(self.vectors) - 1, out=ids)
                starts = (np.cumsum(lengths) - lengths)[has_tokens]
                # reduceat sums each text's tokens on their own, so a text's vector does not
                # depend on the other texts in its batch (padding to a batch length would).
                sums = np.add.reduceat(self.vectors[ids], starts, axis=0)
                norms = np.linalg.norm(sums, axis=1, keepdims=True)
                block[has_tokens] = np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0)
            yield block


class SemanticScorer:
    """Score texts by their cosine similarity to what a topic is about."""

    def __init__(
        self,
        about: str | Sequence[str] = (),
        examples: Sequence[str] = (),
        terms: Sequence[str] = (),
        *,
        model: SemanticModel | None = None,
    ) -> None:
        """Describe the topic by about sentences, example passages and/or a term list."""
        import numpy as np

        abouts = [about] if isinstance(about, str) else list(about)
        references = [t for t in (*abouts, *examples) if t.strip()]
        term_list = ", ".join(t.strip() for t in terms if t.strip())
        if term_list:
            # the terms as one text measured better than each term as its own reference
            references.append(term_list)
        if not references:
            raise ValueError("a semantic topic needs an about text, an example or a term")
        self.model = model if model is not None else load_model()
        self.references = tuple(references)
        unit = np.concatenate(list(self.model._unit_vector_blocks(self.references)))
        centre = unit.mean(axis=0)
        norm = float(np.linalg.norm(centre))
        if norm == 0.0:
            raise ValueError(f"no reference text of the topic has a known word: {references!r}")
        self._vector = (centre / norm).astype(np.float32)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Return one unit vector per text (all zeros for a text without tokens)."""
        return self.model.embed(texts)

    def similarity(self, texts: Sequence[str]) -> list[float]:
        """Return each text's cosine similarity to the topic, from -1 to 1 (0 for no tokens)."""
        import numpy as np

        scores: list[float] = []
        for block in self.model._unit_vector_blocks(texts):
            # a row-wise sum instead of a matrix product: BLAS may sum in an order that depends
            # on the block's shape, and a text's score must not depend on its neighbours.
            dots = np.multiply(block, self._vector).sum(axis=1, dtype=np.float64)
            scores.extend(np.clip(dots, -1.0, 1.0).tolist())
        return scores


@functools.cache
def load_model() -> SemanticModel:
    """Return this process's semantic model, loaded offline from the wordllama wheel."""
    wordllama = _import_wordllama()
    import numpy as np

    if wordllama.__file__ is None:
        raise SemanticUnavailable(
            f"the wordllama package has no folder on disk: reinstall it with "
            f"`pip install --force-reinstall '{REQUIREMENT}'`, or set `semantic: false` "
            "on the topic"
        )
    folder = Path(wordllama.__file__).parent
    try:
        # wordllama 0.4 looks for its shipped tokenizer in <cache_dir>/tokenizers/ instead of
        # beside its weights, and would download it: pointing cache_dir at the package folder
        # finds the copy in the wheel, and disable_download turns any miss into an error.
        inference = wordllama.WordLlama.load(cache_dir=folder, disable_download=True)
        tokenizer = inference.tokenizer
        tokenizer.no_padding()  # the pooling needs each text's own tokens only
        tokenizer.no_truncation()
        vectors = np.ascontiguousarray(inference.embedding, dtype=np.float32)
    except Exception as exc:  # any failure inside a third-party loader means the same to us
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise SemanticUnavailable(
            f"the wordllama model in {folder} cannot be loaded ({reason}): reinstall it with "
            f"`pip install --force-reinstall '{REQUIREMENT}'`, or set `semantic: false` "
            "on the topic"
        ) from exc
    if vectors.ndim != 2 or not vectors.size:
        raise SemanticUnavailable(
            f"the wordllama model in {folder} has no token vectors: reinstall it with "
            f"`pip install --force-reinstall '{REQUIREMENT}'`, or set `semantic: false` "
            "on the topic"
        )
    return SemanticModel(vectors=vectors, tokenizer=tokenizer)


def _import_wordllama() -> ModuleType:
    """Import wordllama, keeping the root logger as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        importlib.import_module("numpy")  # wordllama's dependency: named if it alone is missing
        wordllama = importlib.import_module("wordllama")
    except ImportError as exc:
        missing = exc.name or "wordllama"
        raise SemanticUnavailable(
            f"semantic scoring needs the wordllama package ({missing} is not installed): "
            f"run `pip install '{REQUIREMENT}'`, or set `semantic: false` on the topic"
        ) from exc
    finally:
        # wordllama calls logging.basicConfig(level=INFO) when imported: in a program that has
        # not configured logging, every library's INFO records would then print on stderr.
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    return wordllama
