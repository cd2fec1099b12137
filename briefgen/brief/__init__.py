"""The brief stage: the plain-data Brief (``model``), how sources are named and quoted
(``cite``: attributions, notes, excerpts), its assembly from topic selections (``assemble``:
note numbering, key points, sources, window) and its JSON record (``record``: brief.json)."""
