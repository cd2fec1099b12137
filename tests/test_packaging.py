"""Packaging and the README's promises: a quiet install, every runtime dependency declared,
and `make test`'s deselected test explained."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def test_editable_install_uses_a_plain_pth_file() -> None:
    # Without an explicit package-dir, setuptools' lenient editable mode installs an import
    # finder for a flat layout and pip prints its "be careful with folders" notice every time.
    assert _pyproject()["tool"]["setuptools"]["package-dir"] == {"": "."}


def test_lxml_html_clean_is_a_direct_dependency() -> None:
    # jusText's `lxml[html_clean]` extra is dropped by pip < 24; an .html article then fails.
    dependencies = _pyproject()["project"]["dependencies"]
    names = [re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0].lower() for d in dependencies]
    assert "lxml_html_clean" in names


def test_readme_first_screen_has_the_two_commands() -> None:
    first_screen = (ROOT / "README.md").read_text("utf-8").splitlines()[:12]
    assert any(line.startswith("make brief") for line in first_screen)
    assert any(line.startswith("make test") for line in first_screen)


def test_readme_says_why_make_test_deselects_a_test() -> None:
    addopts = _pyproject()["tool"]["pytest"]["ini_options"]["addopts"]
    assert "-m 'not slow'" in addopts
    readme = (ROOT / "README.md").read_text("utf-8")
    assert re.search(r"\d+ deselected", readme) and "`slow`" in readme and "make fuzz" in readme
