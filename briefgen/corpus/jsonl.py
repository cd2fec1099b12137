"""Read a JSONL file (plain or gzipped) as large blocks of whole lines, in bounded memory.

Reading a block at a time, not a line at a time, is what lets the indexer hand the lines to
worker processes cheaply; the line numbers and the handling of over-long lines are exactly
those of reading line by line.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

#: A JSONL file is read in blocks of about this many bytes (decompressed), cut at line ends.
JSONL_BLOCK_BYTES = 4 << 20


@dataclass(frozen=True, slots=True)
class JsonlChunk:
    """Whole lines of a JSONL file; ``data`` is None for one line over the record cap."""

    first_line: int  # 1-based number of the first line
    data: bytes | None
    consumed: int  # bytes of the file as stored (compressed or not) read so far

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """Yield (line number, line without its newline)."""
        if not self.data:
            return
        lines = self.data.split(b"\n")
        if self.data.endswith(b"\n"):
            lines.pop()
        yield from enumerate(lines, self.first_line)


class _CountingReader:
    """A binary file wrapper that counts, and hashes if asked, the bytes read through it."""

    def __init__(self, fh: IO[bytes], digest: Any = None) -> None:
        self._fh = fh
        self._digest = digest
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        self.consumed += len(data)
        if self._digest is not None:
            self._digest.update(data)
        return data

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        raise io.UnsupportedOperation("the file is read once, front to back")

    def drain(self) -> None:
        """Read to the end of the file (so that the hash covers all of it)."""
        while self.read(1 << 20):
            pass


def jsonl_chunks(path: Path, cap: int, *, digest: Any = None) -> Iterator[JsonlChunk]:
    """Read a .jsonl or .jsonl.gz file in large blocks of whole lines, in bounded memory.

    A line longer than ``cap`` bytes is never held whole: it comes as a chunk with ``data``
    None. ``digest`` (a hashlib object), if given, is fed every byte of the file as stored.
    Raises OSError, EOFError or gzip.BadGzipFile if the file cannot be read to its end.
    """
    with open(path, "rb") as raw:
        counter = _CountingReader(raw, digest)
        fh: Any = gzip.GzipFile(fileobj=counter, mode="rb") if path.name.lower().endswith(".gz") else counter
        number, tail, dropping = 1, b"", False
        while block := _read_block(fh):
            if dropping:  # inside a line over the cap: skip to its end
                end = block.find(b"\n")
                if end < 0:
                    continue
                block, dropping = block[end + 1 :], False
            data = tail + block if tail else block
            cut = data.rfind(b"\n") + 1
            if cut:
                yield JsonlChunk(number, data[:cut], counter.consumed)
                number += data.count(b"\n", 0, cut)
            tail = data[cut:]
            if len(tail) > cap:
                yield JsonlChunk(number, None, counter.consumed)
                number, tail, dropping = number + 1, b"", True
        if tail and not dropping:
            yield JsonlChunk(number, tail, counter.consumed)
        counter.drain()


def _read_block(fh: Any) -> bytes:
    """Read about JSONL_BLOCK_BYTES; a block at a time, so a damaged end loses little."""
    parts: list[bytes] = []
    size = 0
    while size < JSONL_BLOCK_BYTES and (part := fh.read1(JSONL_BLOCK_BYTES - size)):
        parts.append(part)
        size += len(part)
    return b"".join(parts)
