"""A fake build and index refresh for the scheduling tests, usable in-process or in a subprocess.

In a subprocess it is injected by ``tests/fake_briefgen.py`` and steered by environment variables:

- ``FAKE_LOG``: file that gets one JSON line per event (index, start, end).
- ``FAKE_STARTED``: file created once the build has started (after writing a partial file).
- ``FAKE_RELEASE``: the build blocks until this file exists (bounded, so a bug cannot hang CI).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from briefgen.config.schema import Config, LoadedConfig
from briefgen.errors import RenderError

BLOCK_LIMIT_S = 60.0  # upper bound on a blocked build; tests release far sooner


@dataclass
class FakeResult:
    files: list[Path]


@dataclass
class FakeBuild:
    """Record every call; write brief.md and brief.json; fail on demand."""

    fail: dict[str, int] = field(default_factory=dict)  # brief -> how many calls fail
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(
        self,
        cfg: LoadedConfig,
        brief_name: str | None = None,
        *,
        formats: list[str] | None = None,
        out_dir: Path | None = None,
        as_of: date | None = None,
        previous: Path | None = None,
        strict: bool = False,
    ) -> FakeResult:
        assert brief_name is not None and out_dir is not None
        self.calls.append(
            {
                "brief": brief_name,
                "as_of": as_of,
                "previous": previous,
                "formats": formats,
                "out_dir": out_dir,
            }
        )
        if self.fail.get(brief_name, 0) > 0:
            self.fail[brief_name] -= 1
            raise RenderError(f"templates/brief.md.j2:3: {brief_name}: unexpected end of template")
        return write_outputs(brief_name, out_dir, as_of, previous, formats)

    def built(self, brief: str | None = None) -> list[date | None]:
        """Return the as-of dates of the calls (for one brief or all)."""
        return [c["as_of"] for c in self.calls if brief is None or c["brief"] == brief]


PDF_BYTES = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def write_outputs(
    brief: str,
    out_dir: Path,
    as_of: date | None,
    previous: Path | None,
    formats: list[str] | None = None,
) -> FakeResult:
    """Write a small file per format (default md and json); brief.json has the record's shape."""
    record = {
        "brief": brief,
        "title": brief.title(),
        "generated_at": f"{as_of}T00:00:00Z",
        "as_of": str(as_of),
        "previous": str(previous),
        "sections": [{"topic": "t", "title": "T", "passages": [{"text": f"{brief} {as_of}"}]}],
        "new_since_previous": None if previous is None else [1],
    }
    contents = {
        "md": f"# {brief} as of {as_of}\n".encode(),
        "html": f"<!DOCTYPE html><html><body><h1>{brief} as of {as_of}</h1></body></html>\n".encode(),
        "pdf": PDF_BYTES,
        "json": json.dumps(record).encode(),
    }
    files = []
    for fmt in ("md", "html", "pdf", "json"):
        if fmt in (formats or ["md", "json"]):
            files.append(out_dir / f"brief.{fmt}")
            files[-1].write_bytes(contents[fmt])
    return FakeResult(files)


def _log(event: str, **data: Any) -> None:
    log = os.environ.get("FAKE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"event": event, "pid": os.getpid(), **data}) + "\n")


def build_brief(
    cfg: LoadedConfig,
    brief_name: str | None = None,
    *,
    formats: list[str] | None = None,
    out_dir: Path | None = None,
    as_of: date | None = None,
    previous: Path | None = None,
    strict: bool = False,
) -> FakeResult:
    """Subprocess fake: log, write a partial file, signal 'started', block until released."""
    assert brief_name is not None and out_dir is not None
    _log("start", brief=brief_name, as_of=str(as_of))
    (out_dir / "brief.md").write_text("partial", encoding="utf-8")
    started, release = os.environ.get("FAKE_STARTED"), os.environ.get("FAKE_RELEASE")
    if started:
        Path(started).write_text(str(os.getpid()), encoding="utf-8")
    if release:
        deadline = time.monotonic() + BLOCK_LIMIT_S
        while not Path(release).exists():
            if time.monotonic() > deadline:
                raise RuntimeError("fake build was never released")
            time.sleep(0.01)
    result = write_outputs(brief_name, out_dir, as_of, previous)
    _log("end", brief=brief_name)
    return result


def update_index(cfg: LoadedConfig, *, progress: bool = True, warn: Any = None,
                 max_warnings: int | None = None) -> None:
    """Subprocess fake index refresh: only logged."""
    _log("index")


def load_config(path: Path | None = None, *, topic_files: list[Path] | None = None) -> LoadedConfig:
    """Load a config: the real loader when it exists, else plain YAML through the schema."""
    try:
        from briefgen.config.load import load_config as real
    except ImportError:
        path = Path(path or "config.yaml").resolve()
        config = Config.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        return LoadedConfig(config=config, path=path, root=path.parent, topics=dict(config.topics))
    return real(path, topic_files=list(topic_files or []))
