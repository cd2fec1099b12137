"""Atomic file output: a reader sees the complete new file or the previous one, never a part."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "wb") -> Iterator[IO[bytes]]:
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    if mode not in ("wb", "w"):
        raise ValueError("atomic_open supports 'wb' and 'w' only")
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8", "newline": ""} if mode == "w" else {})) as fh:
            yield fh  # type: ignore[misc]
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_files_atomic(files: dict[Path, bytes]) -> None:
    """Write several files so that a crash leaves all of them as they were, or (but for the
    instant of the renames) all of them new: every temporary file is written and fsynced
    before the first rename. On an error nothing is replaced and no temporary file is left.
    """
    temps: list[tuple[Path, Path]] = []
    try:
        for path, data in files.items():
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps.append((Path(tmp_name), path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp_name, 0o644)
    except BaseException:
        for tmp, _ in temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        raise
    for tmp, path in temps:
        os.replace(tmp, path)
    for folder in {path.parent for path in files}:
        _fsync_dir(folder)


def remove_stale_temps(folder: Path, names: list[str], *, older_than_s: float) -> None:
    """Delete temporary files of ``names`` left in ``folder`` by a killed writer.

    Only old ones: a younger one may belong to a writer that is running now.
    """
    import time

    cutoff = time.time() - older_than_s
    for name in names:
        for tmp in folder.glob(f".{name}.*.tmp"):
            with contextlib.suppress(OSError):
                if tmp.is_file() and tmp.stat().st_mtime < cutoff:
                    tmp.unlink()


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable: fsync the folder that holds it (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
