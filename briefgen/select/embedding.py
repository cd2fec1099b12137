"""Score how close texts are to what a topic is about, offline, with the model inside wordllama.

wordllama (MIT) ships a 256-dimension static token-embedding model in its wheel. A text's vector
is the mean of its tokens' vectors, so embedding is a table lookup: no network, GPU or torch, a
0.15 s load (after a ~0.5 s import) and about 4,000 passages of 80 words a second on one core,
most of it tokenizing. A topic's vector is the normalized mean of the unit vectors of its
reference texts (about sentences, example passages, the term list); measured on Reuters, that
mean separates on- from off-topic stories better than the best match over the references.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from briefgen.errors import BriefgenError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["SemanticModel", "SemanticScorer", "SemanticUnavailable", "load_model"]

#: The requirement to install; the loader below relies on wordllama 0.4's ``WordLlama.load``.
REQUIREMENT = "wordllama>=0.4,<0.5"
#: The name of the model wordllama ships in its wheel, and its files there.
MODEL_NAME = "wordllama l2_supercat 256d"
WEIGHTS_FILE = "l2_supercat_256.safetensors"
TOKENIZER_FILE = "l2_supercat_tokenizer_config.json"
TENSOR_KEY = "embedding.weight"
#: How to do without semantic scoring, for the end of every SemanticUnavailable message.
TURN_OFF = "set `semantic: false` on the topic"
#: Texts tokenized at a time.
BATCH_TEXTS = 1024
#: Texts of like length pooled at a time; measured fastest on 80-word passages.
POOL_ROWS = 256


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


class SemanticModel:
    """A static embedding model: one vector per token id and the tokenizer that finds the ids."""

    def __init__(
        self, vectors: NDArray[np.float32], tokenizer: Tokenizer, name: str = MODEL_NAME
    ) -> None:
        """Wrap a (tokens x dimensions) table and a tokenizer that neither pads nor truncates."""
        import numpy as np

        # one extra all-zero row: the id that pads a short text to its group's width
        self._table = np.vstack([vectors, np.zeros((1, vectors.shape[1]), vectors.dtype)])
        self._table = np.ascontiguousarray(self._table, dtype=np.float32)
        self.vectors = self._table[:-1]
        self.tokenizer = tokenizer
        self.name = name

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

        pad = len(self.vectors)
        for first in range(0, len(texts), BATCH_TEXTS):
            batch = list(texts[first : first + BATCH_TEXTS])
            encodings = self.tokenizer.encode_batch(batch, add_special_tokens=False)
            id_lists = [e.ids for e in encodings]
            sums = np.zeros((len(batch), self.dim), dtype=np.float32)
            # texts of like length are pooled together, so little of the work is padding
            by_length = sorted(range(len(batch)), key=lambda i: len(id_lists[i]))
            for start in range(0, len(by_length), POOL_ROWS):
                group = by_length[start : start + POOL_ROWS]
                width = len(id_lists[group[-1]])
                if not width:
                    continue
                ids = np.full((len(group), width), pad, dtype=np.int64)
                for row, i in enumerate(group):
                    ids[row, : len(id_lists[i])] = id_lists[i]
                np.clip(ids, 0, pad, out=ids)  # an id past the table would index out of it
                group_sums = np.zeros((len(group), self.dim), dtype=np.float32)
                # token by token: each text's sum is added up in its own token order, so its
                # vector does not depend on the other texts in the batch.
                for column in ids.T:
                    group_sums += self._table[column]
                sums[group] = group_sums
            norms = np.linalg.norm(sums, axis=1, keepdims=True)
            yield np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0)


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
    """Return this process's semantic model, loaded offline from the files of the wordllama wheel.

    Only the wheel's files are used — its token vectors (safetensors) and its tokenizer
    (a ``tokenizers`` JSON file) — not the wordllama module: importing it costs ~0.7 s (it pulls
    in an HTTP stack to download models) and reconfigures the root logger, and its loader looks
    for the tokenizer in the wrong folder and tries to download it.
    """
    folder = _model_folder()
    try:
        import numpy as np
        from safetensors import safe_open
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise SemanticUnavailable(
            f"semantic scoring needs the wordllama package ({exc.name or 'a dependency'} is not "
            f"installed): run `pip install '{REQUIREMENT}'`, or {TURN_OFF}"
        ) from exc
    weights = folder / "weights" / WEIGHTS_FILE
    tokenizer_file = folder / "tokenizers" / TOKENIZER_FILE
    try:
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        tokenizer.no_padding()  # the pooling needs each text's own tokens only
        tokenizer.no_truncation()
        with safe_open(str(weights), framework="numpy") as fh:
            vectors = np.ascontiguousarray(fh.get_tensor(TENSOR_KEY), dtype=np.float32)
    except Exception as exc:  # any failure reading a third-party file means the same to us
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise _reinstall(f"the wordllama model in {folder} cannot be loaded ({reason})") from exc
    if vectors.ndim != 2 or not vectors.size:
        raise _reinstall(f"the wordllama model in {folder} has no token vectors")
    return SemanticModel(vectors=vectors, tokenizer=tokenizer)


def _model_folder() -> Path:
    """Return the installed wordllama package's folder, without importing the package."""
    try:
        spec = importlib.util.find_spec("wordllama")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise SemanticUnavailable(
            "semantic scoring needs the wordllama package (wordllama is not installed): "
            f"run `pip install '{REQUIREMENT}'`, or {TURN_OFF}"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _reinstall(problem: str) -> SemanticUnavailable:
    """Return the error for a broken wordllama install, saying how to repair it."""
    return SemanticUnavailable(
        f"{problem}: reinstall it with `pip install --force-reinstall '{REQUIREMENT}'`, "
        f"or {TURN_OFF}"
    )
