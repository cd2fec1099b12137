"""Select a brief's topics in parallel: some in forked processes, the rest in this one.

The topics of a brief are independent — each is one FTS5 query ranking every match by BM25,
then Python scoring of up to 1,000 candidates — and on a large corpus they are most of a
build (~1 s for four topics over 100,000 articles, on one core). So :func:`select_topics`
forks a worker per extra core (at most one per topic): with ``n`` processes, process ``p``
selects topics ``p, p + n, p + 2n, …`` of the brief, this process the first share. Every
process opens its own index connection (an SQLite connection must never cross a fork: the
workers are forked before this process opens its own), and a worker sends back its
TopicSelections pickled (plain frozen dataclasses). On 2 cores this takes the default brief
over 106,000 articles from ~1.2 s to ~0.65 s of a build. A small index is selected
in-process: there a fork costs more than it saves.

The outcome is exactly that of selecting the topics one after another in this process, in
brief order, errors included:

- the first topic, in brief order, that fails decides the error;
- a worker's ``BriefgenError`` is raised here with the same class and message (and a
  ``ConfigError``'s problems);
- anything else that goes wrong in a worker (a bug, a crash, a killed process) leaves its
  remaining topics to this process, which selects them itself: the same bug then raises
  here, with its real traceback.

Workers ignore Ctrl-C (this process kills them) and are always reaped: no zombies.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from briefgen._proc import close_kill_and_reap, fork_child, portable_error, read_all_and_reap
from briefgen.errors import BriefgenError
from briefgen.index.backends import backend_for, open_store
from briefgen.select.selection import select_passages

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig, Topic
    from briefgen.index.base import Store
    from briefgen.models import TopicSelection

#: Below this index size (bytes) the topics are selected in this process: a worker costs a
#: fork, an index connection and cold caches (~10 ms), more than it saves on a small corpus.

#: What a worker reports for each of its topics, in order, until the first failure:
#: (topic position in the brief, TopicSelection | BriefgenError).
_Outcome = tuple[int, Any]


def select_topics(
    cfg: LoadedConfig,
    topics: Sequence[tuple[str, Topic]],
    *,
    as_of: dt.date | None = None,
    processes: int | None = None,
) -> list[TopicSelection]:
    """Select each (key, topic) as ``select_passages`` does; return the selections in order.

    ``processes``: how many processes select, this one included (default: one per core the
    process may run on, at most one per topic; one for a small index or without ``os.fork``).
    """
    if processes is None:
        processes = default_processes(cfg, len(topics))
    processes = max(1, min(processes, len(topics)))
    workers: list[tuple[int, int]] = []  # (pid, read end of its result pipe)
    try:
        # Forked before this process opens the index: no connection is inherited.
        for share in range(1, processes):
            workers.append(_fork_worker(cfg, topics, share, processes, as_of))
        with open_store(cfg) as index:
            outcomes = dict(_select_share(index, topics, 0, processes, as_of))
            while workers:
                pid, fd = workers.pop(0)
                outcomes.update(_collect(pid, fd))  # reaps it, also on the way out of an error
            return _in_order(index, topics, outcomes, as_of)
    finally:
        for pid, fd in workers:  # only on the way out of an error (e.g. Ctrl-C)
            close_kill_and_reap(pid, fd)


def default_processes(cfg: LoadedConfig, topic_count: int) -> int:
    """Return how many processes should select ``topic_count`` topics from the index."""
    if topic_count < 2 or not hasattr(os, "fork"):
        return 1
    if not backend_for(cfg).parallel_selection(cfg):
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, topic_count))


def _select_share(
    index: Store,
    topics: Sequence[tuple[str, Topic]],
    share: int,
    processes: int,
    as_of: dt.date | None,
) -> list[_Outcome]:
    """Select topics ``share, share + processes, …`` in order, up to the first that fails."""
    outcomes: list[_Outcome] = []
    for position in range(share, len(topics), processes):
        key, topic = topics[position]
        try:
            outcomes.append((position, select_passages(topic, index, key=key, as_of=as_of)))
        except Exception as exc:  # noqa: BLE001 - kept, raised in brief order by _in_order
            outcomes.append((position, exc))
            break
    return outcomes


def _in_order(
    index: Store,
    topics: Sequence[tuple[str, Topic]],
    outcomes: dict[int, Any],
    as_of: dt.date | None,
) -> list[TopicSelection]:
    """Return the selections in brief order; raise the first failure, as a sequential run would.

    A topic with no outcome (its worker died or hit a bug) is selected here and now.
    """
    selections = []
    for position, (key, topic) in enumerate(topics):
        outcome = outcomes.get(position)
        if outcome is None:
            outcome = select_passages(topic, index, key=key, as_of=as_of)
        elif isinstance(outcome, BaseException):
            raise outcome
        selections.append(outcome)
    return selections


def _fork_worker(
    cfg: LoadedConfig,
    topics: Sequence[tuple[str, Topic]],
    share: int,
    processes: int,
    as_of: dt.date | None,
) -> tuple[int, int]:
    """Fork a process that selects one share of the topics; return (pid, result pipe)."""
    return fork_child(lambda fd: _worker(cfg, topics, share, processes, as_of, fd))


def _worker(
    cfg: LoadedConfig,
    topics: Sequence[tuple[str, Topic]],
    share: int,
    processes: int,
    as_of: dt.date | None,
    fd: int,
) -> None:
    """Select a share of the topics and write the pickled outcomes to ``fd`` (in the child)."""
    # Ctrl-C reaches the whole process group: the parent decides (and kills us). A child that
    # fails sends nothing (or part): the parent selects the missing topics itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with open_store(cfg) as index:
        outcomes = _select_share(index, topics, share, processes, as_of)
    sendable: list[_Outcome] = []
    for position, outcome in outcomes:
        if isinstance(outcome, BriefgenError):
            outcome = portable_error(outcome)
        elif isinstance(outcome, BaseException):
            break  # a bug: the parent selects this topic itself and shows the traceback
        sendable.append((position, outcome))
    view = memoryview(pickle.dumps(sendable, protocol=pickle.HIGHEST_PROTOCOL))
    while view:
        view = view[os.write(fd, view) :]


def _collect(pid: int, fd: int) -> list[_Outcome]:
    """Read a worker's outcomes until it closes the pipe, then reap it."""
    data = read_all_and_reap(pid, fd)
    try:
        outcomes = pickle.loads(data)
    except Exception:  # noqa: BLE001 - cut short (the worker died): select its topics here
        return []
    return outcomes if isinstance(outcomes, list) else []
