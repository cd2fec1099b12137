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
- ``BRIEFGEN_RENDER_MEMORY_MB``: address space the render may add to what the process maps
  when it starts, in MB (default 2048; 0 = no limit).

Forking costs a few milliseconds and the child shares the parent's imported modules, so a
normal build costs about what it did in-process. :func:`start_worker` forks the render process
ahead of time instead, so that it imports the render stack (WeasyPrint alone takes ~0.5 s) on
the other core while this process loads config and selects passages; its one job then runs
under the same limits, counted from the moment the job is handed over.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from briefgen._proc import (
    BUG,
    ERROR,
    RESULT,
    STAGE,
    TAKEN,
    collect_frames,
    kill_and_reap,
    pickled_error,
    read_frame,
    send_frame,
    send_frame_by,
)
from briefgen.errors import BriefgenError, ConfigError, RenderError

TIMEOUT_ENV = "BRIEFGEN_RENDER_TIMEOUT_S"
MEMORY_ENV = "BRIEFGEN_RENDER_MEMORY_MB"
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_MEMORY_MB = 2048

T = TypeVar("T")

_JOB = b"J"  # a worker's job
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


def render_deadline() -> float | None:
    """Return when a render starting now must end (``time.monotonic()``), or None: no limit."""
    timeout, _ = limits()
    return time.monotonic() + timeout if timeout else None


def stage(label: str) -> None:
    """Say what the render is doing now (e.g. "template x/brief.md.j2"), for limit messages."""
    global _stage_label
    if _channel is not None:
        _stage_label = label
        send_frame(_channel, STAGE, label.encode("utf-8", "replace"))


def run_limited(
    func: Callable[[], T],
    *,
    brief: str,
    what: str = "rendering",
    deadline: float | None = None,
    warm_up: Callable[[], object] | None = None,
) -> T:
    """Return ``func()`` run in a child process under the render time and memory limits.

    ``func``'s BriefgenError is raised here as is; running out of time or memory becomes a
    RenderError naming the stage that was running. Without ``os.fork`` it runs in-process.
    ``deadline`` (from :func:`render_deadline`) shares one time limit between several calls.
    ``warm_up`` (imports) runs in the child before the memory cap, as in a pre-started worker:
    the cap is for what a brief's templates and stylesheet make, not for loading WeasyPrint.
    """
    timeout, memory_mb = limits()
    if not hasattr(os, "fork"):
        return func()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(func, write_fd, timeout, memory_mb, brief, what, warm_up)
    os.close(write_fd)
    try:
        if deadline is None and timeout:
            deadline = time.monotonic() + timeout
        kind, payload, label = collect_frames(read_fd, pid, deadline if timeout else None)
    except BaseException:  # e.g. Ctrl-C while waiting: the child must not outlive us
        kill_and_reap(pid)
        raise
    finally:
        os.close(read_fd)
    return _outcome(kind, payload, label or what, brief, timeout, memory_mb)  # type: ignore[no-any-return]


class RenderWorker:
    """A render process forked ahead of its job (see :func:`start_worker`); runs one job.

    Use it as a context manager: leaving the block kills the process if its job never came
    (e.g. the config was invalid), so it never outlives the command. ``RenderWorker()`` has
    no process: its job runs in a fresh fork, as with :func:`run_limited`.
    """

    def __init__(
        self,
        pid: int | None = None,
        job_fd: int | None = None,
        result_fd: int | None = None,
        warm_up: Callable[[], object] | None = None,
    ) -> None:
        self._warm_up = warm_up  # for a fresh fork that stands in for this process
        self._pid = pid
        self._job_fd = job_fd
        self._result_fd = result_fd

    def run_limited(
        self,
        func: Callable[[], T],
        *,
        brief: str,
        what: str = "rendering",
        deadline: float | None = None,
    ) -> T:
        """Like :func:`run_limited`, in the waiting process; ``func`` must be picklable.

        A worker that is spent, or that died before its job, falls back to a fresh fork.
        """
        timeout, memory_mb = limits()
        if self._pid is None:
            return run_limited(
                func, brief=brief, what=what, deadline=deadline, warm_up=self._warm_up
            )
        job = pickle.dumps(
            (timeout, memory_mb, brief, what, pickle.dumps(func, pickle.HIGHEST_PROTOCOL)),
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        pid, job_fd, result_fd = self._pid, self._job_fd, self._result_fd
        self._pid = self._job_fd = self._result_fd = None
        assert job_fd is not None and result_fd is not None
        # The time limit runs from here at the latest: the worker may still be importing, as a
        # freshly forked render process would be, inside its limits.
        if not timeout:
            deadline = None
        elif deadline is None:
            deadline = time.monotonic() + timeout
        try:
            kind, payload, label = _hand_over(pid, job_fd, result_fd, job, deadline)
        except BaseException:  # e.g. Ctrl-C while waiting: the child must not outlive us
            kill_and_reap(pid)
            raise
        finally:
            os.close(result_fd)
        if kind == b"lost":  # it died before starting on its job: not the job's doing
            return run_limited(
                func, brief=brief, what=what, deadline=deadline, warm_up=self._warm_up
            )
        return _outcome(kind, payload, label or what, brief, timeout, memory_mb)  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the process if its job never came."""
        if self._pid is not None:
            kill_and_reap(self._pid)
        for fd in (self._job_fd, self._result_fd):
            if fd is not None:
                os.close(fd)
        self._pid = self._job_fd = self._result_fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _hand_over(
    pid: int, job_fd: int, result_fd: int, job: bytes, deadline: float | None
) -> tuple[bytes, bytes, str]:
    """Send a worker its job and collect the outcome, as :func:`_collect` (or b"lost")."""
    try:
        handed_over = send_frame_by(job_fd, _JOB, job, deadline)
    except BrokenPipeError:
        kill_and_reap(pid)
        return b"lost", b"", ""
    finally:
        os.close(job_fd)
    if not handed_over:  # still busy before its job (importing) when the time ran out
        kill_and_reap(pid)
        return b"timeout", b"", ""
    return collect_frames(result_fd, pid, deadline, handshake=True)


def start_worker(warm_up: Callable[[], object]) -> RenderWorker:
    """Fork the render process now; it runs ``warm_up`` (imports) and then waits for its job.

    ``warm_up`` is best effort: if it fails, the same failure happens again inside the job
    and is reported from there. Without ``os.fork`` the job will run in-process.
    """
    if not hasattr(os, "fork"):
        return RenderWorker()
    job_read, job_write = os.pipe()
    result_read, result_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(job_write)
        os.close(result_read)
        _worker(warm_up, job_read, result_write)
    os.close(job_read)
    os.close(result_write)
    return RenderWorker(pid, job_write, result_read, warm_up)


def _worker(warm_up: Callable[[], object], job_fd: int, result_fd: int) -> None:
    """Warm up, wait for the job (exit quietly if none comes), then run it as :func:`_child`."""
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with contextlib.suppress(Exception):
            warm_up()
        frame = read_frame(job_fd)
        if frame is None or frame[0] != _JOB:  # the parent closed the pipe or died
            os._exit(0)
        timeout, memory_mb, brief, what, func_bytes = pickle.loads(frame[1])
        os.close(job_fd)
        send_frame(result_fd, TAKEN, b"")
    except BaseException:  # noqa: BLE001 - never let the child run the parent's code
        os._exit(4)
    # Unpickling the job may import modules: that runs under the limits too.
    _child(lambda: pickle.loads(func_bytes)(), result_fd, timeout, memory_mb, brief, what)


def _outcome(
    kind: bytes, payload: bytes, place: str, brief: str, timeout: float, memory_mb: int
) -> Any:
    """Return the child's result, or raise what it raised or what stopped it."""
    if kind == RESULT:
        return pickle.loads(payload)
    if kind == ERROR:
        exc = pickle.loads(payload)
        raise exc
    if kind == BUG:
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


def mapped_bytes() -> int:
    """Return the address space this process maps now (0 where /proc is not available)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _memory_text(memory_mb: int) -> str:
    return f"render memory limit of {memory_mb} MB" if memory_mb else "machine's memory limit"


def _child(
    func: Callable[[], object],
    fd: int,
    timeout: float,
    memory_mb: int,
    brief: str,
    what: str,
    warm_up: Callable[[], object] | None = None,
) -> None:
    """Run ``func`` with the memory cap, send its outcome through ``fd`` and exit."""
    global _channel
    code = 0
    if warm_up is not None:
        with contextlib.suppress(Exception):  # best effort: a real failure recurs in ``func``
            warm_up()
    try:
        # Our own SIGTERM/SIGINT handlers (e.g. the foreground scheduler's) belong to the parent.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # Out of memory, every object freed while unwinding would print "Exception ignored".
        sys.unraisablehook = lambda _unraisable: None
        _channel = fd
        if memory_mb:
            # On top of what the process maps already: a parent that loaded the embedding
            # model (numpy, a tokenizer thread pool) must not leave the render less room.
            limit = mapped_bytes() + memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if timeout:
            # A backstop if the parent is killed and cannot enforce the wall clock: CPU time
            # never exceeds wall time, so this never fires before the parent's own limit.
            # (A worker has used some CPU on its imports already: the limit counts from now.)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu = int(usage.ru_utime + usage.ru_stime + timeout) + 10
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        try:
            result = func()
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            send_frame(fd, RESULT, payload)
        except BriefgenError as exc:
            if _caused_by_memory(exc):
                raise MemoryError from exc
            send_frame(fd, ERROR, pickled_error(exc))
        except MemoryError:
            raise
        except Exception:  # noqa: BLE001 - a bug: the parent shows the traceback
            send_frame(fd, BUG, traceback.format_exc().encode("utf-8", "replace"))
    except MemoryError:
        code = 3
        message = (
            f"brief {brief}: {_stage_label or what}: exceeded the {_memory_text(memory_mb)}; "
            f"stopped it. Fix the template or raise {MEMORY_ENV}"
        )
        # If even this fails, the parent reports the child's silent death instead.
        with contextlib.suppress(BaseException):
            send_frame(fd, ERROR, pickled_error(RenderError(message)))
    except BaseException:  # noqa: BLE001 - never let the child run the parent's code
        code = 4
    finally:
        os._exit(code)


def _caused_by_memory(exc: BaseException) -> bool:
    seen = 0
    cause: BaseException | None = exc
    while cause is not None and seen < 20:
        if isinstance(cause, MemoryError):
            return True
        cause = cause.__cause__ or cause.__context__
        seen += 1
    return False


