"""Run rendering in a forked child process with a time limit and a memory limit.

Jinja2's sandbox stops a user's template from reaching Python internals, but not from
looping forever or building a 50 GB string, and WeasyPrint can be driven into the same
corners by pathological CSS. So the whole render (templates, Markdown, WeasyPrint) runs in
a child forked from this process: ``RLIMIT_AS`` caps its memory, and it is killed when it
runs past the time limit. Either way the caller gets a ``RenderError`` naming the brief and
the template or stylesheet that was running, and nothing has been written yet.

Limits, from the environment (checked on every call):

- ``BRIEFGEN_RENDER_TIMEOUT_S``: wall-clock seconds a brief may take to render (default 120;
  0 = no limit).
- ``BRIEFGEN_RENDER_MEMORY_MB``: address space of the render process in MB (default 2048;
  0 = no limit).

Forking costs a few milliseconds and the child shares the parent's imported modules, so a
normal build costs about what it did in-process.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import select
import signal
import struct
import sys
import time
import traceback
from collections.abc import Callable
from typing import TypeVar

from briefgen.errors import BriefgenError, ConfigError, RenderError

TIMEOUT_ENV = "BRIEFGEN_RENDER_TIMEOUT_S"
MEMORY_ENV = "BRIEFGEN_RENDER_MEMORY_MB"
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MEMORY_MB = 2048

T = TypeVar("T")

_STAGE, _RESULT, _ERROR, _BUG = b"S", b"R", b"E", b"B"
_HEADER = struct.Struct("!cQ")
# Set in the child only: where stage() reports what is running, and what that was last.
_channel: int | None = None
_stage_label = ""


def limits() -> tuple[float, int]:
    """Return (timeout in seconds, memory in MB) from the environment; 0 means no limit."""
    return (
        _env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT_S),
        int(_env_number(MEMORY_ENV, DEFAULT_MEMORY_MB)),
    )


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise ConfigError(f"environment variable {name}={text!r}: must be a number ≥ 0 (0 = no limit)")
    return value


def stage(label: str) -> None:
    """Say what the render is doing now (e.g. "template x/brief.md.j2"), for limit messages."""
    global _stage_label
    if _channel is not None:
        _stage_label = label
        _send(_channel, _STAGE, label.encode("utf-8", "replace"))


def run_limited(func: Callable[[], T], *, brief: str, what: str = "rendering") -> T:
    """Return ``func()`` run in a child process under the render time and memory limits.

    ``func``'s BriefgenError is raised here as is; running out of time or memory becomes a
    RenderError naming the stage that was running. Without ``os.fork`` it runs in-process.
    """
    timeout, memory_mb = limits()
    if not hasattr(os, "fork"):
        return func()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(func, write_fd, timeout, memory_mb, brief, what)
    os.close(write_fd)
    try:
        kind, payload, label = _collect(read_fd, pid, timeout)
    except BaseException:  # e.g. Ctrl-C while waiting: the child must not outlive us
        _kill_and_reap(pid)
        raise
    finally:
        os.close(read_fd)
    place = label or what
    if kind == _RESULT:
        return pickle.loads(payload)  # type: ignore[no-any-return]
    if kind == _ERROR:
        exc = pickle.loads(payload)
        raise exc
    if kind == _BUG:
        raise RuntimeError(f"brief {brief}: {place} failed:\n{payload.decode('utf-8', 'replace')}")
    if kind == b"timeout":
        raise RenderError(
            f"brief {brief}: {place}: did not finish within {timeout:g} s (render time limit); "
            f"stopped it. Fix the template or raise {TIMEOUT_ENV}"
        )
    status = payload.decode()
    raise RenderError(
        f"brief {brief}: {place}: the render process died ({status}), most likely at the "
        f"{_memory_text(memory_mb)}; fix the template or raise {MEMORY_ENV}"
    )


def _memory_text(memory_mb: int) -> str:
    return f"render memory limit of {memory_mb} MB" if memory_mb else "machine's memory limit"


def _child(
    func: Callable[[], object], fd: int, timeout: float, memory_mb: int, brief: str, what: str
) -> None:
    """Run ``func`` with the memory cap, send its outcome through ``fd`` and exit."""
    global _channel
    code = 0
    try:
        # Our own SIGTERM/SIGINT handlers (e.g. the foreground scheduler's) belong to the parent.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # Out of memory, every object freed while unwinding would print "Exception ignored".
        sys.unraisablehook = lambda _unraisable: None
        _channel = fd
        if memory_mb:
            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if timeout:
            # A backstop if the parent is killed and cannot enforce the wall clock: CPU time
            # never exceeds wall time, so this never fires before the parent's own limit.
            cpu = int(timeout) + 10
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        try:
            result = func()
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            _send(fd, _RESULT, payload)
        except BriefgenError as exc:
            if _caused_by_memory(exc):
                raise MemoryError from exc
            _send(fd, _ERROR, _pickled_error(exc))
        except MemoryError:
            raise
        except Exception:  # noqa: BLE001 - a bug: the parent shows the traceback
            _send(fd, _BUG, traceback.format_exc().encode("utf-8", "replace"))
    except MemoryError:
        code = 3
        message = (
            f"brief {brief}: {_stage_label or what}: exceeded the {_memory_text(memory_mb)}; "
            f"stopped it. Fix the template or raise {MEMORY_ENV}"
        )
        # If even this fails, the parent reports the child's silent death instead.
        with contextlib.suppress(BaseException):
            _send(fd, _ERROR, _pickled_error(RenderError(message)))
    except BaseException:  # noqa: BLE001 - never let the child run the parent's code
        code = 4
    finally:
        os._exit(code)


def _pickled_error(exc: BriefgenError) -> bytes:
    """Pickle an error so it is raised again, same class and message, in the parent."""
    clean = type(exc)(str(exc))
    if isinstance(exc, ConfigError):
        clean = ConfigError(str(exc), list(exc.problems))
    return pickle.dumps(clean)


def _caused_by_memory(exc: BaseException) -> bool:
    seen = 0
    cause: BaseException | None = exc
    while cause is not None and seen < 20:
        if isinstance(cause, MemoryError):
            return True
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return False


def _kill_and_reap(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _send(fd: int, kind: bytes, payload: bytes) -> None:
    data = _HEADER.pack(kind, len(payload)) + payload
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _collect(fd: int, pid: int, timeout: float) -> tuple[bytes, bytes, str]:
    """Read the child's frames until its outcome, EOF or the deadline; reap it.

    Returns (kind, payload, last stage label); kind is a frame kind, b"timeout" or b"died".
    """
    deadline = time.monotonic() + timeout if timeout else None
    buffer = bytearray()
    label = ""
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
            if kind == _STAGE:
                label = payload.decode("utf-8", "replace")
            else:
                outcome = (kind, payload)
                break
    _, status = os.waitpid(pid, 0)
    if killed:
        return b"timeout", b"", label
    if outcome is not None:
        return outcome[0], outcome[1], label
    if os.WIFSIGNALED(status):
        how = f"killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
    else:
        how = f"exit status {os.WEXITSTATUS(status)}"
    return b"died", how.encode(), label
