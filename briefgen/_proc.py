"""Child processes: fork one, talk to it in frames over a pipe, collect what it sends, reap it.

A frame is a one-byte kind and a length-prefixed payload (pickled results, pickled errors,
progress labels). The render guard (``briefgen.outputs.guard``: time and memory limits) and
parallel topic selection (``briefgen.select.parallel``) both use these; a child never returns
into its parent's code: it always ends with ``os._exit``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import time
from collections.abc import Callable

from briefgen.errors import BriefgenError, ConfigError

_HEADER = struct.Struct("!cQ")
#: Frame kinds every child may send: a progress label, a result, a user's error, a bug.
STAGE, RESULT, ERROR, BUG = b"S", b"R", b"E", b"B"
TAKEN = b"T"  # a worker's word that it started on its job


def read_frame(fd: int) -> tuple[bytes, bytes] | None:
    """Read one frame (blocking); None at end of file."""
    data = bytearray()
    need = _HEADER.size
    kind = b""
    while True:
        while len(data) < need:
            chunk = os.read(fd, max(need - len(data), 1 << 16))
            if not chunk:
                return None
            data += chunk
        if kind:
            return kind, bytes(data[_HEADER.size : need])
        kind, size = _HEADER.unpack_from(data)
        need = _HEADER.size + size


def send_frame_by(fd: int, kind: bytes, payload: bytes, deadline: float | None) -> bool:
    """Write one frame before the deadline; False if the reader did not take it in time."""
    os.set_blocking(fd, False)
    view = memoryview(_HEADER.pack(kind, len(payload)) + payload)
    while view:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        _, ready, _ = select.select([], [fd], [], wait)
        if not ready:
            return False
        with contextlib.suppress(BlockingIOError):
            view = view[os.write(fd, view) :]
    return True


def pickled_error(exc: BriefgenError) -> bytes:
    """Pickle an error so it is raised again, same class and message, in the parent."""
    return pickle.dumps(portable_error(exc))


def kill_and_reap(pid: int) -> None:
    """Kill a child (if it still runs) and wait for it."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def send_frame(fd: int, kind: bytes, payload: bytes) -> None:
    """Write one frame (blocking)."""
    data = _HEADER.pack(kind, len(payload)) + payload
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def collect_frames(
    fd: int, pid: int, deadline: float | None, *, handshake: bool = False
) -> tuple[bytes, bytes, str]:
    """Read the child's frames until its outcome, EOF or the deadline; reap it.

    Returns (kind, payload, last stage label); kind is a frame kind, b"timeout" or b"died"
    (b"lost" with ``handshake``: a worker that died before saying it started on its job).
    """
    buffer = bytearray()
    label = ""
    taken = False
    outcome: tuple[bytes, bytes] | None = None
    killed = False
    while outcome is None:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            os.kill(pid, signal.SIGKILL)
            killed = True
            break
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        buffer += chunk
        while len(buffer) >= _HEADER.size:
            kind, size = _HEADER.unpack_from(buffer)
            if len(buffer) < _HEADER.size + size:
                break
            payload = bytes(buffer[_HEADER.size : _HEADER.size + size])
            del buffer[: _HEADER.size + size]
            if kind == STAGE:
                label = payload.decode("utf-8", "replace")
            elif kind == TAKEN:
                taken = True
            else:
                outcome = (kind, payload)
                break
    _, status = os.waitpid(pid, 0)
    if killed:
        return b"timeout", b"", label
    if outcome is not None:
        return outcome[0], outcome[1], label
    if handshake and not taken:
        return b"lost", b"", label
    if os.WIFSIGNALED(status):
        how = f"killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    else:
        how = f"exit status {os.WEXITSTATUS(status)}"
    return b"died", how.encode(), label


def portable_error(exc: BriefgenError) -> BriefgenError:
    """Return an error that unpickles as the same class and message (no traceback, no cause)."""
    if isinstance(exc, ConfigError):
        return ConfigError(str(exc), list(exc.problems))
    return type(exc)(str(exc))


def fork_child(run: Callable[[int], object]) -> tuple[int, int]:
    """Fork a child that runs ``run(write_fd)`` and exits; return (pid, read end of its pipe).

    The child exits 0 if ``run`` returns, 1 if it raises: it never returns into the caller.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read_fd)
            run(write_fd)
        except BaseException:  # noqa: BLE001 - never let the child run the parent's code
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def read_all_and_reap(pid: int, fd: int) -> bytes:
    """Read everything a child writes until it closes its pipe, then reap it."""
    chunks = []
    try:
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    except BaseException:  # e.g. Ctrl-C while waiting: the child must not outlive us
        close_kill_and_reap(pid, fd)
        raise
    os.close(fd)
    os.waitpid(pid, 0)
    return b"".join(chunks)


def close_kill_and_reap(pid: int, fd: int) -> None:
    """Close a child's pipe, kill the child and wait for it."""
    with contextlib.suppress(OSError):
        os.close(fd)
    kill_and_reap(pid)
