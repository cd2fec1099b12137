"""Move a project to another backend: ``briefgen migrate --to postgresql`` (or back to sqlite).

The index is *re-built* in the target from the corpus, not copied: it is derived data, and
indexing the corpus gives exactly what this briefgen's cleaning code cuts (a copy would carry
passages of whatever version made them), through the same incremental, crash-safe update as
``briefgen index`` — a migration that is stopped halfway simply continues when run again. The
run history cannot be derived, so it is copied, row by row, skipping the attempts the target
already has (running it twice copies nothing twice). The project switches when
``index.backend`` is changed in config.yaml, on every host: until then nothing reads the target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from briefgen.errors import ScheduleError, StoreError
from briefgen.index.backends import with_backend
from briefgen.index.summary import IndexSummary
from briefgen.index.update import update_index
from briefgen.schedule.state import open_history

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig

#: Runs copied at most (a history is a few rows per brief and day: far below this).
MAX_RUNS = 10_000_000


@dataclass
class MigrateSummary:
    """What one migration did."""

    target: str
    index: IndexSummary
    runs_copied: int
    runs_present: int

    def format(self) -> str:
        """Return the summary, ending with the step left to the user."""
        return "\n".join([
            self.index.format(),
            f"run history: {self.runs_copied:,} run(s) copied, {self.runs_present:,} already there",
            (f"next: set `index.backend: {self.target}` in config.yaml on every host (the old "
             "index and history stay where they were, unused)"),
        ])


def migrate(
    cfg: LoadedConfig, to: str, *, progress: bool = True,
    warn: Callable[[str], None] = lambda message: None,
) -> MigrateSummary:
    """Index the corpus into backend ``to`` and copy the run history there."""
    source = cfg.config.index.backend
    if to == source:
        raise StoreError(f"{cfg.path.name}: index.backend is already {to}; nothing to migrate "
                         "(`briefgen index` updates it)")
    target = with_backend(cfg, to)
    summary = update_index(target, progress=progress, warn=warn)
    copied = present = 0
    try:
        old = open_history(cfg, create=False)
    except ScheduleError:
        return MigrateSummary(to, summary, 0, 0)  # no run history yet: nothing to copy
    with old, open_history(target) as new:
        for row in reversed(old.history(None, limit=MAX_RUNS)):  # oldest first
            if new.add_row(row):
                copied += 1
            else:
                present += 1
    return MigrateSummary(to, summary, copied, present)
