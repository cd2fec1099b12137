"""The output stage: the formats a Brief is rendered to, in one registry (``OUTPUTS``).

Each format is one module with an ``OUTPUT`` (see ``base.Output``) and, usually, one template:
``md`` (Markdown), ``html`` (standalone HTML edition, the email body), ``pdf`` (print layout
through WeasyPrint), ``json`` (the audit record). ``templates`` runs the Jinja2 sandbox;
``markup`` escapes Markdown and converts it to HTML; ``render`` renders a set of formats.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, WithJsonSchema

from briefgen.outputs import html, json, md, pdf
from briefgen.outputs.base import OutputRegistry

# A new format: a module with an OUTPUT, listed here (the order of `--help`).
OUTPUTS = OutputRegistry([md.OUTPUT, html.OUTPUT, pdf.OUTPUT, json.OUTPUT])
# What a brief writes unless its `formats:` says otherwise (html is asked for by name).
DEFAULT_FORMATS: tuple[str, ...] = ("md", "pdf", "json")


def file_hashes(rendered: dict[str, bytes]) -> dict[str, str]:
    """Return file name -> sha256 of rendered formats (what brief.json records of them)."""
    import hashlib

    return {OUTPUTS.get(f).filename: hashlib.sha256(data).hexdigest() for f, data in rendered.items()}


def _check_format_name(value: object) -> object:
    problem = OUTPUTS.name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# A format name in config (`formats:`, `attach:`): one of the registry's, checked item by item
# so that a mistake is reported at its own line.
FormatName = Annotated[
    str,
    BeforeValidator(_check_format_name),
    WithJsonSchema({"type": "string", "enum": OUTPUTS.names()}),
]
