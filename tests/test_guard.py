"""Render limits (briefgen/outputs/guard.py): hostile templates and stylesheets are stopped, reported
by name, and leave previous outputs and the other briefs of a scheduled run alone.

The limits are set low here to provoke them; every hostile case is unbounded (an endless
loop, an impossible allocation), so it exceeds any limit whatever the machine's speed.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from briefgen.build import build_brief
from briefgen.config.load import load_config
from briefgen.config.schema import LoadedConfig
from briefgen.errors import ConfigError, CorpusError, RenderError
from briefgen.index.update import update_index
from briefgen.outputs import guard
from briefgen.schedule.run_due import run_due

AS_OF = dt.date(2026, 3, 15)
ENDLESS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n"
HOSTILE_TEMPLATES = {
    "endless loop": ENDLESS,
    "huge string": '{% set s = "x" * 100000000000 %}{{ s }}\n',
    "string doubling": (
        '{% set ns = namespace(s="x") %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}'
        "{% endfor %}{{ ns.s | length }}\n"
    ),
    "endless output": "{% for i in range(100000) %}{% for j in range(100000) %}"
    + "x" * 200
    + "{% endfor %}{% endfor %}\n",
    "recursion": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}\n",
    "__class__": "{{ brief.__class__.__init__.__globals__ }}\n",
    "__subclasses__": "{{ ().__class__.__base__.__subclasses__() }}\n",
}
# Each paragraph laid out in 10^8 columns: WeasyPrint never finishes.
ENDLESS_CSS = "p { column-count: 100000000 }\n"


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Low limits, so hostile cases stop quickly (normal md/json renders take milliseconds)."""
    monkeypatch.setenv(guard.TIMEOUT_ENV, "3")
    monkeypatch.setenv(guard.MEMORY_ENV, "600")


@pytest.fixture(scope="module")
def indexed_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, indexed once, with a brief `own` that uses the template folder `own/`."""
    from conftest import ROOT

    root = tmp_path_factory.mktemp("guard") / "project"
    root.mkdir()
    for name in ("seeds", "topics", "templates"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copytree(ROOT / "templates", root / "own")
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    daily = data["briefs"]["japan-daily"]
    data["briefs"]["own"] = {**daily, "title": "Own", "template_dir": "own", "output": "own"}
    (root / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    update_index(load_config(root / "config.yaml"), progress=False)
    return root


@pytest.fixture
def project_with_own(indexed_project: Path) -> tuple[LoadedConfig, Path]:
    """The indexed project with fresh copies of the shipped templates in `own/`."""
    own = indexed_project / "own"
    shutil.rmtree(own)
    shutil.copytree(indexed_project / "templates", own)
    return load_config(indexed_project / "config.yaml"), own


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.usefixtures("limits")
@pytest.mark.parametrize("case", list(HOSTILE_TEMPLATES))
def test_hostile_template_fails_with_the_template_named(
    project_with_own: tuple[LoadedConfig, Path], tmp_path: Path, case: str
) -> None:
    cfg, own = project_with_own
    out = tmp_path / "out"
    build_brief(cfg, "own", formats=["md", "json"], out_dir=out, as_of=AS_OF)
    before = snapshot(out)
    (own / "brief.md.j2").write_text(HOSTILE_TEMPLATES[case], encoding="utf-8")
    with pytest.raises(RenderError) as err:
        build_brief(cfg, "own", formats=["md", "json"], out_dir=out, as_of=AS_OF)
    message = str(err.value)
    assert message.startswith("brief own: "), message
    assert str(own / "brief.md.j2") in message, message
    assert "\n" not in message
    assert snapshot(out) == before


@pytest.mark.usefixtures("limits")
def test_limit_messages_say_which_limit_and_how_to_raise_it(
    project_with_own: tuple[LoadedConfig, Path], tmp_path: Path
) -> None:
    cfg, own = project_with_own
    template = own / "brief.md.j2"
    template.write_text(ENDLESS, encoding="utf-8")
    with pytest.raises(RenderError) as err:
        build_brief(cfg, "own", formats=["md"], out_dir=tmp_path, as_of=AS_OF)
    assert str(err.value) == (
        f"brief own: template {template}: did not finish within 3 s (render time limit); "
        "stopped it. Fix the template or raise BRIEFGEN_RENDER_TIMEOUT_S"
    )
    template.write_text(HOSTILE_TEMPLATES["huge string"], encoding="utf-8")
    with pytest.raises(RenderError) as err:
        build_brief(cfg, "own", formats=["md"], out_dir=tmp_path, as_of=AS_OF)
    assert str(err.value) == (
        f"brief own: template {template}: exceeded the render memory limit of 600 MB; "
        "stopped it. Fix the template or raise BRIEFGEN_RENDER_MEMORY_MB"
    )


@pytest.mark.usefixtures("limits")
def test_endless_css_is_stopped_and_previous_pdf_kept(
    project_with_own: tuple[LoadedConfig, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, own = project_with_own
    out = tmp_path / "out"
    monkeypatch.setenv(guard.TIMEOUT_ENV, "0")  # the good build, with a PDF: no time limit
    build_brief(cfg, "own", out_dir=out, as_of=AS_OF)
    monkeypatch.setenv(guard.TIMEOUT_ENV, "3")
    before = snapshot(out)
    assert sorted(before) == ["brief.json", "brief.md", "brief.pdf"]
    with (own / "brief.css").open("a", encoding="utf-8") as fh:
        fh.write(ENDLESS_CSS)
    with pytest.raises(RenderError) as err:
        build_brief(cfg, "own", out_dir=out, as_of=dt.date(2026, 3, 16))
    assert str(err.value).startswith(
        f"brief own: PDF layout with {own / 'brief.css'}: did not finish within 3 s"
    )
    assert snapshot(out) == before


@pytest.mark.slow
def test_pdf_memory_explosion_is_stopped_and_previous_pdf_kept(
    project_with_own: tuple[LoadedConfig, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, own = project_with_own
    out = tmp_path / "out"
    build_brief(cfg, "own", out_dir=out, as_of=AS_OF)
    before = snapshot(out)
    page = (own / "brief.html.j2").read_text(encoding="utf-8")
    # Three hundred copies of the brief on one page: WeasyPrint's boxes outgrow 300 MB.
    page = page.replace("{{ body }}", "{% for i in range(300) %}{{ body }}{% endfor %}")
    (own / "brief.html.j2").write_text(page, encoding="utf-8")
    monkeypatch.setenv(guard.MEMORY_ENV, "300")
    monkeypatch.setenv(guard.TIMEOUT_ENV, "600")
    with pytest.raises(RenderError) as err:
        build_brief(cfg, "own", out_dir=out, as_of=dt.date(2026, 3, 16))
    assert re.match(
        rf"brief own: PDF layout with {re.escape(str(own / 'brief.css'))}: "
        r"(exceeded the render memory limit of 300 MB|the render process died)",
        str(err.value),
    ), str(err.value)
    assert snapshot(out) == before


@pytest.mark.usefixtures("limits")
def test_other_briefs_of_a_scheduled_run_still_build(
    project_with_own: tuple[LoadedConfig, Path],
) -> None:
    cfg, own = project_with_own
    (own / "brief.md.j2").write_text(ENDLESS, encoding="utf-8")
    briefs = {}
    for name in ("looping", "fine"):
        spec = cfg.config.briefs["own" if name == "looping" else "japan-daily"]
        briefs[name] = spec.model_copy(update={"formats": ["md", "json"]})
    cfg = cfg.model_copy(
        update={"config": cfg.config.model_copy(update={"briefs": briefs, "default_brief": None})}
    )
    lines: list[str] = []
    now = datetime.fromisoformat("2026-03-16T07:05:00+09:00")  # a Monday, just after 07:00
    result = run_due(cfg, now=now, echo=lines.append)
    assert result.built == [("fine", "2026-03-15T22:00:00Z")], lines
    assert [(b, s) for b, s, _ in result.failed] == [("looping", "2026-03-15T22:00:00Z")]
    assert f"template {own / 'brief.md.j2'}: did not finish within 3 s" in result.failed[0][2]
    assert result.exit_code == 1
    latest = cfg.root / "briefs" / "fine" / "latest"
    assert (latest / "brief.md").read_text(encoding="utf-8").startswith("# Japan Policy Brief")


# --- the guard itself ----------------------------------------------------------------------


def test_result_errors_and_bugs_cross_the_process_boundary() -> None:
    assert guard.run_limited(lambda: {"md": b"x" * 3_000_000}, brief="b") == {"md": b"x" * 3_000_000}

    def config_mistake() -> None:
        raise ConfigError("first", ["a.yaml:1:1: x: bad", "a.yaml:2:1: y: bad"])

    with pytest.raises(ConfigError) as err:
        guard.run_limited(config_mistake, brief="b")
    assert err.value.problems == ["a.yaml:1:1: x: bad", "a.yaml:2:1: y: bad"]

    def corpus_mistake() -> None:
        raise CorpusError("seeds/x.txt: unreadable")

    with pytest.raises(CorpusError, match=r"^seeds/x\.txt: unreadable$"):
        guard.run_limited(corpus_mistake, brief="b")

    def bug() -> None:
        guard.stage("template t.j2")
        raise KeyError("oops")

    with pytest.raises(RuntimeError, match=r"(?s)brief b: template t\.j2 failed:.*KeyError: 'oops'"):
        guard.run_limited(bug, brief="b")


def test_a_silent_death_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def die() -> None:
        guard.stage("PDF layout with x.css")
        os.kill(os.getpid(), 9)

    with pytest.raises(RenderError, match=r"brief b: PDF layout with x\.css: the render process "
                                          r"died \(killed by signal SIGKILL\)"):
        guard.run_limited(die, brief="b")


@pytest.mark.parametrize("value", ["abc", "-1", "inf", "nan"])
def test_bad_limit_settings_are_config_errors(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(guard.TIMEOUT_ENV, value)
    with pytest.raises(ConfigError, match=rf"^environment variable {guard.TIMEOUT_ENV}="):
        guard.run_limited(lambda: 1, brief="b")


def test_zero_means_no_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(guard.TIMEOUT_ENV, "0")
    monkeypatch.setenv(guard.MEMORY_ENV, "0")
    assert guard.limits() == (0.0, 0)
    assert guard.run_limited(lambda: "ok", brief="b") == "ok"
    monkeypatch.delenv(guard.TIMEOUT_ENV)
    monkeypatch.delenv(guard.MEMORY_ENV)
    assert guard.limits() == (120.0, 2048)


# --- a render process forked ahead of its job (guard.start_worker) ---------------------------


def _job(value: object) -> object:
    """A picklable job (a lambda is not: the job crosses a pipe, not a fork)."""
    if value == "config mistake":
        raise ConfigError("first", ["a.yaml:1:1: x: bad"])
    if value == "loop":
        guard.stage("template slow.j2")
        while True:
            pass
    return value


def _slow_warm_up() -> None:
    import time

    time.sleep(30)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_worker_runs_one_job_and_returns_results_and_errors() -> None:
    with guard.start_worker(lambda: None) as worker:
        assert worker.run_limited(functools.partial(_job, {"md": b"x"}), brief="b") == {"md": b"x"}
        # Spent: the next job runs in a fresh fork, with the same semantics.
        with pytest.raises(ConfigError) as err:
            worker.run_limited(functools.partial(_job, "config mistake"), brief="b")
    assert err.value.problems == ["a.yaml:1:1: x: bad"]


@pytest.mark.usefixtures("limits")
def test_worker_job_is_stopped_at_the_time_limit_with_its_stage_named() -> None:
    with (
        guard.start_worker(lambda: None) as worker,
        pytest.raises(RenderError, match=r"^brief b: template slow\.j2: did not finish within 3 s"),
    ):
        worker.run_limited(functools.partial(_job, "loop"), brief="b")


@pytest.mark.usefixtures("limits")
def test_a_worker_still_warming_up_at_the_deadline_is_killed() -> None:
    with guard.start_worker(_slow_warm_up) as worker:
        pid = worker._pid
        assert pid is not None
        with pytest.raises(RenderError, match=r"^brief b: rendering: did not finish within 3 s"):
            worker.run_limited(functools.partial(_job, 1), brief="b")
    assert not _alive(pid)


def test_an_unused_worker_is_killed_and_a_dead_one_replaced() -> None:
    with guard.start_worker(_slow_warm_up) as worker:
        pid = worker._pid
        assert pid is not None and _alive(pid)
    assert not _alive(pid)  # reaped: not even a zombie
    with guard.start_worker(_slow_warm_up) as worker:
        assert worker._pid is not None
        os.kill(worker._pid, 9)  # dies before its job, through no fault of the job
        assert worker.run_limited(functools.partial(_job, "ok"), brief="b") == "ok"


def test_a_bad_limit_setting_is_reported_before_the_job(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(guard.MEMORY_ENV, "lots")
    with (
        guard.start_worker(lambda: None) as worker,
        pytest.raises(ConfigError, match=rf"^environment variable {guard.MEMORY_ENV}="),
    ):
        worker.run_limited(functools.partial(_job, 1), brief="b")
