"""``briefgen init``: write a working starter project into a folder.

The files come from ``starter/project/`` inside the package: templates/ is copied from the
repository's own by ``scripts/sync_starter.py``; config.yaml, README.md, topics/example.yaml
and corpus/README are written by hand, a neutral project (one brief, ``daily``, of three
general topics; no schedule until the user uncomments one). The JSON Schemas are generated
from the installed models, so editors autocomplete exactly what this version accepts.
"""

from __future__ import annotations

import json
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from briefgen._fs import write_bytes_atomic
from briefgen.errors import BriefgenError


def starter_files() -> dict[str, bytes]:
    """Return every file of the starter project: path relative to the project -> content."""
    from briefgen.config.jsonschema import config_json_schema, topic_json_schema

    files: dict[str, bytes] = {}
    _collect(resources.files(__package__).joinpath("project"), "", files)
    for name, schema in (
        ("config.schema.json", config_json_schema()),
        ("topic.schema.json", topic_json_schema()),
    ):
        files[name] = (json.dumps(schema, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return dict(sorted(files.items()))


def _collect(folder: Traversable, prefix: str, files: dict[str, bytes]) -> None:
    for item in folder.iterdir():
        if item.name == "__pycache__" or item.name.startswith("."):
            continue
        name = prefix + item.name
        if item.is_dir():
            _collect(item, name + "/", files)
        else:
            files[name] = item.read_bytes()


def init_project(target: Path, *, force: bool = False) -> list[Path]:
    """Write the starter project into ``target``; refuse to overwrite files unless ``force``.

    Returns the files written. Nothing is written when any of them already exists.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise BriefgenError(f"{target}: exists and is not a folder")
    files = starter_files()
    if not force:
        existing = [target / name for name in files if (target / name).exists()]
        if existing:
            shown = ", ".join(str(p) for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
            raise BriefgenError(
                f"{shown}: already exists; nothing written "
                "(use --force to overwrite the starter files)"
            )
    written = []
    try:
        for name, data in files.items():
            path = target / name
            path.parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, data)
            written.append(path)
    except OSError as exc:
        raise BriefgenError(
            f"{exc.filename or target}: cannot write: {exc.strerror or exc}"
        ) from None
    return written


def next_steps(target: Path) -> str:
    """Return what to do after ``briefgen init``: the three steps of the starter's README."""
    where = "" if Path(target) == Path(".") else f"cd {target} && "
    return (
        f"next: put articles in {Path(target) / 'corpus'}, edit a topic "
        f"({Path(target) / 'topics' / 'example.yaml'}), then `{where}briefgen build` "
        f"(see {Path(target) / 'README.md'})"
    )
