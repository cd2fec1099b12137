"""What one index update did, and how many of its skip warnings are kept and shown.

A corpus can hold millions of bad records (a 6 KB .jsonl.gz of two million ``{}`` lines): the
first ``FILE_MAX_WARNINGS`` of a file are kept and shown one per line, the rest only counted,
so memory and the log stay small while the totals stay exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: Skip warnings kept per file (the rest of that file's are counted, and said in one line).
FILE_MAX_WARNINGS = 200
#: Skip warnings a worker sends back per block of work (the rest are counted).
PART_MAX_WARNINGS = FILE_MAX_WARNINGS
SUMMARY_MAX_SKIPPED = 10

_MORE = re.compile(r": … and ([\d,]+) more skipped record\(s\), not listed$")


def more_skipped_line(where: str, count: int) -> str:
    """Return the line that stands for ``count`` skip warnings of one file not listed."""
    return f"{where}: … and {count:,} more skipped record(s), not listed"


def more_skipped_count(line: str) -> int:
    """Return the count a :func:`more_skipped_line` stands for (0 for any other warning)."""
    m = _MORE.search(line)
    return int(m.group(1).replace(",", "")) if m else 0


@dataclass
class IndexSummary:
    """What one ``update_index`` run did."""

    path: str  # where the index is (a file, a database)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[str] = field(default_factory=list)  # one "file[:line]: reason" per skip
    unlisted: int = 0  # skips counted, not listed: past a file's first FILE_MAX_WARNINGS, and
    # more records without the text field (their file's one message stands for them)
    passages: int = 0  # passages written in this run
    documents_total: int = 0
    passages_total: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # e.g. "index rebuilt: schema changed"

    @property
    def skipped_count(self) -> int:
        """Return how many inputs were skipped, listed or not."""
        return len(self.skipped) + self.unlisted

    def format(self) -> str:
        """Return the end-of-run summary, a few short lines."""
        lines = [f"note: {note}" for note in self.notes]
        lines.append(
            f"documents: {self.added:,} added, {self.updated:,} updated, {self.unchanged:,} "
            f"unchanged, {self.removed:,} removed, {self.skipped_count:,} skipped"
        )
        rate = f" ({self.passages / self.seconds:,.0f}/s)" if self.passages and self.seconds else ""
        lines.append(
            f"passages: {self.passages:,} written{rate}; the index holds "
            f"{self.documents_total:,} documents, {self.passages_total:,} passages"
        )
        lines.append(f"index: {self.path} ({self.seconds:.1f} s)")
        if self.skipped:
            lines.append("skipped:")
            lines += [f"  {reason}" for reason in self.skipped[:SUMMARY_MAX_SKIPPED]]
            more = self.skipped_count - SUMMARY_MAX_SKIPPED
            if more > 0:
                lines.append(f"  … and {more:,} more")
        return "\n".join(lines)
