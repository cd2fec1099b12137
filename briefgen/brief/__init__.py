"""The brief stage: the plain-data Brief (sections, key points, citations, sources) assembled from
topic selections (``assemble``), and its JSON record, brief.json (``record``)."""
