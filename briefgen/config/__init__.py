"""Configuration: the typed schema (``schema``), loading with every problem at once (``load``),
YAML read with marks and limits (``yamlread``), syntax errors in plain English (``yamlsyntax``),
problems in plain English (``problems``), the schedule-setting checks the schema runs
(``checks``), the JSON Schemas for editors (``jsonschema``) and validate's report (``summary``)."""
