"""Find the corpus files: the regular files under ``corpus.path`` that ``corpus.include`` matches.

Nothing else is ever opened. Skipped with one warning each, names shown escaped
(``briefgen.names.printable``), while the rest of the corpus is read:

- a name that is not valid UTF-8 (zip and Windows extracts) or holds control characters;
- anything that is not a regular file — a FIFO would block the reader forever, a link to
  ``/dev/zero`` never ends — found from the folder listing, without opening it;
- a link whose target lies outside the corpus folder (``ln -s /etc/passwd seeds/x.txt``).

Hidden files and folders (a leading dot) are left out silently, as are linked folders.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from briefgen._fs import file_kind, is_inside
from briefgen.errors import CorpusError
from briefgen.names import has_unprintable, printable

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

Warn = Callable[[str], None]


def _ignore(message: str) -> None:
    """Drop a warning (when the caller passes no ``warn``)."""


def find_corpus_files(cfg: LoadedConfig, warn: Warn | None = None) -> list[Path]:
    """List the corpus files matching ``corpus.include``, sorted by their path in the corpus.

    Raises CorpusError if ``corpus.path`` does not exist; ``warn`` gets one line per skip.
    """
    warn = warn or _ignore
    root = cfg.resolve(cfg.config.corpus.path)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise CorpusError(
            f"{cfg.path.name}: corpus.path: {root} does not exist; create it or point corpus.path at your articles"
        )
    patterns = cfg.config.corpus.include
    top = os.fspath(root)
    real_top = os.path.realpath(top)
    found: list[tuple[str, str]] = []  # (path relative to the corpus folder, full path)
    skipped: list[tuple[str, str]] = []  # (path relative to the corpus folder, warning)
    folders = [(top, "")]
    while folders:  # a loop, not recursion: folder depth is the user's, not ours
        folder, prefix = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            reason = f"cannot list the folder ({exc.strerror or exc}); skipped"
            skipped.append((prefix, f"{_shown(cfg, folder)}/: {reason}"))
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                if has_unprintable(name):
                    message = f"{_shown(cfg, entry.path)}/: {_bad_name(name, 'with its files')}"
                    skipped.append((prefix + name, message))
                else:
                    folders.append((entry.path, prefix + name + "/"))
                continue
            if not any(fnmatch.fnmatch(name, p) for p in patterns):
                continue
            problem = _bad_name(name) if has_unprintable(name) else _not_a_file(entry, real_top)
            if problem:
                skipped.append((prefix + name, f"{_shown(cfg, entry.path)}: {problem}"))
            else:
                found.append((prefix + name, entry.path))
    for _, message in sorted(skipped):
        warn(message)
    found.sort()
    return [Path(full) for _, full in found]


def _bad_name(name: str, skipped: str = "") -> str:
    what = "is not valid UTF-8" if any(0xDC80 <= ord(c) <= 0xDCFF for c in name) else (
        "holds control or invisible characters"
    )
    return f"the name {what}; skipped{' ' + skipped if skipped else ''} (rename it)"


def _not_a_file(entry: os.DirEntry[str], real_top: str) -> str | None:
    """Say why a listed entry is not a corpus file to read (None: it is a regular file)."""
    if entry.is_symlink():
        target = os.path.realpath(entry.path)
        if not is_inside(Path(target), Path(real_top)):
            return f"links to {printable(target)}, outside the corpus folder; skipped"
        try:
            mode = os.stat(entry.path).st_mode
        except OSError:
            return f"links to {printable(target)}, which does not exist; skipped"
    else:
        try:
            if entry.is_file(follow_symlinks=False):
                return None  # known from the listing: no system call
            mode = entry.stat(follow_symlinks=False).st_mode
        except OSError:
            return None  # vanished since the listing: the reader says so, or it is gone
    if stat.S_ISREG(mode):
        return None
    return f"not a regular file ({file_kind(mode)}); skipped without opening it"


def _shown(cfg: LoadedConfig, path: str) -> str:
    """Return a path as warnings show it: relative to the project root, escaped."""
    return printable(cfg.relative(Path(path)))


def inside_corpus(cfg: LoadedConfig, path: Path) -> bool:
    """Say whether ``path``, resolved, is the corpus file or lies in the corpus folder."""
    return is_inside(path, cfg.resolve(cfg.config.corpus.path))
