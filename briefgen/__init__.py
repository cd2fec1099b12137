"""briefgen: turn a corpus of news articles into cited policy briefs.

Library use, without the CLI::

    from briefgen import load_config, update_index, select_topic, build_brief
    cfg = load_config("config.yaml")
    update_index(cfg)
    result = build_brief(cfg)          # the default brief, every configured format
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "BriefgenError",
    "ConfigError",
    "CorpusError",
    "RenderError",
    "ScheduleError",
    "StoreError",
    "VerifyError",
    "__version__",
    "build_brief",
    "load_config",
    "run_due",
    "select_topic",
    "update_index",
    "verify_brief",
]

from briefgen.errors import (
    BriefgenError,
    ConfigError,
    CorpusError,
    RenderError,
    ScheduleError,
    StoreError,
    VerifyError,
)

if TYPE_CHECKING:
    from briefgen.build import build_brief
    from briefgen.config.load import load_config
    from briefgen.index.update import update_index
    from briefgen.schedule.run_due import run_due
    from briefgen.select.selection import select_topic
    from briefgen.verify import verify_brief

# Imported lazily so that `import briefgen` (and the CLI's start-up) stays cheap:
# WeasyPrint alone takes ~0.5 s to import.
_LAZY = {
    "load_config": "briefgen.config.load",
    "update_index": "briefgen.index.update",
    "select_topic": "briefgen.select.selection",
    "build_brief": "briefgen.build",
    "verify_brief": "briefgen.verify",
    "run_due": "briefgen.schedule.run_due",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'briefgen' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
