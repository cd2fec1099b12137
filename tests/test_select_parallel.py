"""Topics selected in forked processes: the same selections and errors as one after another."""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_project
from test_golden import GOLDEN, NOW

from briefgen.build import build_brief, find_brief
from briefgen.config.load import load_config
from briefgen.config.schema import LoadedConfig, Topic
from briefgen.errors import ConfigError, StoreError
from briefgen.index.backends import open_store
from briefgen.index.update import update_index
from briefgen.models import TopicSelection
from briefgen.select import parallel as select_parallel
from briefgen.select.selection import select_passages, windowed

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 3, 15)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory: pytest.TempPathFactory) -> LoadedConfig:
    """The seeds project, indexed once for the module."""
    dest = copy_project(tmp_path_factory.mktemp("parallel") / "project")
    loaded = load_config(dest / "config.yaml")
    update_index(loaded, progress=False, warn=lambda m: None)
    return loaded


@pytest.fixture(scope="module")
def topics(cfg: LoadedConfig) -> list[tuple[str, Topic]]:
    """Every configured topic, the default brief's first and with its date window."""
    _, spec = find_brief(cfg, None)
    keys = [*spec.topics, *sorted(k for k in cfg.topics if k not in spec.topics)]
    return [(key, windowed(cfg.topics[key], within_days=spec.within_days)) for key in keys]


def one_after_another(cfg: LoadedConfig, topics: list[tuple[str, Topic]]) -> list[TopicSelection]:
    with open_store(cfg) as index:
        return [select_passages(topic, index, key=key, as_of=AS_OF) for key, topic in topics]


def children() -> set[int]:
    """The pids of this process's children, zombies included."""
    me = os.getpid()
    listing = Path(f"/proc/{me}/task/{me}/children")
    if not listing.exists():
        pytest.skip("needs /proc/PID/task/TID/children")
    return {int(pid) for pid in listing.read_text().split()}


@pytest.fixture
def no_zombies() -> Any:
    """Fail if a test leaves a child process behind, running or not yet reaped."""
    before = children()
    yield
    assert children() <= before


def failing(
    monkeypatch: pytest.MonkeyPatch, fail: Callable[[str], None]
) -> None:
    """Make selection call ``fail(key)`` first, here and in the forked workers."""
    real = select_parallel.select_passages

    def select(topic: Topic, index: Any, *, key: str, **kwargs: Any) -> TopicSelection:
        fail(key)
        return real(topic, index, key=key, **kwargs)

    monkeypatch.setattr(select_parallel, "select_passages", select)


@pytest.mark.usefixtures("no_zombies")
def test_parallel_selections_equal_sequential_ones(
    cfg: LoadedConfig, topics: list[tuple[str, Topic]]
) -> None:
    expected = one_after_another(cfg, topics)
    assert len(topics) >= 4 and any(sel.passages for sel in expected)
    assert any(sp.corroborated_by for sel in expected for sp in sel.passages)
    for processes in (1, 2, 3, len(topics), len(topics) + 5):
        got = select_parallel.select_topics(cfg, topics, as_of=AS_OF, processes=processes)
        assert got == expected, f"{processes} processes"
    assert select_parallel.select_topics(cfg, [], as_of=AS_OF, processes=2) == []


def test_a_small_index_or_a_single_topic_is_selected_in_process(
    cfg: LoadedConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert select_parallel.default_processes(cfg, 4) == 1  # the seeds index is small
    monkeypatch.setattr("briefgen.index.sqlite.store.PARALLEL_MIN_INDEX_BYTES", 0)
    assert select_parallel.default_processes(cfg, 1) == 1
    assert 1 <= select_parallel.default_processes(cfg, 4) <= min(4, os.cpu_count() or 1)


@pytest.mark.usefixtures("no_zombies")
def test_the_golden_brief_with_parallel_selection(
    cfg: LoadedConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(select_parallel, "default_processes", lambda cfg, count: 2)
    result = build_brief(cfg, formats=["md"], out_dir=tmp_path, as_of=AS_OF, now=NOW)
    assert result.files[0].read_text(encoding="utf-8") == (GOLDEN / "brief.md").read_text(encoding="utf-8")


def raised(
    cfg: LoadedConfig, topics: list[tuple[str, Topic]], processes: int
) -> BaseException:
    with pytest.raises(Exception) as err:  # the caller compares what was raised
        select_parallel.select_topics(cfg, topics, as_of=AS_OF, processes=processes)
    return err.value


@pytest.mark.usefixtures("no_zombies")
@pytest.mark.parametrize(
    ("failures", "first"),
    [
        ({"trade"}, "trade"),  # the worker's topic (second of the brief)
        ({"security"}, "security"),  # this process's own
        ({"trade", "china"}, "trade"),  # the worker's comes first in the brief
        ({"security", "trade"}, "security"),  # this process's comes first
        ({"korea", "china"}, "china"),
    ],
)
def test_the_first_failing_topic_decides_the_error(
    cfg: LoadedConfig,
    topics: list[tuple[str, Topic]],
    monkeypatch: pytest.MonkeyPatch,
    failures: set[str],
    first: str,
) -> None:
    def fail(key: str) -> None:
        if key in failures:
            raise StoreError(f"index.sqlite: the index is damaged while selecting {key}")

    failing(monkeypatch, fail)
    sequential = raised(cfg, topics, 1)
    assert isinstance(sequential, StoreError) and first in str(sequential)
    for processes in (2, 3, 4):
        parallel = raised(cfg, topics, processes)
        assert type(parallel) is StoreError and str(parallel) == str(sequential)


@pytest.mark.usefixtures("no_zombies")
def test_a_config_error_in_a_worker_keeps_its_problems(
    cfg: LoadedConfig, topics: list[tuple[str, Topic]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(key: str) -> None:
        if key == "trade":
            raise ConfigError("first", ["t.yaml:1:1: terms: bad", "t.yaml:2:1: require: bad"])

    failing(monkeypatch, fail)
    err = raised(cfg, topics, 2)
    assert isinstance(err, ConfigError)
    assert err.problems == ["t.yaml:1:1: terms: bad", "t.yaml:2:1: require: bad"]


@pytest.mark.usefixtures("no_zombies")
def test_a_bug_in_a_worker_is_raised_here_with_its_traceback(
    cfg: LoadedConfig, topics: list[tuple[str, Topic]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(key: str) -> None:
        if key == "trade":
            raise KeyError(f"no such thing in {key}")

    failing(monkeypatch, fail)
    sequential = raised(cfg, topics, 1)
    parallel = raised(cfg, topics, 2)
    assert type(parallel) is KeyError and str(parallel) == str(sequential)
    assert parallel.__traceback__ is not None  # raised in this process: a real traceback


@pytest.mark.usefixtures("no_zombies")
@pytest.mark.parametrize("how", ["bug", "killed", "exit"])
def test_what_a_dead_or_buggy_worker_left_is_selected_here(
    cfg: LoadedConfig, topics: list[tuple[str, Topic]], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    parent = os.getpid()

    def fail(key: str) -> None:
        if os.getpid() == parent or key != "trade":
            return
        if how == "bug":
            raise RuntimeError("only in the worker")
        if how == "killed":
            os.kill(os.getpid(), 9)
        os._exit(0)

    expected = one_after_another(cfg, topics)
    failing(monkeypatch, fail)
    assert select_parallel.select_topics(cfg, topics, as_of=AS_OF, processes=2) == expected


@pytest.mark.usefixtures("no_zombies")
def test_ctrl_c_stops_the_workers_at_once(
    cfg: LoadedConfig, topics: list[tuple[str, Topic]], monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = os.getpid()

    def fail(key: str) -> None:
        if os.getpid() != parent:
            time.sleep(60)  # a worker that would keep us waiting
        elif key == "china":
            raise KeyboardInterrupt

    failing(monkeypatch, fail)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        select_parallel.select_topics(cfg, topics, as_of=AS_OF, processes=2)
    assert time.monotonic() - started < 30  # killed, not waited for


def test_no_index_is_the_same_error(tmp_path: Path, cfg: LoadedConfig) -> None:
    missing = LoadedConfig(
        config=cfg.config.model_copy(
            update={"index": cfg.config.index.model_copy(update={"path": str(tmp_path / "none.sqlite")})}
        ),
        path=cfg.path, root=cfg.root, topics=cfg.topics,
    )
    topics = [(key, cfg.topics[key]) for key in sorted(cfg.topics)]
    with pytest.raises(StoreError, match="no index yet; run `briefgen index` first"):
        select_parallel.select_topics(missing, topics, processes=2)
