"""Atomic file output: a reader sees the complete new file or the previous one, never a part."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    write_files_atomic({Path(path): data})


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
        fsync_dir(folder)


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


def fsync_dir(directory: Path) -> None:
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
