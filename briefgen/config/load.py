"""Load config.yaml and topic files into a validated ``LoadedConfig``.

Every problem is collected before anything is raised, so the user sees them all at once,
one per line, as ``file:line:col: dotted.path: message`` (``yamlread`` keeps the positions,
the pydantic models in ``config`` say what is valid, this module says it in plain English).
``validate_project`` checks the corpus metadata file (``metadata``) along with them.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from briefgen.config.checks import attach_problems
from briefgen.config.folders import output_collisions
from briefgen.config.problems import (
    describe_value,
    did_you_mean,
    kind_of,
    raise_problems,
    wrong_type,
)
from briefgen.config.schema import Config, CorpusSettings, LoadedConfig, Topic
from briefgen.config.yamlread import FileFatal, Problem, YamlDoc, YamlPath, read_yaml
from briefgen.corpus.metadata import CorpusMetadata, read_metadata, unused_entries
from briefgen.errors import ConfigError

DEFAULT_CONFIG = Path("config.yaml")
_NAME = re.compile(r"^\w[\w.-]*$")


@dataclass
class _TopicSource:
    """Where one topic is defined: a file and the topic's position inside it."""

    doc: YamlDoc
    file: Path
    at: YamlPath  # ("topics", key) for an inline topic, () for a topic file
    reported: bool = False  # the whole topic is already reported as malformed

    @property
    def raw(self) -> Any:
        data = self.doc.data
        for part in self.at:
            data = data.get(part) if isinstance(data, dict) else None
        return data


def load_config(
    path: Path | str | None = None, *, topic_files: Sequence[Path] = ()
) -> LoadedConfig:
    """Load, merge and validate the configuration; raise ``ConfigError`` listing every problem.

    ``path`` defaults to ./config.yaml; its folder is the project root. Topics come from the
    config's ``topics:``, the files its ``topic_files`` globs match and ``topic_files`` (one
    topic per file, keyed by file stem).
    """
    return _load(path, topic_files, check_metadata=False)[0]


def validate_project(
    path: Path | str | None = None, *, topic_files: Sequence[Path] = ()
) -> tuple[LoadedConfig, list[str]]:
    """Check the configuration, corpus folder and metadata file, as ``briefgen validate`` does.

    Raises ``ConfigError`` listing the problems of every file at once (a ``corpus.path`` that
    does not exist is one of them); returns the config and
    warnings: a metadata file that does not exist, or entries in it that name no file of the
    corpus (articles come and go).
    """
    cfg, metadata = _load(path, topic_files, check_metadata=True)
    meta_setting = cfg.config.corpus.metadata
    if meta_setting and not cfg.resolve(meta_setting).exists():
        missing = (
            f"{cfg.path.name}: corpus.metadata: {meta_setting} does not exist; articles get "
            "no title, outlet or date from it (set it to null if there is none)"
        )
        return cfg, [missing]
    if metadata is None:
        return cfg, []
    from briefgen.corpus.files import corpus_file_names

    return cfg, unused_entries(metadata, corpus_file_names(cfg))


def _load(
    path: Path | str | None, topic_files: Sequence[Path], *, check_metadata: bool
) -> tuple[LoadedConfig, CorpusMetadata | None]:
    """Load the configuration and, if ``check_metadata``, check the corpus folder and read the
    corpus metadata file too."""
    config_path = Path(path) if path is not None else DEFAULT_CONFIG
    shown = str(config_path)
    if not config_path.exists():
        raise ConfigError(
            f"{shown}: not found; create a starter project with `briefgen init`, "
            "or point to one with --config"
        )
    problems: list[Problem] = []
    try:
        doc = read_yaml(config_path, shown, problems)
    except FileFatal as exc:
        raise ConfigError(exc.problem.format()) from None
    if not isinstance(doc.data, dict):
        problems.append(
            doc.problem(
                (),
                "the file must be a mapping of settings (corpus:, topics:, "
                f"briefs:, ...), not {kind_of(doc.data)}",
            )
        )
        raise_problems(problems, [shown])
    data: dict[str, Any] = doc.data

    config = _validate(Config, data, doc, (), problems)
    sources: dict[str, _TopicSource] = {}
    if isinstance(data.get("topics"), dict):
        for key in data["topics"]:
            sources[key] = _TopicSource(doc, config_path, ("topics", key))
    files = _topic_file_paths(data, config_path.parent, list(topic_files), problems)
    topic_models: dict[str, Topic | None] = {}
    for file in files:
        _load_topic_file(file, sources, topic_models, problems)

    _check_topics(sources, problems)
    _check_briefs(data, doc, set(sources), problems)
    if check_metadata:
        _check_corpus_path(data, doc, config_path.parent, problems)
    if config is not None:  # folders two briefs, or two runs of one schedule, would share
        problems += [doc.problem(at, message) for at, message in output_collisions(config.briefs)]
    metadata_path = _metadata_path(data, config_path.parent) if check_metadata else None
    metadata = None
    shown_files = [shown] + [str(f) for f in files]
    if metadata_path is not None and metadata_path.exists():
        metadata = read_metadata(metadata_path, str(metadata_path), problems)
        shown_files.append(metadata.shown)
    raise_problems(problems, shown_files)

    assert config is not None
    topics: dict[str, Topic] = dict(config.topics)
    topics.update({k: t for k, t in topic_models.items() if t is not None})
    loaded = LoadedConfig(
        config=config,
        path=Path(os.path.abspath(config_path)),
        root=Path(os.path.abspath(config_path.parent)),
        topics=topics,
        topic_sources={k: Path(os.path.abspath(s.file)) for k, s in sources.items()},
    )
    return loaded, metadata


def _check_corpus_path(
    data: dict[str, Any], doc: YamlDoc, root: Path, problems: list[Problem]
) -> None:
    """Report a ``corpus.path`` naming nothing on disk (index and build would stop there)."""
    corpus = data.get("corpus", {})
    setting = corpus.get("path", CorpusSettings().path) if isinstance(corpus, dict) else None
    if isinstance(setting, str) and setting.strip() and not (root / setting).exists():
        problems.append(doc.problem(("corpus", "path"), (
            f"{setting} does not exist ({os.path.abspath(root / setting)}); create it and put "
            "articles in it, or point corpus.path at the folder (or .jsonl file) that holds them"
        )))


def _metadata_path(data: dict[str, Any], root: Path) -> Path | None:
    """Return the corpus metadata file the config names (None if none, or if that is invalid)."""
    corpus = data.get("corpus", {})
    if not isinstance(corpus, dict):
        return None
    name = corpus.get("metadata", CorpusSettings.model_fields["metadata"].default)
    return root / name if isinstance(name, str) and name.strip() else None


def _topic_file_paths(
    data: dict[str, Any], root: Path, explicit: list[Path], problems: list[Problem]
) -> list[Path]:
    """Return the topic files to read: the config's globs (sorted), then --topic-file ones."""
    patterns = data.get(
        "topic_files", Config.model_fields["topic_files"].get_default(call_default_factory=True)
    )
    found: list[Path] = []
    if isinstance(patterns, list):
        for pattern in patterns:
            if not isinstance(pattern, str) or not pattern.strip():
                continue  # reported by the schema
            try:
                matches = sorted(glob.glob(os.path.join(str(root), pattern), recursive=True))
            except (OSError, ValueError):
                continue  # an unsearchable pattern matches nothing, as in a shell
            found.extend(Path(m) for m in matches if os.path.isfile(m))
    for path in explicit:
        if not Path(path).exists():
            problems.append(Problem(str(path), 0, 0, (), "topic file not found"))
        else:
            found.append(Path(path))
    unique: dict[str, Path] = {}
    for path in found:  # a file matched twice (two globs, or a glob and --topic-file) is one file
        unique.setdefault(os.path.realpath(path), path)
    return list(unique.values())


def _load_topic_file(
    file: Path,
    sources: dict[str, _TopicSource],
    models: dict[str, Topic | None],
    problems: list[Problem],
) -> None:
    """Read one topic file (key = file stem), checking its name and clashes with other topics."""
    shown = str(file)
    key = file.stem
    if not _NAME.match(key):
        problems.append(Problem(shown, 0, 0, (), (
            f"the file name {key!r} becomes the topic's key; "
            "use letters, digits, '-', '_' and '.' only"
        )))
        return
    if key in sources:
        other = sources[key]
        line, col = other.doc.mark(other.at, key=True)
        where = f"{other.doc.file}:{line}:{col}" if other.at else other.doc.file
        problems.append(Problem(shown, 1, 1, ("topics", key), (
            f"topic '{key}' is already defined in {where}; rename one of them"
        )))
        return
    try:
        doc = read_yaml(file, shown, problems)
    except FileFatal as exc:
        problems.append(exc.problem)
        return
    sources[key] = _TopicSource(doc, file, ())
    if not isinstance(doc.data, dict):
        problems.append(
            doc.problem(
                (),
                "a topic file holds one topic: a mapping with title:, "
                f"terms: and so on, not {kind_of(doc.data)}",
                shown=("topics", key),
            )
        )
        models[key] = None
        return
    if len(doc.data) == 1:
        ((only, value),) = doc.data.items()
        if only not in Topic.model_fields and isinstance(value, dict) and "title" in value:
            problems.append(
                doc.problem(
                    (only,),
                    f"write the topic's settings at the top level, without "
                    f"'{only}:' (the topic's key is the file name, '{key}')",
                    key=True,
                    shown=("topics", key),
                )
            )
            sources[key].reported = True
            models[key] = None
            return
    models[key] = _validate(Topic, doc.data, doc, ("topics", key), problems)


def _check_topics(sources: dict[str, _TopicSource], problems: list[Problem]) -> None:
    """Report topics without terms, empty terms and inverted date windows."""
    for key, src in sources.items():
        raw = src.raw
        if not isinstance(raw, dict) or src.reported:
            continue
        shown = ("topics", key)
        terms = raw.get("terms")
        if "terms" not in raw or terms == {} or terms == []:
            where = (*src.at, "terms") if "terms" in raw else src.at
            problems.append(
                src.doc.problem(
                    where,
                    "the topic has no terms; list the words and phrases "
                    "that make a passage relevant",
                    key=True,
                    shown=(*shown, "terms"),
                )
            )
        elif isinstance(terms, dict):
            for term in terms:
                if not term.strip():
                    problems.append(
                        src.doc.problem(
                            (*src.at, "terms", term),
                            "a term cannot be empty",
                            key=True,
                            shown=(*shown, "terms", term),
                        )
                    )
        start, end = raw.get("date_from"), raw.get("date_to")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and start > end:
            problems.append(
                src.doc.problem(
                    (*src.at, "date_to"),
                    f"is before date_from ({start})",
                    shown=(*shown, "date_to"),
                )
            )


def _check_briefs(
    data: dict[str, Any], doc: YamlDoc, topic_keys: set[str], problems: list[Problem]
) -> None:
    """Report briefs naming unknown topics or attaching what they do not write, and a
    default_brief naming no brief."""
    briefs = data.get("briefs")
    briefs = briefs if isinstance(briefs, dict) else {}
    for name, spec in briefs.items():
        if isinstance(spec, dict):
            problems.extend(attach_problems(doc, name, spec))
        listed = spec.get("topics") if isinstance(spec, dict) else None
        if not isinstance(listed, list):
            continue
        seen: set[str] = set()
        for i, topic in enumerate(listed):
            path = ("briefs", name, "topics", i)
            if not isinstance(topic, str):
                continue
            if topic in seen:
                problems.append(doc.problem(path, f"topic '{topic}' is listed twice"))
            elif topic not in topic_keys:
                problems.append(
                    doc.problem(
                        path, f"unknown topic '{topic}'{did_you_mean(topic, topic_keys, 'topics')}"
                    )
                )
            seen.add(topic)
    default = data.get("default_brief")
    if isinstance(default, str) and default not in briefs:
        problems.append(
            doc.problem(
                ("default_brief",),
                f"no brief is named '{default}'{did_you_mean(default, set(briefs), 'briefs')}",
            )
        )


# --- pydantic errors in plain English -------------------------------------------------------


def _validate(
    model: type[BaseModel], data: Any, doc: YamlDoc, shown: YamlPath, problems: list[Problem]
) -> Any:
    """Validate ``data`` as ``model``; append a located problem per error; return the model or None."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            if loc in doc.flagged:
                continue  # already reported where it was read (e.g. an unquoted time)
            problems.append(_problem_for(err, loc, model, doc, shown))
        return None


def _problem_for(
    err: Any, loc: YamlPath, model: type[BaseModel], doc: YamlDoc, shown: YamlPath
) -> Problem:
    """Turn one pydantic error into a problem at the offending key or value."""
    kind: str = err["type"]
    if "[key]" in loc:
        at = loc[: loc.index("[key]")]
        return doc.problem(
            at,
            "a name may use letters, digits, '-', '_' and '.' (not first) only",
            key=True,
            shown=shown + at,
        )
    if kind == "extra_forbidden":
        key = str(loc[-1])
        fields = _fields_at(model, loc[:-1])
        hint = did_you_mean(key, fields, "keys") if fields else ""
        return doc.problem(loc, f"unknown key '{key}'{hint}", key=True, shown=shown + loc)
    if kind == "missing":
        parent = loc[:-1]
        return doc.problem(
            parent, f"missing required key '{loc[-1]}'", key=True, shown=shown + parent
        )
    if kind in ("value_error", "assertion_error"):
        message = re.sub(r"^(Value|Assertion) error, ", "", err["msg"])
        return doc.problem(loc, message, shown=shown + loc)
    if kind in ("too_short", "string_too_short"):
        return doc.problem(loc, "must not be empty", shown=shown + loc)
    expected = _type_at(model, loc)
    value = err.get("input")
    if expected is None:
        message = err["msg"][0].lower() + err["msg"][1:]
        return doc.problem(loc, f"{message} (got {describe_value(value)})", shown=shown + loc)
    return doc.problem(loc, wrong_type(*expected, value), shown=shown + loc)


def _type_at(model: type[BaseModel], loc: YamlPath) -> tuple[Any, list[Any]] | None:
    """Return the declared type and constraints at ``loc`` inside ``model`` (None if unknown)."""
    tp: Any = model
    meta: list[Any] = []
    for part in loc:
        tp, more = _unwrap(tp)
        meta = meta + more
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp, meta = field.annotation, list(field.metadata)
        elif get_origin(tp) in (dict, list):
            tp, meta = get_args(tp)[-1], []
        else:
            return None
    tp, more = _unwrap(tp)
    return tp, meta + more


def _unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """Strip ``Optional`` and ``Annotated`` from a type, returning the constraints they carried."""
    meta: list[Any] = []
    while True:
        if hasattr(tp, "__metadata__"):  # Annotated[...]
            for m in tp.__metadata__:
                meta.extend(m.metadata if isinstance(m, FieldInfo) else [m])
            tp = tp.__origin__
        elif get_origin(tp) in (Union, type(int | None)):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp, meta
            tp = args[0]
        else:
            return tp, meta


def _fields_at(model: type[BaseModel], loc: YamlPath) -> list[str]:
    """Return the keys allowed in the mapping at ``loc`` (empty if it is not a model)."""
    found = _type_at(model, loc)
    tp = found[0] if found else None
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []
