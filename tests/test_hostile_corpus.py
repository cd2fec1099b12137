"""A hostile or careless corpus (issue 13): names that are not UTF-8 or forge log lines, FIFOs and
links to /dev/zero, links out of the corpus, front matter bombs, compressed bombs, ids two files
share, a reader whose dependency is missing. Each is skipped with one escaped line, quickly; the
rest of the corpus is indexed."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from indexdata import article, make_cfg

from briefgen.cli import cli
from briefgen.config.schema import LoadedConfig
from briefgen.corpus.files import SkippedInput, corpus_files
from briefgen.corpus.frontmatter import MAX_FIELD_CHARS, front_matter_meta
from briefgen.corpus.jsonl import JsonlCapReached, jsonl_chunks
from briefgen.index.backends import open_store
from briefgen.index.summary import FILE_MAX_WARNINGS
from briefgen.index.update import update_index
from briefgen.names import printable

DEADLINE_S = 60  # no input may hang a command; far above what any of these takes


@contextmanager
def deadline(seconds: int = DEADLINE_S) -> Iterator[None]:
    """Fail (instead of hanging the test run) if the block takes longer than ``seconds``."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: the input hangs briefgen")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def index(cfg: LoadedConfig) -> tuple[dict[str, str], list[str]]:
    """Index the corpus; return {doc_id: source_path} and the warnings."""
    warnings: list[str] = []
    with deadline():
        update_index(cfg, progress=False, warn=warnings.append)
    with open_store(cfg) as store:
        return {s.doc_id: s.source_path for s in store.sources()}, warnings


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty corpus folder with one good article in it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(article("tariff"), encoding="utf-8")
    return corpus


# --- names ----------------------------------------------------------------------------------


def test_a_name_that_is_not_utf8_is_skipped_and_the_rest_indexed(folder: Path) -> None:
    (folder.parent / b"corpus/bad\xff\xfename.txt".decode("utf-8", "surrogateescape")).write_text(
        article("alliance"), encoding="utf-8"
    )
    docs, warnings = index(make_cfg(folder.parent))
    assert docs == {"good": "corpus/good.txt"}
    assert warnings == ["corpus/bad\\xff\\xfename.txt: the name is not valid UTF-8; skipped (rename it)"]


def test_a_name_that_forges_a_log_line_is_printed_escaped(folder: Path) -> None:
    (folder / "empty\nerror: forged line.txt").write_bytes(b"")
    (folder / "x\u202etxt.exe.txt").write_text(article("alliance"), encoding="utf-8")
    (folder.parent / "config.yaml").write_text(
        "corpus: {path: corpus, metadata: null}\ntopic_files: []\n", encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["index", "-c", str(folder.parent / "config.yaml")])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert not any(line.startswith("error: forged") for line in lines), result.output
    assert "  corpus/empty\\nerror: forged line.txt: the name holds control or invisible characters" in result.output
    assert "x\\u202etxt.exe.txt" in result.output and "\u202e" not in result.output


def test_printable_escapes_only_what_is_invisible_and_is_idempotent() -> None:
    assert printable("Übersicht – 東京.txt") == "Übersicht – 東京.txt"
    assert printable("a\nb\tc\x1b[31m\x7f") == "a\\nb\\tc\\x1b[31m\\x7f"
    assert printable("bad\udcff") == "bad\\xff"
    assert printable(printable("a\u2028b\u200bc")) == printable("a\u2028b\u200bc") == "a\\u2028b\\u200bc"


# --- files that are not files ---------------------------------------------------------------


def test_a_fifo_and_a_link_to_dev_zero_are_skipped_without_opening_them(folder: Path) -> None:
    os.mkfifo(folder / "x.jsonl")
    os.mkfifo(folder / "y.txt")
    (folder / "zero.jsonl").symlink_to("/dev/zero")
    (folder / "dev").mkdir()
    (folder / "dev" / "null.txt").symlink_to(os.devnull)
    docs, warnings = index(make_cfg(folder.parent))  # before: blocked forever on the FIFO
    assert docs == {"good": "corpus/good.txt"}
    assert "corpus/x.jsonl: not a regular file (a FIFO); skipped without opening it" in warnings
    assert "corpus/y.txt: not a regular file (a FIFO); skipped without opening it" in warnings
    assert any(w.startswith("corpus/zero.jsonl: links to /dev/zero, outside the corpus") for w in warnings)
    assert len(warnings) == 4


def test_a_fifo_swapped_in_after_listing_is_not_read(folder: Path) -> None:
    from briefgen.corpus.files import read_path

    write_jsonl(folder / "x.jsonl", [{"id": "x1", "text": article("one")}])
    cfg = make_cfg(folder.parent)
    listed = corpus_files(cfg)
    for path in listed:  # replaced by FIFOs between the listing and the reading
        path.unlink()
        os.mkfifo(path)
    warnings: list[str] = []
    with deadline():
        for path in listed:
            assert list(read_path(path, cfg, warn=warnings.append)) == []
    assert len(warnings) == 2, warnings
    assert all("not a regular file (a FIFO)" in w for w in warnings), warnings


def test_a_link_out_of_the_corpus_is_skipped(folder: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(article("password"), encoding="utf-8")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "secret.txt").symlink_to(secret)
    docs, warnings = index(make_cfg(folder.parent))
    assert set(docs.values()) == {"corpus/good.txt"}
    assert sorted(w.split(":")[0] for w in warnings) == ["corpus/passwd.txt", "corpus/secret.txt"]
    assert all("outside the corpus folder; skipped" in w for w in warnings)


# --- front matter bombs ---------------------------------------------------------------------

LEVELS = "abcdefgh"
ALIAS_BOMB = (
    "---\n"
    + 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in itertools.pairwise(LEVELS))
    + "author: *h\n---\nText.\n"
)


def test_front_matter_alias_bomb_is_refused_quickly() -> None:
    assert len(ALIAS_BOMB.encode()) < 600  # a few hundred bytes that expand to 43 million values
    started = time.monotonic()
    with deadline(), pytest.raises(SkippedInput, match=r"aliases expand to more than 10000"):
        front_matter_meta(ALIAS_BOMB)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_front_matter_is_refused(depth: int) -> None:
    text = "---\ntitle: " + "[" * depth + "]" * depth + "\n---\nText.\n"
    with deadline(), pytest.raises(SkippedInput, match=r"line 2: broken front matter \(nested more than 50"):
        front_matter_meta(text)


def test_front_matter_values_are_bounded() -> None:
    long = "x" * 100_000
    text = f"---\nlong: &l {long}\nauthor: [{', '.join(['*l'] * 5000)}]\ntitle: *l\n---\nText.\n"
    meta = front_matter_meta(text)
    assert meta.title == "x" * MAX_FIELD_CHARS
    assert meta.author is not None and len(meta.author) <= MAX_FIELD_CHARS


def test_a_front_matter_bomb_skips_one_article(folder: Path) -> None:
    (folder / "bomb.md").write_text(ALIAS_BOMB, encoding="utf-8")
    (folder / "deep.md").write_text("---\na: " + "[" * 100_000 + "\n---\n" + article("x"), encoding="utf-8")
    docs, warnings = index(make_cfg(folder.parent))
    assert docs == {"good": "corpus/good.txt"}
    assert [w.split(":")[0] for w in warnings] == ["corpus/bomb.md", "corpus/deep.md"]


# --- compressed bombs -----------------------------------------------------------------------


def gzip_lines(path: Path, line: bytes, count: int, level: int = 9) -> None:
    with gzip.open(path, "wb", compresslevel=level) as fh:
        block = line * min(count, 1 << 20)
        for start in range(0, count, 1 << 20):
            fh.write(block if count - start >= 1 << 20 else line * (count - start))


def test_a_gzip_of_many_records_stops_at_the_record_cap_with_counts(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefgen.corpus import jsonl

    monkeypatch.setattr(jsonl, "JSONL_BLOCK_BYTES", 16 << 10)  # many blocks, as a large file has
    gzip_lines(folder / "empties.jsonl.gz", b'{"text": ""}\n', 200_000)  # one warning each
    assert (folder / "empties.jsonl.gz").stat().st_size < 10_000
    cfg = make_cfg(folder.parent, max_records=50_000)
    warnings: list[str] = []
    with deadline():
        summary = update_index(cfg, progress=False, warn=warnings.append)
    assert summary.skipped_count == 50_001  # 50,000 empty records and the cap
    assert len(summary.skipped) == FILE_MAX_WARNINGS + 1  # the rest are counted, not kept
    assert "corpus/empties.jsonl.gz:50001: more than 50,000 lines (corpus.max_records)" in warnings[-2]
    assert warnings[-1] == "corpus/empties.jsonl.gz: … and 49,800 more skipped record(s), not listed"
    again = update_index(cfg, progress=False)  # unchanged: the same count, from the stored line
    assert (again.skipped_count, again.unchanged) == (50_001, 1)


def test_a_gzip_that_unpacks_past_the_cap_stops_there(folder: Path) -> None:
    gzip_lines(folder / "blank.jsonl.gz", b" " * 1023 + b"\n", 64 << 10)  # 64 MB of blank lines
    assert (folder / "blank.jsonl.gz").stat().st_size < 200_000
    with gzip.open(folder / "some.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "r1", "text": article("fishery")}) + "\n")
    cfg = make_cfg(folder.parent, max_decompressed_mb=8.0)
    docs, warnings = index(cfg)
    assert docs == {"good": "corpus/good.txt", "r1": "corpus/some.jsonl.gz"}
    assert len(warnings) == 1 and "unpacks to more than 8 MB (corpus.max_decompressed_mb)" in warnings[0]


def test_jsonl_chunks_never_yield_a_line_past_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"".join(b'{"n": %d}\n' % i for i in range(1000)))
    lines: list[int] = []
    with pytest.raises(JsonlCapReached) as caught:
        for chunk in jsonl_chunks(path, 1 << 20, max_lines=777):
            lines += [n for n, _ in chunk.lines()]
    assert lines == list(range(1, 778)) and caught.value.line == 778


@pytest.mark.slow
def test_the_bombs_of_the_issue_stop_under_the_default_caps(folder: Path) -> None:
    # A 6 KB .jsonl.gz of two million `{}` lines; a 1 MB gzip of 1 GiB of newlines.
    gzip_lines(folder / "empties.jsonl.gz", b"{}\n", 2_000_000)
    gzip_lines(folder / "newlines.jsonl.gz", b"\n", 1 << 30)
    started = time.monotonic()
    docs, warnings = index(make_cfg(folder.parent))
    took = time.monotonic() - started
    assert docs == {"good": "corpus/good.txt"}
    assert any("empties.jsonl.gz:1000001: more than 1,000,000 lines" in w for w in warnings)
    assert any("newlines.jsonl.gz:1000001: more than 1,000,000 lines" in w for w in warnings)
    assert len(warnings) <= 2 * (FILE_MAX_WARNINGS + 2)
    print(f"\nbombs of issue 13 under the default caps: {took:.1f} s")  # for tests/RELIABILITY.md


# --- ids two files share --------------------------------------------------------------------


def write_jsonl(path: Path, records: list[dict[str, str]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def test_a_jsonl_id_equal_to_a_file_doc_id_gives_one_index_fresh_or_incremental(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "a" / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "zeta.txt").write_text(article("zeta"), encoding="utf-8")
    write_jsonl(corpus / "news.jsonl", [{"id": "n1", "text": article("one")}])
    incremental = make_cfg(tmp_path / "a")
    index(incremental)
    # The JSONL file (first in corpus order) now also has a record with the file's doc id.
    write_jsonl(corpus / "news.jsonl", [{"id": "n1", "text": article("one")},
                                        {"id": "zeta", "text": article("other")}])
    docs, warnings = index(incremental)
    shutil.copytree(corpus, tmp_path / "b" / "corpus")
    fresh_docs, fresh_warnings = index(make_cfg(tmp_path / "b"))
    assert docs == fresh_docs == {"n1": "corpus/news.jsonl", "zeta": "corpus/news.jsonl"}
    expected = "corpus/zeta.txt: document id 'zeta' is already used by corpus/news.jsonl:2; skipped"
    assert warnings == fresh_warnings == [expected]
    again_docs, again_warnings = index(incremental)  # and it stays so, reported again
    assert (again_docs, again_warnings) == (docs, [expected])


def test_two_jsonl_files_sharing_an_id_give_one_index_fresh_or_incremental(tmp_path: Path) -> None:
    corpus = tmp_path / "a" / "corpus"
    corpus.mkdir(parents=True)
    write_jsonl(corpus / "a.jsonl", [{"id": "a1", "text": article("one")}])
    write_jsonl(corpus / "b.jsonl", [{"id": "k", "text": article("kay")}])
    incremental = make_cfg(tmp_path / "a")
    index(incremental)
    write_jsonl(corpus / "a.jsonl", [{"id": "a1", "text": article("one")},
                                     {"id": "k", "text": article("other")}])
    docs, warnings = index(incremental)
    shutil.copytree(corpus, tmp_path / "b" / "corpus")
    assert (docs, warnings) == index(make_cfg(tmp_path / "b"))
    assert docs == {"a1": "corpus/a.jsonl", "k": "corpus/a.jsonl"}
    assert warnings == ["corpus/b.jsonl:1: document id 'k' is already used by corpus/a.jsonl:2; skipped"]


# --- a reader's missing dependency ----------------------------------------------------------


def test_a_missing_dependency_of_the_html_reader_skips_html_files(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(Path(__file__).parent / "data" / "page_with_article.html", folder / "page.html")
    # As when lxml lacks its html_clean part: importing the extractor fails.
    monkeypatch.setitem(sys.modules, "trafilatura", None)
    docs, warnings = index(make_cfg(folder.parent))
    assert docs == {"good": "corpus/good.txt"}
    assert len(warnings) == 1 and warnings[0].startswith(
        "corpus/page.html: HTML pages cannot be read here: a package the extractor needs is missing"
    )


# --- properties: any file name, any front matter bomb ---------------------------------------

name_bytes = st.binary(min_size=1, max_size=40).filter(
    lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")
)


# Each example indexes a corpus: at most 600 of them, even in `make fuzz`.
@settings(max_examples=min(settings.default.max_examples, 600))
@given(names=st.lists(name_bytes, min_size=1, max_size=5, unique=True))
def test_any_file_names_are_indexed_or_skipped_with_one_printable_line(names: list[bytes]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = root / "corpus"
        corpus.mkdir()
        for raw in names:
            (corpus / os.fsdecode(raw + b".txt")).write_text(article("tariff"), encoding="utf-8")
        docs, warnings = index(make_cfg(root))
        assert all(w.isprintable() for w in warnings), warnings
        assert all(p.isprintable() and p.encode("utf-8") for p in docs.values())
        # Every file is either indexed or named in one warning (hidden files are left out).
        assert len(docs) + len(warnings) == len([n for n in names if not n.startswith(b".")])


def alias_bomb(widths: list[int], leaf: str) -> str:
    """Front matter whose anchors each repeat the previous one ``width`` times."""
    lines = [f"l0: &l0 {json.dumps(leaf)}"]
    for i, width in enumerate(widths, 1):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "---\n" + "\n".join(lines) + f"\nauthor: *l{len(widths)}\ntitle: *l{len(widths)}\n---\nText.\n"


@settings(max_examples=min(settings.default.max_examples, 1000))  # ~50 ms each
@given(
    widths=st.lists(st.integers(1, 40), min_size=1, max_size=12),
    leaf=st.text(max_size=300),
    nest=st.integers(0, 120),  # deeper ones: test_deeply_nested_front_matter_is_refused
)
def test_front_matter_bombs_are_refused_or_read_bounded_and_fast(
    widths: list[int], leaf: str, nest: int
) -> None:
    text = alias_bomb(widths, leaf)
    if nest:
        text = text.replace("\n---\nText", f"\nx: {'[' * nest}{']' * nest}\n---\nText", 1)
    started = time.monotonic()
    with deadline(30):
        try:
            meta = front_matter_meta(text)
        except SkippedInput as exc:
            assert str(exc).isprintable() or "\n" not in str(exc)
            return
    assert time.monotonic() - started < 10
    for value in (meta.title, meta.author):
        assert value is None or len(value) <= MAX_FIELD_CHARS + 2


@given(
    line=st.sampled_from([b"\n", b"{}\n", b"\r\n", b'{"text": ""}\n', b"[]\n", b" \n", b"x" * 30 + b"\n"]),
    count=st.integers(1, 50_000),
    cap_lines=st.integers(1, 60_000),
    cap_mb=st.sampled_from([0.01, 0.1, 1.0]),
)
def test_compressed_bombs_stop_at_the_caps(line: bytes, count: int, cap_lines: int, cap_mb: float) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bomb.jsonl.gz"
        gzip_lines(path, line, count, level=1)
        numbers = 0
        try:
            for chunk in jsonl_chunks(path, 1 << 20, max_lines=cap_lines,
                                      max_unpacked=int(cap_mb * 1048576)):
                numbers += sum(1 for _ in chunk.lines())
        except JsonlCapReached as exc:
            assert "corpus.max_records" in str(exc) or "corpus.max_decompressed_mb" in str(exc)
        assert numbers <= min(count, cap_lines)
        if count <= cap_lines and len(line) * count <= cap_mb * 1048576:
            assert numbers == count  # under both caps: every line is read
