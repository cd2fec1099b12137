"""What an index was built with: the cleaning code and the corpus settings.

The indexer stores both fingerprints; when the code fingerprint differs every document is
cleaned again, when the settings fingerprint differs every file is read again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen import __version__
from briefgen._fs import sha256_file
from briefgen.index.base import STORE_FORMAT

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig


#: The code that decides what a document's passages are: the whole ``briefgen.corpus``
#: subpackage and these modules beside it. When any of it changes, every document is cleaned
#: again (an index must never hold passages the code would not cut). Whole folders are hashed,
#: so a module added to or moved within ``corpus/`` is covered without a list to keep.
PIPELINE_PACKAGES = ("corpus",)


PIPELINE_MODULES = ("models.py", "text.py")


def pipeline_sources() -> list[Path]:
    """Return the source files the pipeline fingerprint covers, in a stable order."""
    package = Path(__file__).resolve().parents[1]
    files = [f for name in PIPELINE_PACKAGES for f in sorted((package / name).rglob("*.py"))]
    return files + [package / name for name in PIPELINE_MODULES if (package / name).exists()]


def pipeline_fingerprint() -> str:
    """Return a hash of the briefgen version, index schema and cleaning code."""
    digest = hashlib.sha256(f"{__version__}\x1f{STORE_FORMAT}".encode())
    package = Path(__file__).resolve().parents[1]
    for path in pipeline_sources():
        with contextlib.suppress(OSError):
            digest.update(path.relative_to(package).as_posix().encode() + b"\x1f")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_fingerprint(cfg: LoadedConfig) -> str:
    """Return a hash of the settings that change what is read from unchanged files."""
    settings = cfg.config.corpus
    metadata_sha = ""
    if settings.metadata:
        with contextlib.suppress(OSError):
            metadata_sha = sha256_file(cfg.resolve(settings.metadata))
    caps = {k: getattr(settings, k) for k in ("max_file_mb", "max_records", "max_decompressed_mb")}
    return json.dumps({**caps, "metadata": metadata_sha, "fields": settings.fields.model_dump()},
                      sort_keys=True)
