"""The corpus metadata file (corpus.yaml): one located line per mistake, like config.yaml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefgen.cli import cli
from briefgen.config.load import validate_project
from briefgen.corpus import metadata
from briefgen.corpus.metadata import load_metadata
from briefgen.errors import ConfigError
from briefgen.models import SourceMeta

ROOT = Path(__file__).resolve().parent.parent


def problems_in(tmp_path: Path, text: str) -> list[str]:
    """Return the problem lines of a corpus.yaml holding ``text``, its path replaced by 'F'."""
    path = tmp_path / "corpus.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as info:
        load_metadata(path)
    return [line.replace(str(path), "F", 1) for line in info.value.problems]


# --- one test per mistake, each pinning the exact file:line:col: path: message ----------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        # a file name listed twice (YAML would keep only the second entry) ...
        ("a.txt:\n  title: First\nb.txt:\n  title: B\na.txt:\n  title: Second\n",
         'F:5:1: "a.txt": duplicate key; first defined at line 1, column 1'),
        # ... or a field listed twice in one entry
        ("a.txt:\n  title: First\n  title: Second\n",
         'F:3:3: "a.txt".title: duplicate key; first defined at line 2, column 3'),
    ],
)
def test_duplicate_key_names_both_lines(tmp_path: Path, text: str, where: str) -> None:
    assert problems_in(tmp_path, text) == [f"{where} (YAML would silently keep only this one)"]


@pytest.mark.parametrize(
    ("field", "hint"),
    [
        ("titel", "did you mean 'title'?"),
        ("Title", "did you mean 'title'?"),
        ("byline", "did you mean 'author'?"),  # an alias articles' own fields may use
        ("colour", "known fields: author, date, kind, outlet, title, url"),
    ],
)
def test_unknown_field_suggests_the_one_meant(tmp_path: Path, field: str, hint: str) -> None:
    text = f"a.txt:\n  outlet: ANI\n  {field}: Something\n"
    (problem,) = problems_in(tmp_path, text)
    assert problem == f"F:3:3: \"a.txt\".{field}: unknown field '{field}'; {hint}"


def test_wrong_types_in_plain_english(tmp_path: Path) -> None:
    text = (
        "a.txt:\n"
        "  title: 1984\n"
        "  outlet: [ANI, Reuters]\n"
        "  author: [Jane Doe, 42]\n"
        "  kind: yes\n"
        "b.txt: just a title\n"
    )
    assert problems_in(tmp_path, text) == [
        'F:2:10: "a.txt".title: must be text; put the value in quotes (got 1984)',
        'F:3:11: "a.txt".outlet: must be text (got a list)',
        'F:4:22: "a.txt".author[1]: must be text; put the value in quotes (got 42)',
        (
            'F:5:9: "a.txt".kind: must be text; put the value in quotes '
            "(got true, which YAML reads from yes/no/on/off/true/false)"
        ),
        (
            'F:6:8: "b.txt": must be a mapping of title, outlet, author, date, url, kind '
            '(got "just a title")'
        ),
    ]


def test_unquoted_time_is_not_read_as_base_60(tmp_path: Path) -> None:
    assert problems_in(tmp_path, "a.txt:\n  date: 7:30\n") == [
        'F:2:9: "a.txt".date: looks like a time; quote it: "7:30"'
    ]


@pytest.mark.parametrize(
    ("value", "got"),
    [
        ('"last Tuesday"', '"last Tuesday"'),
        ("2026", "2026"),
        ("2026-13-45", None),  # YAML's own date reader refuses it first
    ],
)
def test_date_that_cannot_be_read(tmp_path: Path, value: str, got: str | None) -> None:
    (problem,) = problems_in(tmp_path, f"a.txt:\n  date: {value}\n")
    if got is None:
        assert problem == (
            "F:2:9: \"a.txt\".date: '2026-13-45' is not a valid date; quote it if it is text"
        )
    else:
        assert problem == f'F:2:9: "a.txt".date: must be a date like 2025-01-31 (got {got})'


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-12",
        "2026-03-12 09:30:00",
        '"2026-03-12T09:30:00Z"',
        "20260312",
        '"12 March 2026"',
        '"Thu Mar 12, 2026 6:15pm EDT"',
    ],
)
def test_every_date_form_read_before_is_still_read(tmp_path: Path, value: str) -> None:
    path = tmp_path / "corpus.yaml"
    path.write_text(f"a.txt:\n  date: {value}\n", "utf-8")
    assert load_metadata(path)["a.txt"].date == "2026-03-12"


def test_syntax_error_has_the_parsers_position(tmp_path: Path) -> None:
    (problem,) = problems_in(tmp_path, "a.txt:\n  title: [unclosed\nb.txt:\n  title: B\n")
    assert problem.startswith("F:3:6: YAML syntax error: ")


def test_tab_indentation_says_use_spaces(tmp_path: Path) -> None:
    assert problems_in(tmp_path, "a.txt:\n\ttitle: A\n") == [
        "F:2:1: YAML syntax error: a tab character; indent with spaces"
    ]


def test_top_level_must_be_a_mapping_of_file_names(tmp_path: Path) -> None:
    (problem,) = problems_in(tmp_path, "- a.txt\n- b.txt\n")
    assert problem == (
        "F:1:1: the file must be a mapping of article file names to their metadata "
        "(title:, outlet:, ...), not a list"
    )


def test_several_problems_are_reported_at_once_in_file_order(tmp_path: Path) -> None:
    text = (
        "a.txt:\n"
        "  titel: A\n"  # 2
        "  date: 7:30\n"  # 3
        "b.txt:\n"
        "  outlet: {name: ANI}\n"  # 5
        "  kind: news\n"
        "c.txt:\n"
        "  date: soon\n"  # 8
    )
    assert problems_in(tmp_path, text) == [
        "F:2:3: \"a.txt\".titel: unknown field 'titel'; did you mean 'title'?",
        'F:3:9: "a.txt".date: looks like a time; quote it: "7:30"',
        'F:5:11: "b.txt".outlet: must be text (got a mapping)',
        'F:8:9: "c.txt".date: must be a date like 2025-01-31 (got "soon")',
    ]


# --- hostile files --------------------------------------------------------------------------


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['a.txt:\n  author: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n']
    for level in range(1, 9):
        items = ", ".join([f"*l{level - 1}"] * 8)
        lines.append(f"b{level}.txt:\n  author: &l{level} [{items}]\n")
    (problem,) = problems_in(tmp_path, "".join(lines))
    assert re.fullmatch(
        r"F:\d+:\d+: \S+: aliases expand to more than 10000 values; "
        r"refusing to read \(an alias bomb\?\)",
        problem,
    )


def test_a_large_file_may_reuse_an_anchor_in_every_entry(tmp_path: Path) -> None:
    # 6,000 entries x (mapping + 2 values) reached again = 18,000 reused values, over the
    # fixed 10,000 a small file gets, but linear in the file's size: not a bomb.
    lines = ["defaults.txt: &d\n  outlet: Reuters\n  kind: news\n"]
    lines += [f"a{i}.txt:\n  <<: *d\n  title: Story {i}\n" for i in range(6000)]
    path = tmp_path / "corpus.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    entries = load_metadata(path)
    assert entries["a5999.txt"] == SourceMeta(title="Story 5999", outlet="Reuters", kind="news")


@pytest.mark.parametrize(
    "text",
    [
        "a.txt:\n  title: " + "[" * 5000 + "]" * 5000 + "\n",
        "a.txt:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 300)),
    ],
)
def test_absurd_nesting_is_refused_without_recursion_error(tmp_path: Path, text: str) -> None:
    (problem,) = problems_in(tmp_path, text)
    assert re.fullmatch(r"F:\d+:\d+: nested more than 50 levels deep; refusing to read", problem)


def test_oversized_file_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metadata, "MAX_METADATA_BYTES", 2_000_000)
    path = tmp_path / "corpus.yaml"
    with path.open("wb") as fh:  # sparse: 3 MB on paper, nothing on disk
        fh.truncate(3_000_000)
    with pytest.raises(ConfigError) as info:
        load_metadata(path)
    assert info.value.problems == [
        f"{path}: file is too large (3.0 MB); corpus metadata files are limited to 2 MB"
    ]


def test_metadata_file_may_be_larger_than_a_config_file(tmp_path: Path) -> None:
    path = tmp_path / "corpus.yaml"
    path.write_text("# a comment line of a hundred characters ......\n" * 30_000, "utf-8")
    assert path.stat().st_size > 1_000_000  # config.yaml's cap
    assert load_metadata(path) == {}


# --- what is fine ---------------------------------------------------------------------------


def test_shipped_seeds_corpus_yaml_is_valid() -> None:
    entries = load_metadata(ROOT / "seeds" / "corpus.yaml")
    assert sorted(entries) == sorted(p.name for p in (ROOT / "seeds").glob("*.txt"))
    assert entries["001_692c35d782a7bbcb.txt"].date == "2026-03-12"
    assert entries["003_414f1652bcec3914.txt"].outlet == "ANI"


@pytest.mark.parametrize("text", ["", "# only comments\n", "a.txt:\n", "a.txt:\n  title: ''\n"])
def test_empty_file_and_empty_entries_are_fine(tmp_path: Path, text: str) -> None:
    path = tmp_path / "corpus.yaml"
    path.write_text(text, "utf-8")
    assert set(load_metadata(path).values()) <= {SourceMeta()}


def test_missing_file_means_no_metadata(tmp_path: Path) -> None:
    assert load_metadata(tmp_path / "corpus.yaml") == {}


# --- briefgen validate and index ------------------------------------------------------------


def test_validate_reports_metadata_and_config_problems_together_and_exits_2(project: Path) -> None:
    config = project / "config.yaml"
    config.write_text(
        config.read_text("utf-8").replace("max_passages: 6", "max_pasages: 6", 1), "utf-8"
    )
    corpus_yaml = project / "seeds" / "corpus.yaml"
    corpus_yaml.write_text(
        corpus_yaml.read_text("utf-8").replace("  title: null ", "  titel: null ", 1), "utf-8"
    )
    result = CliRunner().invoke(cli, ["validate", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2, lines
    assert re.fullmatch(
        re.escape(str(config)) + r":\d+:5: topics\.\w+\.max_pasages: unknown key 'max_pasages'; "
        r"did you mean 'max_passages'\?",
        lines[0],
    )
    assert lines[1] == (
        f"{corpus_yaml}:17:3: \"001_692c35d782a7bbcb.txt\".titel: unknown field 'titel'; "
        "did you mean 'title'?"
    )


def test_validate_warns_about_entries_naming_no_corpus_file(project: Path) -> None:
    corpus_yaml = project / "seeds" / "corpus.yaml"
    lines = len(corpus_yaml.read_text("utf-8").splitlines())
    with corpus_yaml.open("a", encoding="utf-8") as fh:
        fh.write("deleted.txt:\n  title: Gone\nold/moved.txt:\n  title: Moved\n")
    result = CliRunner().invoke(cli, ["validate", "-c", str(project / "config.yaml")])
    assert result.exit_code == 0, result.output
    deleted, moved = result.stderr.splitlines()
    assert deleted == (
        f'warning: {corpus_yaml}:{lines + 1}:1: "deleted.txt": '
        "no file of this name in the corpus; the entry is not used"
    )
    assert moved == (
        f'warning: {corpus_yaml}:{lines + 3}:1: "old/moved.txt": no file of this name in the '
        "corpus (entries are keyed by the file name alone, without its folder); "
        "the entry is not used"
    )
    assert result.stdout.startswith(f"{project / 'config.yaml'}: ok\n")


def test_the_shipped_project_validates_without_warnings() -> None:
    cfg, warnings = validate_project(ROOT / "config.yaml")
    assert warnings == []
    assert cfg.config.corpus.metadata == "seeds/corpus.yaml"


def test_index_stops_on_a_metadata_mistake_with_exit_2(project: Path) -> None:
    (project / "seeds" / "corpus.yaml").write_text("a.txt:\n  titel: A\n", "utf-8")
    result = CliRunner().invoke(cli, ["index", "-q", "-c", str(project / "config.yaml")])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        f"{project / 'seeds' / 'corpus.yaml'}:2:3: "
        + "\"a.txt\".titel: unknown field 'titel'; did you mean 'title'?"
    ]


def test_validate_warns_about_a_metadata_file_that_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "config.yaml").write_text(
        "corpus: {path: corpus, metadata: corpus/corpus.yml}\n"
        "topics:\n  t: {title: T, terms: [x]}\nbriefs:\n  b: {title: B, topics: [t]}\n",
        encoding="utf-8")
    _, warnings = validate_project(tmp_path / "config.yaml")
    assert warnings == [(
        "config.yaml: corpus.metadata: corpus/corpus.yml does not exist; articles get no "
        "title, outlet or date from it (set it to null if there is none)"
    )]


def test_a_checked_metadata_file_is_parsed_again_only_when_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "corpus.yaml"
    path.write_text("a.txt:\n  title: First\n", encoding="utf-8")
    cache_dir = tmp_path / ".briefgen"
    assert load_metadata(path, cache_dir)["a.txt"].title == "First"
    assert (cache_dir / metadata.METADATA_CACHE).is_file()

    parsed: list[str] = []
    real = metadata.read_metadata

    def counting(*args: object, **kwargs: object) -> object:
        parsed.append("yaml")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(metadata, "read_metadata", counting)
    metadata._load_metadata_cached.cache_clear()  # a new process
    assert load_metadata(path, cache_dir)["a.txt"].title == "First"
    assert parsed == []  # from the cache

    path.write_text("a.txt:\n  title: Second\n", encoding="utf-8")
    assert load_metadata(path, cache_dir)["a.txt"].title == "Second"
    assert parsed == ["yaml"]

    path.write_text("a.txt:\n  titel: Third\n", encoding="utf-8")  # a mistake is never cached
    with pytest.raises(ConfigError, match="did you mean 'title'"):
        load_metadata(path, cache_dir)
    metadata._load_metadata_cached.cache_clear()
    with pytest.raises(ConfigError):
        load_metadata(path, cache_dir)


def test_a_broken_or_unwritable_cache_only_costs_a_parse(tmp_path: Path) -> None:
    path = tmp_path / "corpus.yaml"
    path.write_text("a.txt:\n  outlet: Reuters\n", encoding="utf-8")
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / metadata.METADATA_CACHE).write_text("{not json", encoding="utf-8")
    assert load_metadata(path, cache_dir)["a.txt"].outlet == "Reuters"
    metadata._load_metadata_cached.cache_clear()
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("", encoding="utf-8")
    assert load_metadata(path, blocked)["a.txt"].outlet == "Reuters"  # cannot write: still read
