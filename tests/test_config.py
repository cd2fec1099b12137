"""Config loading: one located line per mistake; hostile files fail fast and cleanly."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from briefgen.cli import cli
from briefgen.config.jsonschema import config_json_schema, topic_json_schema
from briefgen.config.load import load_config
from briefgen.config.schema import LoadedConfig, Topic
from briefgen.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def problems_of(path: Path, **kwargs: object) -> list[str]:
    """Return the problem lines ``load_config`` raises for ``path``."""
    with pytest.raises(ConfigError) as info:
        load_config(path, **kwargs)  # type: ignore[arg-type]
    return info.value.problems


def only_problem(name: str) -> str:
    """Return the single problem of tests/data/<name>, with the file name replaced by 'F'."""
    path = DATA / name
    problems = problems_of(path)
    assert len(problems) == 1, problems
    return problems[0].replace(str(path), "F", 1)


# --- one test per mistake class, each pinning the exact file:line:col: path: prefix -----------


def test_syntax_error_has_the_parsers_position() -> None:
    assert only_problem("config_syntax_error.yaml").startswith("F:7:7: YAML syntax error: ")


def test_tab_indentation_says_use_spaces() -> None:
    assert (
        only_problem("config_tab_indent.yaml")
        == "F:2:1: YAML syntax error: a tab character; indent with spaces"
    )


def test_over_indented_key_is_named_in_plain_english() -> None:
    # PyYAML: "mapping values are not allowed here"
    assert only_problem("config_over_indented_key.yaml") == (
        'F:3:5: YAML indentation: "metadata:" is indented 4 spaces, but the other keys under '
        '"corpus:" are indented 2 spaces ("path:", line 2); line it up with them'
    )


def test_under_indented_key_is_named_in_plain_english() -> None:
    # PyYAML: "expected <block end>, but found '<block mapping start>'"
    assert only_problem("config_under_indented_key.yaml") == (
        'F:8:4: YAML indentation: "topics:" is indented 3 spaces, but the other keys under '
        '"daily:" are indented 4 spaces ("title:", line 7); line it up with them'
    )


def test_indentation_points_at_the_odd_line_not_the_line_below() -> None:
    # PyYAML reports line 3; the line indented unlike its siblings (and the rest of the file,
    # which indents by 2) is line 2.
    assert only_problem("config_first_key_over_indented.yaml") == (
        'F:2:5: YAML indentation: "path:" is indented 4 spaces, but the other keys under '
        '"corpus:" are indented 2 spaces ("metadata:", line 3); line it up with them'
    )


def test_an_indented_top_level_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("corpus:\n  path: seeds\n output:\n  dir: briefs\n", "utf-8")
    assert problems_of(path) == [
        (f'{path}:3:2: YAML indentation: "output:" is indented 1 space, but the other top-level '
        'keys are at the left margin ("corpus:", line 1); line it up with them')
    ]


def test_a_colon_inside_a_value_says_quote_it() -> None:
    assert only_problem("config_colon_in_value.yaml") == (
        "F:3:17: YAML syntax error: a second ': ' on this line; put the value in quotes, "
        'e.g. title: "Trade: the outlook"'
    )


@pytest.mark.parametrize("indent", [3, 5])
def test_a_mis_indented_line_of_the_shipped_config_is_found(tmp_path: Path, indent: int) -> None:
    lines = (ROOT / "config.yaml").read_text("utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.startswith("    max_passages: 6"))
    lines[number] = " " * indent + lines[number].lstrip()
    path = tmp_path / "config.yaml"
    path.write_text("".join(lines), "utf-8")
    assert problems_of(path) == [
        (f'{path}:{number + 1}:{indent + 1}: YAML indentation: "max_passages:" is indented '
        f'{indent} spaces, but the other keys under "security:" are indented 4 spaces '
        f'("min_score:", line {number}); line it up with them')
    ]


def test_duplicate_key_reports_second_occurrence_and_first() -> None:
    message = only_problem("config_duplicate_key.yaml")
    assert message.startswith(
        "F:7:7: topics.trade.terms.tariff: duplicate key; first defined at line 5, column 7"
    )


def test_unknown_key_suggests_the_close_one() -> None:
    assert only_problem("config_unknown_key.yaml") == (
        "F:5:5: topics.trade.max_pasages: unknown key 'max_pasages'; did you mean 'max_passages'?"
    )


def test_wrong_types_in_plain_english() -> None:
    problems = [
        p.replace(str(DATA / "config_wrong_type.yaml"), "F")
        for p in problems_of(DATA / "config_wrong_type.yaml")
    ]
    assert problems == [
        'F:5:19: topics.trade.max_passages: must be a positive integer (got "six")',
        "F:6:16: topics.trade.min_score: must be a positive number or 0 (got -1)",
    ]


def test_unquoted_time_is_not_read_as_base_60() -> None:
    assert only_problem("config_unquoted_time.yaml") == (
        'F:8:15: briefs.morning.subtitle: looks like a time; quote it: "7:30"'
    )


def test_empty_topic() -> None:
    assert only_problem("config_empty_topic.yaml").startswith(
        "F:5:3: topics.energy.terms: the topic has no terms"
    )


def test_brief_naming_a_missing_topic() -> None:
    assert only_problem("config_unknown_topic.yaml") == (
        "F:8:24: briefs.daily.topics[1]: unknown topic 'securty'; did you mean 'security'?"
    )


def test_default_brief_naming_a_missing_brief() -> None:
    assert only_problem("config_missing_default_brief.yaml") == (
        "F:9:16: default_brief: no brief is named 'dialy'; did you mean 'daily'?"
    )


def test_invalid_cron_expression() -> None:
    assert only_problem("config_bad_cron.yaml").startswith("F:10:13: briefs.daily.schedule.cron: ")


def test_unknown_time_zone() -> None:
    message = only_problem("config_bad_timezone.yaml")
    assert message.startswith(
        "F:11:17: briefs.daily.schedule.timezone: unknown time zone 'Asia/Tokio'"
    )


def test_weight_that_is_not_a_number() -> None:
    assert only_problem("config_bad_weight.yaml") == (
        'F:6:19: topics.security.terms.deterrence: must be a positive number (got "high")'
    )


def test_terms_as_a_list_weigh_one_each() -> None:
    cfg = load_config(DATA / "config_terms_list.yaml")
    assert cfg.topics["security"].terms == {"defence": 1.0, "deterrence": 1.0, "armed forces": 1.0}
    assert cfg.topics["trade"].terms == {"tariff": 3.0, "exports": 1.0}


def test_top_level_must_be_a_mapping() -> None:
    assert only_problem("config_not_mapping.yaml").startswith("F:1:1: the file must be a mapping")


def test_empty_file() -> None:
    assert only_problem("config_empty.yaml") == "F: file is empty"


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    path = DATA / "config_many_problems.yaml"
    prefixes = [p.replace(str(path), "F").split(": ")[0:2] for p in problems_of(path)]
    assert prefixes == [
        ["F:3:16", "corpus.max_file_mb"],
        ["F:8:5", "topics.trade.max_pasages"],
        ["F:12:21", "briefs.daily.topics[1]"],
        ["F:13:19", "briefs.daily.formats[1]"],
    ]


def test_missing_config_suggests_init(tmp_path: Path) -> None:
    problems = problems_of(tmp_path / "config.yaml")
    expected = (
        f"{tmp_path / 'config.yaml'}: not found; create a starter project with "
        "`briefgen init`, or point to one with --config"
    )
    assert problems == [expected]


def test_missing_required_key_points_at_its_parent(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("topics:\n  trade:\n    terms: [tariff]\n", "utf-8")
    assert problems_of(path) == [f"{path}:2:3: topics.trade: missing required key 'title'"]


def test_yaml_booleans_and_numbers_are_not_text(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("topics:\n  t:\n    title: no\n    terms: [x]\n", "utf-8")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{path}:3:12: topics.t.title: must be text; put the value in quotes")


def test_keys_stay_text_even_when_yaml_would_read_them_as_bool(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("topics:\n  t:\n    title: T\n    terms: {no: 1, 2024: 2, on: 1}\n", "utf-8")
    assert load_config(path).topics["t"].terms == {"no": 1.0, "2024": 2.0, "on": 1.0}


def test_merge_keys_and_aliases_are_allowed(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "topics:\n  a: &base\n    title: A\n    terms: [x]\n    max_passages: 3\n"
        "  b:\n    <<: *base\n    title: B\n    max_pasages: 2\n",
        "utf-8",
    )
    assert problems_of(path) == [
        f"{path}:9:5: topics.b.max_pasages: unknown key 'max_pasages'; did you mean 'max_passages'?"
    ]
    path.write_text(path.read_text("utf-8").replace("max_pasages", "max_per_source"), "utf-8")
    cfg = load_config(path)
    assert (
        cfg.topics["b"].title,
        cfg.topics["b"].max_passages,
        cfg.topics["b"].max_per_source,
    ) == ("B", 3, 2)


def test_a_mistake_in_a_merged_block_points_at_the_block(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "defaults: &base\n  title: A\n  terms: [x]\n  max_passages: many\n"
        "topics:\n  b:\n    <<: *base\n    title: B\n",
        "utf-8",
    )
    problems = problems_of(path)
    assert any(p.startswith(f"{path}:4:17: topics.b.max_passages: ") for p in problems), problems


def test_output_pattern_must_stay_in_the_output_folder(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "topics:\n  t: {title: T, terms: [x]}\n"
        "briefs:\n  b: {title: B, topics: [t], output: ../../etc}\n",
        "utf-8",
    )
    (problem,) = problems_of(path)
    assert problem.startswith(
        f"{path}:4:38: briefs.b.output: must be a folder inside the output folder"
    )


# --- hostile files --------------------------------------------------------------------------


def test_alias_bomb_is_refused_quickly() -> None:
    message = only_problem("config_alias_bomb.yaml")
    assert re.match(r"F:\d+:\d+: .*aliases expand to more than 10000 values", message)


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("topics: &x [1, *x]\n", "utf-8")
    assert problems_of(path) == [
        f"{path}:1:9: topics[1]: an alias refers to a block that contains it"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 5000 + "]" * 5000 + "\n",
        "a:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 300)),
    ],
)
def test_absurd_nesting_fails_without_recursion_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, "utf-8")
    (problem,) = problems_of(path)
    assert re.match(re.escape(str(path)) + r":\d+:\d+: nested more than 50 levels deep", problem)


def test_oversized_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    with path.open("wb") as fh:  # sparse: 50 MB on paper, nothing on disk
        fh.truncate(50_000_000)
    assert problems_of(path) == [
        f"{path}: file is too large (50.0 MB); config and topic files are limited to 1 MB"
    ]


def test_non_utf8_bytes_are_located(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"corpus:\n  path: caf\xe9\n")
    assert problems_of(path) == [
        f"{path}:2:12: not valid UTF-8 (byte 0xe9); save the file as UTF-8"
    ]


def test_control_characters_are_located(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("corpus:\n  path: a\x00b\n", "utf-8")
    assert problems_of(path) == [f"{path}:2:10: character U+0000 is not allowed in YAML"]


# --- topics from files ----------------------------------------------------------------------

ENERGY = "title: Energy\nterms:\n  LNG: 3\n  oil: 1\n"


def test_shipped_config_validates() -> None:
    cfg = load_config(ROOT / "config.yaml")
    assert isinstance(cfg, LoadedConfig)
    assert {"security", "trade", "china", "korea"} <= set(cfg.topics)
    assert cfg.root == ROOT and cfg.path == ROOT / "config.yaml"


def test_topic_file_option_adds_a_topic_without_touching_config(
    project: Path, tmp_path: Path
) -> None:
    before = (project / "config.yaml").read_bytes()
    energy = tmp_path / "energy.yaml"
    energy.write_text(ENERGY, "utf-8")
    cfg = load_config(project / "config.yaml", topic_files=[energy])
    assert cfg.topics["energy"] == Topic(title="Energy", terms={"LNG": 3, "oil": 1})
    assert cfg.topic_sources["energy"] == energy
    assert (project / "config.yaml").read_bytes() == before


def test_topic_files_glob_is_read_and_keyed_by_stem(project: Path) -> None:
    (project / "topics").mkdir(exist_ok=True)
    (project / "topics" / "energy.yaml").write_text(ENERGY, "utf-8")
    assert load_config(project / "config.yaml").topics["energy"].title == "Energy"


def test_topic_file_problems_name_the_topic_file(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("topic_files: [extra/*.yaml]\n", "utf-8")
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "energy.yaml").write_text(
        "title: Energy\nterms: {LNG: 3}\nmax_passages: 0\n", "utf-8"
    )
    assert problems_of(tmp_path / "config.yaml") == [
        f"{tmp_path / 'extra' / 'energy.yaml'}:3:15: topics.energy.max_passages: must be a positive integer (got 0)"
    ]


def test_topic_key_clash_names_both_files(project: Path, tmp_path: Path) -> None:
    clash = tmp_path / "trade.yaml"
    clash.write_text(ENERGY, "utf-8")
    (problem,) = problems_of(project / "config.yaml", topic_files=[clash])
    assert problem.startswith(
        f"{clash}:1:1: topics.trade: topic 'trade' is already defined in {project / 'config.yaml'}:"
    )


def test_topic_file_wrapped_under_its_name_gets_a_hint(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("topic_files: []\n", "utf-8")
    wrapped = tmp_path / "energy.yaml"
    wrapped.write_text("energy:\n  title: Energy\n  terms: [oil]\n", "utf-8")
    (problem,) = problems_of(tmp_path / "config.yaml", topic_files=[wrapped])
    assert problem.startswith(
        f"{wrapped}:1:1: topics.energy: write the topic's settings at the top level"
    )


def test_missing_topic_file(project: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert problems_of(project / "config.yaml", topic_files=[missing]) == [
        f"{missing}: topic file not found"
    ]


# --- schema and docs ------------------------------------------------------------------------


def _properties(schema: dict) -> list[tuple[str, dict]]:
    found = list(schema.get("properties", {}).items())
    for definition in schema.get("$defs", {}).values():
        found += list(definition.get("properties", {}).items())
    return found


def test_json_schema_describes_every_field() -> None:
    schema = config_json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["title"] == "briefgen config.yaml"
    assert schema["additionalProperties"] is False
    for name, prop in _properties(schema) + _properties(topic_json_schema()):
        assert prop.get("description"), f"field {name} has no description"
    terms = schema["$defs"]["Topic"]["properties"]["terms"]
    assert {alt.get("type") for alt in terms["anyOf"]} == {"object", "array"}


def test_docs_mention_every_field() -> None:
    docs = (ROOT / "docs" / "config.md").read_text("utf-8")
    for name, _ in _properties(config_json_schema()):
        assert f"`{name}`" in docs, f"docs/config.md does not document `{name}`"


# --- the command line -----------------------------------------------------------------------


def test_cli_validate_ok_prints_summary(project: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", "-c", str(project / "config.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"{project / 'config.yaml'}: ok"
    assert "security, trade, china, korea" in result.stdout


def test_cli_validate_prints_only_problem_lines_and_exits_2() -> None:
    path = DATA / "config_many_problems.yaml"
    result = CliRunner().invoke(cli, ["validate", "-c", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    # validate also checks that the corpus folder exists (tests/data has no seeds/ folder)
    assert result.stderr.splitlines() == [
        (f"{path}:2:9: corpus.path: seeds does not exist ({DATA / 'seeds'}); create it and put "
         "articles in it, or point corpus.path at the folder (or .jsonl file) that holds them"),
        *problems_of(path),
    ]


def test_validate_reports_a_corpus_path_that_does_not_exist(project: Path) -> None:
    config = project / "config.yaml"
    config.write_text(config.read_text("utf-8").replace("path: seeds ", "path: seedz ", 1), "utf-8")
    result = CliRunner().invoke(cli, ["validate", "-c", str(config)])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        (f"{config}:5:9: corpus.path: seedz does not exist ({project / 'seedz'}); create it and "
         "put articles in it, or point corpus.path at the folder (or .jsonl file) that holds them")
    ]


def test_cli_schema_prints_json() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == config_json_schema()


def test_real_process_shows_no_traceback_for_a_config_mistake() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "briefgen", "validate", "-c", str(DATA / "config_alias_bomb.yaml")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


# --- anything at all: a clean ConfigError or success ----------------------------------------

YAMLISH = st.lists(
    st.sampled_from(
        [
            "corpus:",
            "topics:",
            "briefs:",
            "title:",
            "terms:",
            "max_passages:",
            "schedule:",
            "cron:",
            "timezone:",
            "default_brief:",
            "topic_files:",
            "formats:",
            "  ",
            "    ",
            "\n",
            "\t",
            "- ",
            ": ",
            "[",
            "]",
            "{",
            "}",
            ",",
            "&a ",
            "*a",
            "<<: *a",
            "7:30",
            "1:2:3",
            "'q'",
            '"x',
            "!!binary ",
            "!tag ",
            "~",
            "yes",
            "-1",
            "1e999",
            ".nan",
            "2025-13-45",
            "0x_",
            "security",
            "trade",
            "#",
            "---",
            "...",
            "?",
            "|",
            ">",
            "%YAML 1.1",
            "\x85",
            "\ufeff",
            "é",
        ]
    ),
    max_size=40,
).map("".join)


def _assert_clean(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.yaml"
        path.write_bytes(data)
        try:
            assert isinstance(load_config(path), LoadedConfig)
        except ConfigError as exc:
            assert exc.problems
            for line in exc.problems:
                assert re.match(re.escape(str(path)) + r"(:\d+:\d+)?: \S", line), line
                assert "internal" not in line and "\n" not in line, line


@given(YAMLISH)
def test_yamlish_text_gives_config_error_or_success(text: str) -> None:
    _assert_clean(text.encode("utf-8"))


@given(st.text(max_size=200))
def test_arbitrary_text_gives_config_error_or_success(text: str) -> None:
    _assert_clean(text.encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=200))
def test_arbitrary_bytes_give_config_error_or_success(data: bytes) -> None:
    _assert_clean(data)


KEYS = st.sampled_from(
    [
        "corpus",
        "index",
        "output",
        "topics",
        "topic_files",
        "briefs",
        "default_brief",
        "path",
        "metadata",
        "include",
        "max_file_mb",
        "dir",
        "title",
        "terms",
        "require",
        "exclude",
        "min_score",
        "max_passages",
        "date_from",
        "schedule",
        "cron",
        "timezone",
        "lateness_hours",
        "formats",
        "paper",
        "output",
        "keep",
        "trade",
        "security",
        "daily",
        "x y",
        "",
        "no",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 10**20)
    | st.floats()
    | st.dates()
    | st.sampled_from(["md", "pdf", "A4", "0 7 * * 1-5", "Asia/Tokyo", "{brief}", "../x", "trade"])
    | st.text(max_size=8)
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=30,
)


@given(st.dictionaries(KEYS, DOCUMENTS, max_size=6))
def test_generated_documents_give_config_error_or_success(document: dict) -> None:
    _assert_clean(yaml.safe_dump(document, allow_unicode=True).encode("utf-8"))


def test_a_flood_of_problems_is_capped(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("".join(f"unknown_{i}: 1\n" for i in range(150)), "utf-8")
    problems = problems_of(path)
    assert len(problems) == 101
    assert problems[-1] == f"{path}: ... and 50 more problems"


def test_unquoted_placeholder_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "topics:\n  t: {title: T, terms: [x]}\nbriefs:\n  b:\n    title: B\n    topics: [t]\n"
        "    output: {brief}\n",
        "utf-8",
    )
    assert problems_of(path) == [f'{path}:7:13: briefs.b.output: must be text; quote it: "{{brief}}"']


# --- more hostile files (issue 7) -----------------------------------------------------------

SHIPPED = (ROOT / "config.yaml").read_bytes()


@st.composite
def mutated_config(draw: st.DrawFn) -> bytes:
    """The shipped config.yaml with a few byte ranges deleted, duplicated or replaced."""
    data = bytearray(SHIPPED)
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(data)))
        end = min(len(data), start + draw(st.integers(0, 40)))
        action = draw(st.sampled_from(["delete", "duplicate", "replace"]))
        if action == "delete":
            del data[start:end]
        elif action == "duplicate":
            data[start:start] = data[start:end]
        else:
            data[start:end] = draw(st.binary(max_size=8) | st.sampled_from(
                [b":", b"- ", b"  ", b"\t", b"&a", b"*a", b"[", b"{", b"'", b'"', b"\n", b"#", b"!!"]
            ))
    return bytes(data)


@given(mutated_config())
def test_mutated_shipped_config_gives_config_error_or_success(data: bytes) -> None:
    _assert_clean(data)


@pytest.mark.parametrize(
    "text",
    [
        "- " * 5000 + "x\n",  # 5,000 nested block sequences on one line
        "a:\n" + "".join(" " * i + "- \n" for i in range(1, 5000)),
        "{a: " * 5000 + "}" * 5000 + "\n",
    ],
    ids=["block-sequences", "indented-sequences", "flow-mappings"],
)
def test_5000_deep_nesting_in_other_shapes_fails_cleanly(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, "utf-8")
    (problem,) = problems_of(path)
    # Indented 5,000 deep the file passes 1 MB: refused by size, before parsing.
    assert re.match(
        re.escape(str(path)) + r"(:\d+:\d+: nested more than 50 levels deep|: file is too large)", problem
    ), problem


@pytest.mark.parametrize("hostile", ["alias bomb", "deep nesting", "50 MB"])
def test_hostile_topic_file_is_refused_naming_it(project: Path, tmp_path: Path, hostile: str) -> None:
    topic = tmp_path / "energy.yaml"
    if hostile == "alias bomb":
        shutil.copy(DATA / "config_alias_bomb.yaml", topic)
    elif hostile == "deep nesting":
        topic.write_text("title: " + "[" * 5000 + "]" * 5000 + "\n", "utf-8")
    else:
        with topic.open("wb") as fh:  # a real 50 MB file this time, not a sparse one
            fh.write(b"title: Energy\nterms: [" + b"oil, " * 10_000_000 + b"gas]\n")
    problems = problems_of(project / "config.yaml", topic_files=[topic])
    assert len(problems) == 1 and problems[0].startswith(f"{topic}:"), problems


# --- the libyaml fast path reads exactly what the pure-Python path reads --------------------

def _read_both(text: str) -> tuple[object, object]:
    """Read ``text`` with the fast (libyaml) composer and with the pure-Python one."""
    from unittest import mock

    from briefgen.config import yamlread

    def read() -> object:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "c.yaml"
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
            problems: list[yamlread.Problem] = []
            try:
                doc = yamlread.read_yaml(path, "F", problems, empty_ok=True)
            except yamlread.FileFatal as exc:
                return ("fatal", exc.problem)
            return (repr(doc.data), doc.value_marks, doc.key_marks, problems)

    fast = read()
    with mock.patch.object(yamlread, "_compose_fast", side_effect=yamlread._UseSlowPath):
        slow = read()
    return fast, slow


@given(YAMLISH | mutated_config().map(lambda b: b.decode("utf-8", "replace")) | st.text(max_size=100))
def test_the_fast_composer_reads_what_the_slow_one_reads(text: str) -> None:
    fast, slow = _read_both(text)
    if fast != slow and fast[0] != "fatal" and slow[0] != "fatal" and fast[0] == slow[0]:
        # The one known difference: where an empty value that ends the text ("key:" on the
        # last line, "---") is said to be; both say the same thing about it.
        assert fast[2:] == slow[2:]
        assert {p for p, m in fast[1].items() if m != slow[1].get(p)} <= _empty_paths(text)
    else:
        assert fast == slow


def _empty_paths(text: str) -> set[tuple[object, ...]]:
    """Return the paths of the null values of a document (as the slow path reads it)."""
    from briefgen.config import yamlread

    node = yamlread._DepthLimitedLoader(text, "F").get_single_node()
    found: set[tuple[object, ...]] = set()

    def walk(n: object, path: tuple[object, ...]) -> None:
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                walk(v, (*path, k.value))
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, (*path, i))
        elif isinstance(n, yaml.ScalarNode) and n.value == "":
            found.add(path)
    walk(node, ())
    return found


def test_the_shipped_config_and_seed_metadata_read_the_same_both_ways() -> None:
    for path in (ROOT / "config.yaml", ROOT / "seeds" / "corpus.yaml"):
        fast, slow = _read_both(path.read_text(encoding="utf-8"))
        assert fast == slow and fast[0] != "fatal"
