"""The selection stage: topic evidence (``scoring``), retrieval and scoring of candidates
(``selection``), near-duplicates (``dedup``), spreading picks over sources (``spread``), topics
selected in parallel (``parallel``) and selections shown to people (``report``)."""
