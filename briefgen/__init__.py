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
    VerifyError,
)

if TYPE_CHECKING:
    from briefgen.build import build_brief
    from briefgen.configload import load_config
    from briefgen.index import update_index
    from briefgen.schedule import run_due
    from briefgen.select import select_topic
    from briefgen.verify import verify_brief

# Imported lazily so that `import briefgen` (and the CLI's start-up) stays cheap:
# WeasyPrint alone takes ~0.5 s to import.
_LAZY = {
    "load_config": "briefgen.configload",
    "update_index": "briefgen.index",
    "select_topic": "briefgen.select",
    "build_brief": "briefgen.build",
    "verify_brief": "briefgen.verify",
    "run_due": "briefgen.schedule",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'briefgen' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
