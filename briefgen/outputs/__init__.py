"""The output stage: formats rendered from a Brief (Markdown, HTML, PDF, JSON) through a small
registry (``base``): a new format is one module and one template."""
