"""corpus: formats, decoding, bad input skipped with one warning, metadata precedence, doc ids."""

from __future__ import annotations

import gzip
import itertools
import json
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefgen.config.schema import Config, CorpusSettings, LoadedConfig
from briefgen.corpus.files import (
    SkippedInput,
    decode_bytes,
    extract_html_text,
    iter_documents,
    load_document,
    read_path,
    read_raw,
)
from briefgen.corpus.metadata import load_metadata, normalize_date
from briefgen.errors import ConfigError, CorpusError
from briefgen.models import Document
from briefgen.text import normalize

DATA = Path(__file__).resolve().parent / "data"


def _cfg(root: Path, **corpus: object) -> LoadedConfig:
    settings = {"path": "articles", "metadata": "articles/corpus.yaml", **corpus}
    return LoadedConfig(
        config=Config(corpus=CorpusSettings(**settings)),
        path=root / "config.yaml",
        root=root,
        topics={},
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    (tmp_path / "articles").mkdir()
    return tmp_path


def _read(root: Path, name: str, **corpus: object) -> tuple[list[Document], list[str]]:
    warnings: list[str] = []
    docs = list(read_path(root / "articles" / name, _cfg(root, **corpus), warn=warnings.append))
    return docs, warnings


def _put(root: Path, name: str, data: bytes | str) -> None:
    path = root / "articles" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


# --- bad input: one warning naming the file (and line), nothing raised ------------------------


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(200), "binary file (a PNG image)"),
        ("archive.txt", b"PK\x03\x04" + bytes(100), "binary file (a ZIP archive)"),
        ("doc.txt", b"%PDF-1.7\n%\xe2\xe3", "binary file (a PDF file)"),
        ("nul.txt", b"Some text\x00with NUL bytes in it", "binary file (contains NUL bytes)"),
        ("garbage.txt", bytes(range(1, 9)) * 100 + b"\x81\x8d" * 50, "undecodable bytes"),
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\n\t\n", "empty file"),
    ],
)
def test_bad_file_is_skipped_with_one_warning(
    corpus: Path, name: str, data: bytes, reason: str
) -> None:
    _put(corpus, name, data)
    docs, warnings = _read(corpus, name)
    assert docs == []
    assert len(warnings) == 1
    assert warnings[0].startswith(f"articles/{name}: ")
    assert reason in warnings[0]


def test_oversized_file_is_skipped_before_reading(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put(corpus, "big.txt", "A sentence of the article. " * 100)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read before the size check"))
    docs, warnings = _read(corpus, "big.txt", max_file_mb=0.001)
    assert docs == []
    assert warnings == [
        "articles/big.txt: file is 0.00257 MB, over the 0.001 MB cap (corpus.max_file_mb); raise the cap or split the file"
    ]


def test_malformed_jsonl_line_and_empty_text_are_skipped_with_line_numbers(corpus: Path) -> None:
    shutil.copy(DATA / "corpus_with_malformed_line.jsonl", corpus / "articles" / "wire.jsonl")
    docs, warnings = _read(corpus, "wire.jsonl")
    assert warnings == [
        "articles/wire.jsonl:2: malformed JSON (Expecting value at column 23); skipped",
        "articles/wire.jsonl:3: empty text; skipped",
    ]
    assert [d.source.doc_id for d in docs] == ["a1", "wire:4"]
    first, second = docs
    assert first.source.meta.author == "Ann Lee"  # byline → author, "By" dropped
    assert first.source.meta.date == "2006-10-20"
    assert first.source.source_path == "articles/wire.jsonl"
    assert second.source.meta.outlet == "Wire"
    assert [p.text for p in second.passages] == ["A story without an id.", "A second paragraph."]


def test_jsonl_gz_is_streamed_and_an_overlong_record_is_skipped(corpus: Path) -> None:
    records = [{"id": i, "title": f"T{i}", "text": f"Story number {i} is short."} for i in range(5)]
    records[2]["text"] = "Long story. " * 200
    with gzip.open(corpus / "articles" / "wire.jsonl.gz", "wt", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
    docs, warnings = _read(corpus, "wire.jsonl.gz", max_file_mb=0.001)
    assert [d.source.doc_id for d in docs] == ["0", "1", "3", "4"]
    assert warnings == [
        "articles/wire.jsonl.gz:3: record over the 0.001 MB cap (corpus.max_file_mb); skipped"
    ]


def test_broken_front_matter_is_skipped_naming_the_line(corpus: Path) -> None:
    shutil.copy(DATA / "broken_front_matter.md", corpus / "articles" / "broken.md")
    docs, warnings = _read(corpus, "broken.md")
    assert docs == []
    assert len(warnings) == 1
    assert warnings[0].startswith("articles/broken.md: line 4: broken front matter")


def test_unclosed_front_matter_is_skipped(corpus: Path) -> None:
    _put(corpus, "open.md", "---\ntitle: x\nThe body never closes the front matter.\n")
    docs, warnings = _read(corpus, "open.md")
    assert docs == [] and "never closed" in warnings[0]


def test_unreadable_html_is_skipped(corpus: Path) -> None:
    shutil.copy(DATA / "page_without_article.html", corpus / "articles" / "nav.html")
    docs, warnings = _read(corpus, "nav.html")
    assert docs == []
    assert warnings == [
        "articles/nav.html: no article text found in the HTML (unreadable or not an article page)"
    ]


# --- decoding ---------------------------------------------------------------------------------


def test_cp1252_file_is_decoded_by_charset_detection(corpus: Path) -> None:
    shutil.copy(DATA / "latin1_cp1252_article.txt", corpus / "articles" / "legacy.txt")
    docs, warnings = _read(corpus, "legacy.txt")
    assert warnings == []
    assert docs[0].source.meta.title == "Title: Café owners “welcome” the new rules"
    assert [p.text for p in docs[0].passages] == [
        "The city’s café owners said the naïve rules were fine – mostly."
    ]


def test_decode_bytes_accepts_bom_and_utf16_and_rejects_garbage() -> None:
    assert decode_bytes("\ufeffTokyo".encode()) == "Tokyo"
    assert decode_bytes("Tokyo talks".encode("utf-16")) == "Tokyo talks"
    assert decode_bytes(
        "Le gouvernement a annoncé une réforme économique. ".encode("latin-1") * 3
    ).startswith("Le gouvernement a annoncé")
    with pytest.raises(SkippedInput, match="undecodable"):
        decode_bytes(bytes(range(1, 9)) * 100 + b"\x81\x8d" * 50)


# --- formats and metadata --------------------------------------------------------------------


def test_markdown_front_matter_beats_corpus_yaml_which_beats_inference(corpus: Path) -> None:
    shutil.copy(DATA / "article_with_front_matter.md", corpus / "articles" / "harbour.md")
    _put(corpus, "plain.txt", "Inferred Headline\n\nBody sentence one.\n")
    _put(
        corpus,
        "corpus.yaml",
        "harbour.md:\n  title: Loses to front matter\n  kind: news\n"
        "plain.txt:\n  outlet: Yaml Outlet  # only here\n",
    )
    cfg = _cfg(corpus)
    docs = {d.source.doc_id: d for d in iter_documents(cfg, warn=pytest.fail)}
    harbour = docs["harbour"]
    assert harbour.source.meta.title == "Harbour Dredging Approved"
    assert harbour.source.meta.kind == "news"
    assert harbour.source.meta.date == "2026-01-05"
    assert [(p.section, p.text) for p in harbour.passages] == [
        (None, "The council approved a plan to dredge the harbour so that larger ships can dock."),
        (
            "Costs",
            "The work will cost 40 million euros, shared between the port and the national government.",
        ),
    ]
    assert "title:" not in harbour.text[harbour.passages[0].start :]
    plain = docs["plain"].source.meta
    assert (plain.title, plain.outlet) == ("Inferred Headline", "Yaml Outlet")


def test_broken_corpus_yaml_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    # Every kind of mistake is pinned in tests/test_metadata_file.py.
    (tmp_path / "corpus.yaml").write_text("a.txt:\n  title: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"corpus\.yaml:\d+:\d+: YAML syntax error"):
        load_metadata(tmp_path / "corpus.yaml")
    (tmp_path / "corpus.yaml").write_text("a.txt:\n  titel: Typo\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown field 'titel'"):
        load_metadata(tmp_path / "corpus.yaml")


def test_html_main_text_is_extracted_without_page_furniture(corpus: Path) -> None:
    shutil.copy(DATA / "page_with_article.html", corpus / "articles" / "rail.html")
    docs, warnings = _read(corpus, "rail.html")
    assert warnings == []
    doc = docs[0]
    texts = [p.text for p in doc.passages]
    assert texts[0].startswith("A high-speed rail link between the two capitals opened on Saturday")
    assert len(texts) == 4
    joined = " ".join(texts)
    for furniture in (
        "Sign in",
        "Most read",
        "Celebrity chef",
        "All rights reserved",
        "Privacy policy",
    ):
        assert furniture not in joined
    assert "\n\n" in doc.text  # paragraphs stay separated by blank lines
    assert (
        extract_html_text((DATA / "page_with_article.html").read_bytes()) == doc.text
    )  # deterministic


def test_doc_ids_fall_back_to_relative_paths_when_names_collide(corpus: Path) -> None:
    _put(corpus, "a/story.txt", "First folder's story sentence.\n")
    _put(corpus, "b/story.md", "Second folder's story sentence.\n")
    _put(corpus, "unique.txt", "A unique story sentence.\n")
    ids = [d.source.doc_id for d in iter_documents(_cfg(corpus), warn=pytest.fail)]
    assert ids == ["a/story", "b/story", "unique"]


def test_missing_corpus_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="corpus.path"):
        list(iter_documents(_cfg(tmp_path), warn=pytest.fail))


def test_load_document_rereads_the_same_passages(corpus: Path) -> None:
    shutil.copy(DATA / "corpus_with_malformed_line.jsonl", corpus / "articles" / "wire.jsonl")
    _put(corpus, "x.txt", "Headline Here\n\nThe only paragraph.\n")
    cfg = _cfg(corpus)
    docs = list(iter_documents(cfg, warn=lambda _m: None))
    for doc in docs:
        again = load_document(cfg, doc.source.source_path, doc.source.doc_id)
        assert again == doc
    assert load_document(cfg, "articles/wire.jsonl", "nope") is None
    assert load_document(cfg, "articles/gone.txt", "gone") is None


def test_normalize_date_reads_common_forms() -> None:
    assert normalize_date("Fri Oct 20, 2006 6:15pm EDT") == "2006-10-20"
    assert normalize_date("20070402") == "2007-04-02"
    assert normalize_date("2026-03-12T09:00:00Z") == "2026-03-12"
    assert normalize_date("10 February 2026") == "2026-02-10"
    assert normalize_date("February 10") is None  # no year: unknown, not guessed
    # A month name first is not a weekday to strip (it once was: "October" went, the date too).
    assert normalize_date("October 20, 2006") == "2006-10-20"
    assert normalize_date("Oct 20, 2006") == "2006-10-20"
    assert normalize_date("Thursday, 5 March 2026") == "2026-03-05"
    assert normalize_date("Wed. Jan 7, 2026") == "2026-01-07"
    assert normalize_date("Saturday, November 21, 2026 7:00 AM") == "2026-11-21"
    assert normalize_date("2026-02-30") is None


def test_large_reuters_corpus_streams(shared_data: Path, tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, path=str(shared_data / "reuters_financial.jsonl.gz"), metadata=None)
    warnings: list[str] = []
    raws = list(
        itertools.islice(
            read_raw(shared_data / "reuters_financial.jsonl.gz", cfg, warn=warnings.append), 400
        )
    )
    assert len(raws) == 400
    assert all(w.endswith("empty text; skipped") for w in warnings)
    docs = [r.to_document() for r in raws]
    assert sum(len(d.passages) for d in docs) > 400
    first = docs[0]
    assert first.source.meta.title == "Exxon Mobil offers plan to end Alaska dispute"
    assert first.source.meta.author == "Yereth Rosen"
    assert first.passages[0].text.startswith(
        "Exxon Mobil ( XOM.N ) offered to pay a $20 million fine"
    )


# --- hostile bytes: skipped with a reason, or read correctly (issue 7) -------------------------

PROSE = "Le café était fermé. Die Straße ist lang. Tokyo’s “minister” said the talks went well. "


@pytest.mark.parametrize(
    ("name", "data", "text"),
    [
        ("utf16le.txt", (PROSE * 3).encode("utf-16-le"), PROSE * 3),
        ("utf16be.txt", (PROSE * 3).encode("utf-16-be"), PROSE * 3),
        # Cut off inside the last character: the rest is UTF-8, not cp1252 mojibake.
        ("truncated.txt", (PROSE * 3 + "€").encode()[:-1], PROSE * 3),
        ("truncated_ascii.txt", ("The minister said the talks went well. " * 4 + "€").encode()[:-2],
         "The minister said the talks went well. " * 4),
    ],
)
def test_utf16_without_bom_and_truncated_utf8_are_read_correctly(
    corpus: Path, name: str, data: bytes, text: str
) -> None:
    _put(corpus, name, data)
    docs, warnings = _read(corpus, name)
    assert warnings == []
    assert docs[0].text == text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (bytes(5000), "binary file (contains NUL bytes)"),
        (b"\x00A" * 2000 + b"\x00\x00" * 100, "binary file (contains NUL bytes)"),  # NULs both sides
        (b"\x89PNG\r\n\x1a\n" + "text".encode("utf-16-le") * 50, "binary file (a PNG image)"),
        (b"PK\x03\x04" + b"x" * 100, "binary file (a ZIP archive)"),
        (b"%PDF-1.4\n" + PROSE.encode() * 3, "binary file (a PDF file)"),
    ],
)
def test_binary_in_disguise_is_skipped_with_a_reason(corpus: Path, data: bytes, reason: str) -> None:
    _put(corpus, "renamed.txt", data)
    docs, warnings = _read(corpus, "renamed.txt")
    assert docs == [] and len(warnings) == 1 and reason in warnings[0], warnings


def test_2_gb_sparse_file_is_skipped_by_the_cap_before_reading(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (corpus / "articles" / "huge.txt").open("wb") as fh:
        fh.truncate(2 * 1024**3)  # sparse: 2 GB on paper, nothing on disk
    monkeypatch.setattr(
        "briefgen.corpus.files._read_capped", lambda *a: pytest.fail("read before the size check")
    )
    docs, warnings = _read(corpus, "huge.txt")  # the default 50 MB cap
    assert docs == []
    assert warnings == [
        (
            "articles/huge.txt: file is 2.05e+03 MB, over the 50 MB cap (corpus.max_file_mb); "
            "raise the cap or split the file"
        )
    ]


def test_file_that_grows_past_the_cap_after_the_check_is_skipped(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _put(corpus, "growing.txt", PROSE)
    real_stat = Path.stat

    def stat_then_grow(self: Path, *args: object, **kwargs: object) -> object:
        result = real_stat(self, *args, **kwargs)  # type: ignore[arg-type]
        measuring = sys._getframe(1).f_code.co_name == "read_raw"  # the size check itself
        if self.name == "growing.txt" and measuring and result.st_size < 5000:
            self.write_text(PROSE * 100, encoding="utf-8")  # grows right after being measured
        return result

    monkeypatch.setattr(Path, "stat", stat_then_grow)
    docs, warnings = _read(corpus, "growing.txt", max_file_mb=0.001)
    assert docs == []
    assert warnings == [
        "articles/growing.txt: file grew past the 0.001 MB cap (corpus.max_file_mb) while being read"
    ]


_BYTE_PIECES = [
    b"\x00", b"\x00" * 64, b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf", b"\x89PNG", b"PK\x03\x04",
    b"%PDF", b"\x1f\x8b", b"\xe2\x80", b"\xc3", b"\xf0\x9f\x98", b"\x81\x8d", b"\r\n", b"\n\n",
    "Tokyo’s “minister” said the talks went well. ".encode(),
    "café naïve – ".encode("cp1252"), "高市首相は述べた。".encode(), "talks".encode("utf-16-le"),
    b"Reader Comments\n", b"# heading\n", b"- item\n",
]
HOSTILE_BYTES = st.one_of(
    st.binary(max_size=400),
    st.lists(st.one_of(st.sampled_from(_BYTE_PIECES), st.binary(max_size=8)), max_size=40).map(b"".join),
)


@given(HOSTILE_BYTES)
def test_any_bytes_are_skipped_with_one_reason_or_read_with_exact_passages(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _put(root, "any.txt", data)
        warnings: list[str] = []
        cfg = _cfg(root)
        raws = list(read_raw(root / "articles" / "any.txt", cfg, warn=warnings.append))
    if not raws:
        assert len(warnings) == 1 and warnings[0].startswith("articles/any.txt: "), warnings
        return
    assert warnings == [] and len(raws) == 1
    doc = raws[0].to_document()
    for p in doc.passages:
        assert p.text == normalize(doc.text[p.start : p.end])
        assert normalize(p.text) == p.text


# --- metadata the page or the text gives --------------------------------------------------------


def test_html_page_metadata_fills_what_nothing_else_gives(corpus: Path) -> None:
    shutil.copy(DATA / "page_with_metadata.html", corpus / "articles" / "chips.html")
    docs, warnings = _read(corpus, "chips.html")
    assert warnings == []
    meta = docs[0].source.meta
    assert (meta.outlet, meta.author, meta.date) == ("Harbour Daily", "Aiko Tanaka", "2026-03-09")
    assert meta.title == "Japan and Korea agree on chip supply talks"
    assert meta.url == "https://harbourdaily.example/world/2026/03/09/chip-supply-talks"
    # The dateline stays out of the quote; the byline is no passage at all.
    assert docs[0].passages[0].text.startswith("Japan and South Korea agreed on Monday")
    assert not any("Aiko Tanaka" in p.text or "TOKYO" in p.text for p in docs[0].passages)


def test_corpus_yaml_wins_over_what_the_page_says(corpus: Path) -> None:
    shutil.copy(DATA / "page_with_metadata.html", corpus / "articles" / "chips.html")
    _put(corpus, "corpus.yaml", "chips.html:\n  outlet: Harbour Daily (print)\n  kind: news\n")
    meta = _read(corpus, "chips.html")[0][0].source.meta
    assert (meta.outlet, meta.author, meta.kind) == ("Harbour Daily (print)", "Aiko Tanaka", "news")


def test_opinion_page_is_marked_as_such(corpus: Path) -> None:
    page = (DATA / "page_with_metadata.html").read_text(encoding="utf-8")
    _put(corpus, "op.html", page.replace("/world/", "/opinion/"))
    assert _read(corpus, "op.html")[0][0].source.meta.kind == "opinion"


@pytest.mark.parametrize(("text", "author", "outlet", "date", "first"), [
    ("Chip Talks Open\n\nBy Jane Roe and John Doe\n\nMADRID — Spain and Japan agreed to talk.\n",
     "Jane Roe, John Doe", None, None, "Spain and Japan agreed to talk."),
    ("Chip Talks Open\n\nBY JANE ROE\n\n(Reuters) — Spain and Japan agreed to talk.\n",
     "Jane Roe", "Reuters", None, "Spain and Japan agreed to talk."),
    ("Chip Talks Open\n\nNEW YORK, May 2, 2017 /PRNewswire/ -- Acme agreed to talk.\n",
     None, "PRNewswire", "2017-05-02", "Acme agreed to talk."),
    # Not at the start of the article: a capitalised word and a dash stay in the quote.
    ("Chip Talks Open\n\nFirst paragraph here.\n\nSecond one.\n\nNATO — the alliance — met.\n",
     None, None, None, "First paragraph here."),
])
def test_bylines_and_datelines_become_metadata_not_quotes(
    corpus: Path, text: str, author: str | None, outlet: str | None, date: str | None, first: str
) -> None:
    _put(corpus, "a.txt", text)
    doc = _read(corpus, "a.txt")[0][0]
    assert (doc.source.meta.author, doc.source.meta.outlet, doc.source.meta.date) == (author, outlet, date)
    assert doc.passages[0].text == first
    assert all(p.text == normalize(doc.text[p.start:p.end]) for p in doc.passages)
    if "NATO" in text:
        assert doc.passages[-1].text == "NATO — the alliance — met."
