"""The index stage: the backend-neutral Store interface (``base``), the backend registry
(``backends``), the incremental update (``update``: planned in ``plan``, reported in
``summary``) and its worker processes (``workers``);
backends live in ``sqlite/`` (embedded, the default) and ``postgres/``."""
