"""Read a JSONL file (plain or gzipped) as large blocks of whole lines, in bounded memory.

Reading a block at a time, not a line at a time, is what lets the indexer hand the lines to
worker processes cheaply; the line numbers and the handling of over-long lines are exactly
those of reading line by line. A file is read up to a number of lines and, compressed, up to a
decompressed size (``corpus.max_records``, ``corpus.max_decompressed_mb``): a 6 KB gzip of two
million lines, or 1 MB that unpacks to 1 GB, stops there with one reason.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from briefgen._fs import open_regular

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


class JsonlCapReached(Exception):
    """Reading stopped at a cap; the message says which, ``line`` is the first line not read."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


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


def jsonl_chunks(
    path: Path,
    cap: int,
    *,
    digest: Any = None,
    max_lines: int | None = None,
    max_unpacked: int | None = None,
) -> Iterator[JsonlChunk]:
    """Read a .jsonl or .jsonl.gz file in large blocks of whole lines, in bounded memory.

    A line longer than ``cap`` bytes is never held whole: it comes as a chunk with ``data``
    None. ``digest`` (a hashlib object), if given, is fed every byte of the file as stored.
    After ``max_lines`` lines, or once a compressed file has unpacked to more than
    ``max_unpacked`` bytes, raises :class:`JsonlCapReached` (the lines before it were yielded).
    Raises OSError, EOFError or gzip.BadGzipFile if the file cannot be read to its end.
    """
    compressed = path.name.lower().endswith(".gz")
    with open_regular(path) as raw:
        counter = _CountingReader(raw, digest)
        fh: Any = gzip.GzipFile(fileobj=counter, mode="rb") if compressed else counter
        number, tail, dropping, unpacked = 1, b"", False, 0
        while block := _read_block(fh):
            unpacked += len(block)
            if compressed and max_unpacked is not None and unpacked > max_unpacked:
                raise JsonlCapReached(
                    f"unpacks to more than {max_unpacked / 1048576:,.0f} MB "
                    "(corpus.max_decompressed_mb); the rest of the file is skipped — raise the "
                    "cap if it is a real corpus", number)
            if dropping:  # inside a line over the cap: skip to its end
                end = block.find(b"\n")
                if end < 0:
                    continue
                block, dropping = block[end + 1 :], False
            data = tail + block if tail else block
            cut = data.rfind(b"\n") + 1
            if cut:
                lines = data.count(b"\n", 0, cut)
                if max_lines is not None and number - 1 + lines > max_lines:
                    yield from _up_to(data, number, max_lines - number + 1, counter.consumed)
                    raise _too_many_lines(max_lines)
                yield JsonlChunk(number, data[:cut], counter.consumed)
                number += lines
            tail = data[cut:]
            if len(tail) > cap:
                if max_lines is not None and number > max_lines:
                    raise _too_many_lines(max_lines)
                yield JsonlChunk(number, None, counter.consumed)
                number, tail, dropping = number + 1, b"", True
        if tail and not dropping:
            if max_lines is not None and number > max_lines:
                raise _too_many_lines(max_lines)
            yield JsonlChunk(number, tail, counter.consumed)
        counter.drain()


def _up_to(data: bytes, number: int, keep: int, consumed: int) -> Iterator[JsonlChunk]:
    """Yield the first ``keep`` whole lines of ``data`` (if any) as one chunk."""
    end = 0
    for _ in range(keep):
        end = data.index(b"\n", end) + 1
    if end:
        yield JsonlChunk(number, data[:end], consumed)


def _too_many_lines(max_lines: int) -> JsonlCapReached:
    return JsonlCapReached(
        f"more than {max_lines:,} lines (corpus.max_records); the rest of the file is skipped — "
        "raise the cap if it is a real corpus", max_lines + 1)


def _read_block(fh: Any) -> bytes:
    """Read about JSONL_BLOCK_BYTES; a block at a time, so a damaged end loses little."""
    parts: list[bytes] = []
    size = 0
    while size < JSONL_BLOCK_BYTES and (part := fh.read1(JSONL_BLOCK_BYTES - size)):
        parts.append(part)
        size += len(part)
    return b"".join(parts)
