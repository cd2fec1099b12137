"""Shared fixtures: a throw-away copy of the project, the shared data folder, hypothesis profiles."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from indexdata import article, make_cfg

from briefgen.config.schema import LoadedConfig

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

# `make test` stays fast; `make fuzz` (HYPOTHESIS_PROFILE=fuzz) runs many more examples.
settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def copy_project(dest: Path) -> Path:
    """Copy the project (config.yaml, seeds/, topics/, templates/) into a new folder ``dest``."""
    dest.mkdir()
    shutil.copy2(ROOT / "config.yaml", dest / "config.yaml")
    for name in ("seeds", "topics", "templates"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, dest / name)
    return dest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project (config.yaml, seeds/, topics/, templates/) in a temporary folder."""
    return copy_project(tmp_path / "project")


@pytest.fixture
def txt_corpus(tmp_path: Path) -> LoadedConfig:
    """A folder corpus of three plain-text articles."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, topic in (("alpha", "tariff"), ("beta", "alliance"), ("gamma", "semiconductor")):
        (folder / f"{name}.txt").write_text(article(topic), encoding="utf-8")
    return make_cfg(tmp_path)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A throw-away PostgreSQL server for the session (tests/pgserver.py); skips when the
    server binaries are not installed."""
    try:
        import pgserver
    except ImportError as exc:  # psycopg absent: not installed with the test extra
        pytest.skip(f"psycopg is not installed ({exc}); pip install -e '.[test]'")
    try:
        server = pgserver.start_server()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    yield server
    server.destroy()


@pytest.fixture
def pg_url(pg_server: Any) -> str:
    """The URL of a new, empty database on the session's server (started again if a test stopped it)."""
    if not pg_server.running():
        pg_server.start()
    return str(pg_server.new_database())


@pytest.fixture(params=["sqlite", "postgresql"])
def index_settings(request: pytest.FixtureRequest) -> dict[str, object]:
    """The ``index:`` settings of each backend in turn (a new database for postgresql)."""
    if request.param == "sqlite":
        return {"backend": "sqlite"}
    return {"backend": "postgresql", "url": request.getfixturevalue("pg_url")}


@pytest.fixture
def shared_data() -> Path:
    """The external corpora in ../shared/data; skips the test when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"needs the shared corpora at {SHARED_DATA} (absent on this machine)")
    return SHARED_DATA
