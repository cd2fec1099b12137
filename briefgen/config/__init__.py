"""Configuration: the typed schema (``schema``), loading with every problem at once (``load``),
YAML read with marks and limits (``yamlread``), problems in plain English (``problems``) and the
schedule-setting checks the schema runs (``checks``)."""
