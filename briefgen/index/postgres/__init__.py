"""The PostgreSQL backend, for several hosts sharing one corpus and one schedule: ``store`` (read
side and backend), ``writer``, ``schema`` (tables, corpus facts), ``tsv`` (tsvector/tsquery
text and BM25 as FTS5 computes it) and ``connection`` (URLs, one-line errors, advisory locks)."""
