"""Hand-built selections and briefs for the brief/render tests (no corpus, no index needed)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

from briefgen.brief.assemble import assemble_brief
from briefgen.brief.model import Brief, CorpusSummary
from briefgen.config.schema import BriefSpec, Topic
from briefgen.models import Passage, ScoredPassage, Source, SourceMeta, TopicSelection

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"

HOSTILE = (
    '<img src="file:///etc/passwd">',
    "[x](javascript:alert(1))",
    "<script>alert('x')</script>",
    "[^1]",
    "# heading",
    "{: onclick=alert(1) }",
    "| a | b |",
    '<a rel="attachment" href="file:///etc/passwd">passwd</a>',
    "*stars* _under_ `tick` \\back ![img](http://example.com/x.png) <http://example.com>",
    "&amp; &lt;b&gt; 1. list - item + plus",
)

NAMES = "Takaichi Sanae, Abe Shinzō, “curly quotes” — and Lee Jae-myung"


def source(doc_id: str, **meta: str | None) -> Source:
    """Return a source with the given metadata (file name = doc_id.txt)."""
    warnings = (meta.pop("warning"),) if meta.get("warning") else ()
    meta.pop("warning", None)
    return Source(doc_id, f"seeds/{doc_id}.txt", f"sha-{doc_id}", SourceMeta(**meta), warnings)


def scored(src: Source, ordinal: int, text: str, score: float = 5.0,
           corroborated_by: tuple[ScoredPassage, ...] = ()) -> ScoredPassage:
    """Return a selected passage of ``src``."""
    start = ordinal * 1000
    passage = Passage(src.doc_id, ordinal, start, start + len(text), text)
    return ScoredPassage(passage, src, score, ("term",), corroborated_by)


SRC_A = source("a", title="Alliance Deepens", outlet="Nikkei Asia", author="Ann Writer",
               date="2026-03-10", url="https://asia.nikkei.com/a")
SRC_B = source("b", title=None, outlet=None, date=None)  # a seed with no metadata at all
SRC_C = source("c", title="Tariff Talk", outlet=None, date="2026-03-11",
               warning="This content is AI-generated based on source articles.")


def selections(*, hostile: bool = False, long: bool = False) -> list[TopicSelection]:
    """Return three topic selections: a shared passage, a merged duplicate, an empty topic."""
    dup = scored(SRC_C, 4, "Japan and the US agreed to deepen security ties.", 3.0)
    shared = scored(SRC_A, 2, f"{NAMES} met in Tokyo to discuss deterrence and trade.", 9.0)
    security = [
        shared,
        scored(SRC_A, 3, "Japan and the US agreed to deepen security ties on Monday.", 7.0,
               corroborated_by=(dup, scored(SRC_A, 9, "Japan and the US agreed to deepen ties.", 2.0))),
        scored(SRC_B, 1, "Defence spending will rise to 2% of GDP. It is a first.", 6.0),
    ]
    trade = [scored(SRC_C, 1, "Tariffs on cars were discussed at length.", 8.0), shared]
    if hostile:
        trade += [scored(SRC_B, 10 + i, f"Hostile {i}: {h} end.", 1.0) for i, h in enumerate(HOSTILE)]
    if long:
        # Passages of random (seeded) lengths: with plain `float: footnote` CSS this document
        # puts a footnote on the page after its call (measured), so placement tests can fail.
        rnd = random.Random(0)
        words = ["ministry", "budget", "missile", "defence", "shipbuilding", "cyber", "units", "officials", "stressed", "deterrent", "plan", "Tokyo", "alliance"]
        security += [scored(SRC_B, 30 + i, f"Long passage {i}. "
                            + " ".join(rnd.choice(words) for _ in range(rnd.randint(5, 120)))
                            + f". End of passage {i}.", 0.5) for i in range(30)]
    return [
        TopicSelection("security", "Security and defence", "Defence and alliances.", tuple(security)),
        TopicSelection("trade", "Trade", "Tariffs and investment.", tuple(trade)),
        TopicSelection("korea", "Korea", "The Korean peninsula.", ()),
    ]


SPEC = BriefSpec(title="Test Brief", subtitle="For the desk", author="Policy Unit",
                 topics=["security", "trade", "korea"], key_points=3)
TOPICS = {
    "security": Topic(title="Security and defence", terms={"defence": 2, "security": 1}),
    "trade": Topic(title="Trade", terms={"tariff": 3}, require=["tariff"], within_days=30),
    "korea": Topic(title="Korea", terms={"Korea": 3}),
}
CORPUS = CorpusSummary(source_count=7, dated_count=2, date_from="2026-03-10",
                       date_to="2026-03-11", snapshot_hash="f" * 64)


def make_brief(*, hostile: bool = False, long: bool = False,
               previous: set[tuple[str, str]] | None = None) -> Brief:
    """Return a brief assembled from the hand-built selections, as of 2026-03-15."""
    day = dt.date(2026, 3, 15)
    return assemble_brief("test-brief", SPEC, TOPICS, selections(hostile=hostile, long=long), CORPUS,
                          date=day, as_of=day, generated_at="2026-03-15T00:00:00Z",
                          version="0.0.test", previous=previous)
