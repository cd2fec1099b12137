"""JSONL records in other shapes: which field holds the id, the text and the metadata
(``corpus.fields``), and saying once per file that the text field is missing.

A corpus may name its fields differently (Reuters-21578 has ``body`` and ``newid``, not
``text`` and ``id``). Without a mapping every record of such a file would be skipped, one
warning each; instead the reader raises :class:`MissingTextField` and the caller reports the
file once, with the fields the records do have and the setting that maps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from briefgen.corpus.decode import SkippedInput

if TYPE_CHECKING:
    from briefgen.config.schema import CorpusFields

__all__ = ["FieldMap", "MissingTextField", "field_map", "missing_field_message", "split_record"]

_META_NAMES = ("title", "date", "outlet", "url", "author")
# Field names that usually hold an article's text, to suggest a mapping.
_TEXT_LIKE = ("body", "content", "article", "story", "full_text", "fulltext", "article_text",
              "maintext", "text_body", "article_body", "articlebody", "description")
_FIELDS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class FieldMap:
    """The keys of a JSONL record that hold the id, the text and renamed metadata."""

    id: str = "id"
    text: str = "text"
    renamed: tuple[tuple[str, str], ...] = ()  # (metadata name, record key) where they differ


DEFAULT_FIELDS = FieldMap()


def field_map(fields: CorpusFields) -> FieldMap:
    """Return the record keys that ``corpus.fields`` names (once per file, not per record)."""
    renamed = tuple((n, k) for n in _META_NAMES if (k := getattr(fields, n)) != n)
    mapped = FieldMap(fields.id, fields.text, renamed)
    return DEFAULT_FIELDS if mapped == DEFAULT_FIELDS else mapped


class MissingTextField(SkippedInput):
    """A record has no field of the name that should hold its text."""

    def __init__(self, field: str, present: Sequence[str]) -> None:
        super().__init__(f'no "{field}" field; skipped')
        self.field = field
        self.present = tuple(present)


def split_record(record: dict[str, Any], fields: FieldMap) -> tuple[Any, Any, dict[str, Any]]:
    """Return a record's id, its text and the fields its metadata is read from.

    Raises :class:`MissingTextField` when the record has no text field at all. A renamed
    metadata field comes first, so it wins over the usual names (``title``, ``source``, ...),
    which are still read when it is absent or empty.
    """
    if fields.text not in record:
        raise MissingTextField(fields.text, [str(k) for k in record])
    if fields is DEFAULT_FIELDS:
        meta = {k: v for k, v in record.items() if k != "id" and k != "text"}
        return record.get("id"), record["text"], meta
    renamed = {name: record[key] for name, key in fields.renamed if key in record}
    used = {fields.id, fields.text, *(key for _, key in fields.renamed)}
    meta = {**renamed, **{k: v for k, v in record.items() if k not in used and k not in renamed}}
    return record.get(fields.id), record[fields.text], meta


def missing_field_message(where: str, field: str, present: Sequence[str]) -> str:
    """Say, once for a file, that its records lack the text field, and how to map another one."""
    shown = ", ".join(present[:_FIELDS_SHOWN]) + (", ..." if len(present) > _FIELDS_SHOWN else "")
    guess = next((k for k in present if k.lower() in _TEXT_LIKE), None)
    example = f"corpus: {{fields: {{text: {guess or 'FIELD'}}}}}"
    setting = "text" if field == "text" else f"text (now {field!r})"
    return (
        f'{where}: the records have no "{field}" field (fields present: {shown or "none"}); '
        f"each record without it is skipped. Name the field that holds the article's text "
        f"as corpus.fields.{setting} in config.yaml, e.g. {example}"
    )
