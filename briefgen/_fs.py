"""Files: atomic output (a reader sees the complete new file or the previous one, never a part),
content hashes, exclusive locks that die with their process, opening only regular files, and
the check that a path briefgen writes or deletes lies inside its folder."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO


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


@contextmanager
def exclusive_lock(path: Path, *, wait_s: float = 0.0) -> Iterator[str | None]:
    """Hold an exclusive flock on ``path``; yield None if held, else who holds it.

    ``wait_s``: how long to wait for another holder to let go (polled, so the wait is bounded
    however the other process behaves); 0 gives up at once. The kernel drops a flock when its
    process dies, so a killed run never leaves it stuck. A lock file that is a symbolic link
    is refused (OSError): its target, anywhere, would be overwritten.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Never through a link: the holder line is written into the file (OSError for a link).
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    try:
        if not _flock_within(fd, wait_s):
            yield _lock_holder(fd)
            return
        started = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        # Write, then cut to length: a process that finds the lock held never reads an empty
        # file (truncating first left a moment in which it did, and it named no holder).
        line = f"pid {os.getpid()} since {started}\n".encode()
        os.pwrite(fd, line, 0)
        os.ftruncate(fd, len(line))
        try:
            yield None
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _flock_within(fd: int, wait_s: float) -> bool:
    """Take the flock on ``fd``, trying until ``wait_s`` seconds have passed; say if it was taken."""
    deadline = time.monotonic() + max(0.0, wait_s)
    pause = 0.02
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.5)


def _lock_holder(fd: int) -> str:
    """Return the "pid N since T" line of the lock's holder (it writes it just after locking)."""
    for _ in range(50):  # a new lock file is empty for the instant between flock and pwrite
        lines = os.pread(fd, 200, 0).decode("utf-8", "replace").splitlines()
        if lines and lines[0].strip():
            return lines[0].strip()
        time.sleep(0.01)
    return "another process"


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a regular file's bytes (OSError for anything else)."""
    digest = hashlib.sha256()
    with open_regular(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_regular(path: Path | str) -> BinaryIO:
    """Open a regular file for reading; raise OSError for a FIFO, device, socket or folder.

    Opened non-blocking, so a FIFO put where a file was listed cannot hang the reader, and
    checked on the open descriptor, so nothing can be swapped in between check and read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"not a regular file ({file_kind(mode)})", os.fspath(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def file_kind(mode: int) -> str:
    """Name the kind of file a ``st_mode`` describes, for messages."""
    kinds = (
        (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a file"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def is_inside(path: Path, folder: Path) -> bool:
    """Say whether ``path``, resolved (symlinks and ``..`` followed), lies in ``folder`` resolved."""
    real, top = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return real == top or top in real.parents
