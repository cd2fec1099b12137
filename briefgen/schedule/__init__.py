"""The schedule stage: due slots and builds (``run_due``), cron slot arithmetic (``slots``), the
run history (``history``: rows and the ``RunHistory`` protocol; ``sqlite_history``: the SQLite
store; ``state``: where it and the run-due lock are, opened so that a damaged file or an
unwritable folder is one line), wrong clocks against it (``clock``), deliveries of built briefs
(``deliveries``), builds and re-sends by hand (``manual``), dated output folders
(``dated_output``), ``schedule --list`` and ``history`` tables (``report``) and the
long-running ``briefgen schedule`` loop (``foreground``)."""
