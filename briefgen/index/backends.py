"""The registry of index backends, by the name ``index.backend`` gives in config.yaml.

A backend module exposes ``BACKEND`` (a :class:`briefgen.index.base.Backend`). Modules are
imported on first use, so a project on SQLite never imports a PostgreSQL driver.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from briefgen.errors import StoreError

if TYPE_CHECKING:
    from briefgen.config.schema import LoadedConfig
    from briefgen.index.base import Backend, Store

#: backend name → the module that implements it
BACKENDS: dict[str, str] = {
    "sqlite": "briefgen.index.sqlite.store",
    "postgresql": "briefgen.index.postgres.store",
}


def backend_named(name: str) -> Backend:
    """Return the backend called ``name``."""
    module_name = BACKENDS.get(name)
    if module_name is None:
        raise StoreError(f"unknown index backend {name!r}; use one of: {', '.join(BACKENDS)}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StoreError(
            f"the {name} index backend cannot be loaded ({exc}); install briefgen with its "
            f"extra: pip install 'briefgen[{name}]'"
        ) from exc
    backend: Backend = module.BACKEND
    return backend


def backend_for(cfg: LoadedConfig) -> Backend:
    """Return the backend the configuration chooses."""
    return backend_named(cfg.config.index.backend)


def with_backend(cfg: LoadedConfig, name: str) -> LoadedConfig:
    """Return ``cfg`` with ``index.backend`` set to ``name`` (``briefgen index --backend``)."""
    backend_named(name)  # an unknown name is refused here, before anything is read
    index = cfg.config.index.model_copy(update={"backend": name})
    return cfg.model_copy(update={"config": cfg.config.model_copy(update={"index": index})})


def open_store(cfg: LoadedConfig) -> Store:
    """Open the configured index for queries (raise StoreError if there is none yet)."""
    return backend_for(cfg).open_store(cfg)
