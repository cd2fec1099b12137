"""The schedule stage: due slots and builds (``run_due``), cron slot arithmetic (``slots``), run
history (``history``), dated output folders (``dated_output``) and the long-running
``briefgen schedule`` loop (``foreground``)."""
