"""The JSON Schemas of config.yaml and of a topic file (``briefgen schema``, ``briefgen init``),
for editors' autocompletion; generated from the pydantic models, so they match this version."""

from __future__ import annotations

from typing import Any

from briefgen.config.schema import Config, Topic


def config_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of config.yaml, with every field's description, for editors."""
    schema = Config.model_json_schema()
    _allow_term_lists(schema["$defs"]["Topic"])
    schema.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "briefgen config.yaml",
        "description": "Corpus location, index path, output folder, topics and briefs of a "
        "briefgen project. Reference: docs/config.md.",
        **schema,
    }


def topic_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of one topic file (topics/*.yaml, --topic-file)."""
    schema = Topic.model_json_schema()
    _allow_term_lists(schema)
    schema.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "briefgen topic file",
        "description": "One topic; its key is the file name without .yaml.",
        **schema,
    }


def _allow_term_lists(topic: dict[str, Any]) -> None:
    """Let the schema accept `terms` as a plain list too, as the loader does."""
    terms = topic["properties"]["terms"]
    as_mapping = {k: v for k, v in terms.items() if k not in ("title", "description", "default")}
    terms.clear()
    terms.update(
        {
            "title": "Terms",
            "description": Topic.model_fields["terms"].description,
            "anyOf": [as_mapping, {"type": "array", "items": {"type": "string", "minLength": 1}}],
        }
    )
