"""Run the real briefgen CLI with the fake build and index refresh of fake_pipeline injected.

    python tests/fake_briefgen.py run-due -c config.yaml --now ...

The CLI passes ``obj={"build": ..., "refresh_index": ...}`` on to ``run_due`` (click's context
object): injection, not an environment variable read by production code.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fake_pipeline

from briefgen.cli import cli

HOOKS = {"build": fake_pipeline.build_brief, "refresh_index": fake_pipeline.update_index}

if __name__ == "__main__":
    cli.main(obj=HOOKS, prog_name="briefgen")
