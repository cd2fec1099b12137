"""The embedded SQLite FTS5 backend: ``store`` (read side and backend), ``writer``, ``schema``,
``analyzer`` (FTS5's own tokenizer for Python-side scoring)."""
