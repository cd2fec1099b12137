"""The corpus stage: find files (``discover``: regular files inside the corpus, printable names),
read them (``files``), decode bytes (``decode``), read metadata (``metadata``, article front
matter in ``frontmatter``), clean page furniture (``clean``, ``textlines``), read JSONL in blocks (``jsonl``)
and cut passages with exact source offsets (``passages``). Every module here is part of the
index's pipeline fingerprint: changing any of them re-cleans every document."""
