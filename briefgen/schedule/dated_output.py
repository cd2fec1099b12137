"""Dated output folders of scheduled runs: staging, publishing, the `latest` link, retention.

A scheduled build writes into a hidden staging folder beside the dated folders; only when
it has succeeded are its files moved (each with an atomic rename) into the dated folder and
the `latest` link swapped to it. A build that fails or is killed leaves the dated folders
and `latest` exactly as they were.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from briefgen._fs import fsync_dir, is_inside
from briefgen.errors import ScheduleError

LATEST = "latest"
_STAGING_PREFIX = ".staging-"


def check_inside(folder: Path, root: Path) -> None:
    """Refuse a dated folder that, filled in and resolved, is not inside the output folder."""
    if not is_inside(folder, root):
        raise ScheduleError(
            f"{folder} is outside the output folder {root}: nothing is written or deleted there; "
            "fix schedule.output (or the link that leads out of the output folder)"
        )


def new_staging_dir(parent: Path) -> Path:
    """Create a fresh staging folder in ``parent`` (same file system, so renames are atomic)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=parent))


def remove_stale_staging(parent: Path) -> None:
    """Delete staging folders left by killed runs; call only while holding the run-due lock."""
    if parent.is_dir():
        for entry in parent.iterdir():
            if entry.name.startswith(_STAGING_PREFIX) and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)


def publish(staging: Path, files: Iterable[Path], final: Path) -> list[Path]:
    """Move built files from ``staging`` into ``final`` by atomic renames; return the new paths."""
    final.mkdir(parents=True, exist_ok=True)
    moved = []
    staging_real = staging.resolve()
    for file in files:
        file = Path(file)
        if file.resolve().parent != staging_real:
            raise ScheduleError(f"the build wrote {file} outside its output folder {staging}")
        target = final / file.name
        os.replace(file, target)
        moved.append(target)
    fsync_dir(final)
    return moved


def point_latest(parent: Path, folder_name: str) -> Path:
    """Point ``parent/latest`` at ``folder_name`` (a relative link), swapped atomically.

    Never backwards: if it points at a newer dated folder that still exists (a slot built
    after the clock went back), it stays.
    """
    link = parent / LATEST
    if link.exists() and not link.is_symlink():
        raise ScheduleError(
            f"{link} exists and is not a link; move it aside so briefgen can manage it"
        )
    current = latest_target(parent)
    if current is not None and current > folder_name and (parent / current).is_dir():
        return link
    tmp = parent / f".{LATEST}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    # Relative, so the project folder can be moved or mounted elsewhere.
    os.symlink(folder_name, tmp)
    os.replace(tmp, link)
    fsync_dir(parent)
    return link


def latest_target(parent: Path) -> str | None:
    """Return the folder name ``parent/latest`` points to, or None."""
    try:
        return os.readlink(parent / LATEST)
    except OSError:
        return None


def prune_dated(
    parent: Path, name_regex: re.Pattern[str], keep: int, *, protect: set[str], root: Path
) -> list[Path]:
    """Delete dated folders beyond the newest ``keep`` (never one in ``protect`` or `latest`'s).

    Only folders that lie inside ``root`` (the output folder) once resolved are ever deleted.
    """
    check_inside(parent, root)
    dated = sorted(
        (
            e
            for e in parent.iterdir()
            if name_regex.match(e.name) and e.is_dir() and not e.is_symlink()
        ),
        key=lambda e: e.name,
        reverse=True,
    )
    protected = set(protect)
    target = latest_target(parent)
    if target:
        protected.add(target)
    removed = []
    for entry in dated[keep:]:
        if entry.name not in protected and is_inside(entry, root):
            shutil.rmtree(entry)
            removed.append(entry)
    return removed


