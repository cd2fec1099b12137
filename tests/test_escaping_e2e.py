"""Escaping end to end: markup-laden article text goes through corpus → index → selection →
Markdown → HTML → PDF, and comes out as the same text, with no link, image, fetch or attachment.

Each example is a whole build with a PDF (about a second), so this test takes a twentieth of
the profile's examples: a few by default, 150 under `make fuzz`.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import briefgen.outputs.pdf
from briefgen.build import build_brief
from briefgen.config.load import load_config
from briefgen.index.update import update_index

ROOT = Path(__file__).resolve().parent.parent
MARKER = "zqxjv"  # the custom topic's only term: selects exactly the generated passages
# Markdown and HTML syntax, entity starts, URL and path pieces, letters and spaces.
MARKUP = st.text(
    alphabet=st.sampled_from(list("#*_[]()<>!&;`{}|:.-+=~^\\/\"'@% aZ19")),
    min_size=1,
    max_size=60,
) | st.sampled_from(
    [
        '<img src="http://127.0.0.1:9/x.png">',
        '<a rel="attachment" href="file:///etc/passwd">x</a>',
        "[link](http://example.com/a)",
        "![img](file:///etc/passwd)",
        "<http://example.com>",
        "<style>@import url(http://127.0.0.1:9/x.css)</style>",
        "<link rel=stylesheet href=//example.com/x.css>",
        "&lt;script&gt; &#60;b&#62; &amp;",
        "[^1] [^1]: note",
        "{: onclick=alert(1) }",
        "<object data=file:///etc/passwd></object>",
    ]
)


def squeeze(text: str) -> str:
    """Remove all whitespace: PDF extraction may break lines anywhere in a long token."""
    return "".join(text.split())


@pytest.fixture(scope="module")
def hostile_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose corpus is one article and whose brief has one custom topic."""
    root = tmp_path_factory.mktemp("escaping") / "project"
    (root / "corpus").mkdir(parents=True)
    shutil.copytree(ROOT / "templates", root / "templates")
    config = {
        "corpus": {"path": "corpus", "metadata": None},
        "topic_files": [],
        "topics": {
            "hostile": {
                "title": "Hostile text",
                "terms": {MARKER: 3},
                "min_score": 1,
                "max_passages": 20,
                "max_per_source": 20,
            }
        },
        "briefs": {"b": {"title": "Escaping", "topics": ["hostile"], "key_points": 2}},
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def fetch_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every URL WeasyPrint asks for is appended here (a file: rendering runs in a child process)."""
    log = tmp_path_factory.mktemp("fetches") / "log"
    log.touch()
    real = briefgen.outputs.pdf.restricted_fetcher

    def logging_fetcher(allowed_dirs: list[Path]) -> Any:
        fetcher = real(allowed_dirs)
        fetch = fetcher.fetch

        def logged(url: str, headers: Any = None) -> Any:
            with log.open("a", encoding="utf-8") as fh:
                fh.write(url + "\n")
            return fetch(url, headers)

        fetcher.fetch = logged
        return fetcher

    patcher = pytest.MonkeyPatch()
    patcher.setattr(briefgen.outputs.pdf, "restricted_fetcher", logging_fetcher)
    yield log
    patcher.undo()


def links_images_attachments(pdf: pypdf.PdfReader) -> tuple[set[str], int, bool]:
    """Return where the links go, the number of images, and whether files are embedded.

    An internal link is its destination's name; any action (URI, launch, ...) is "action /S".
    """
    links, images = set(), 0
    for page in pdf.pages:
        for ref in page.get("/Annots", []) or []:
            annot = ref.get_object()
            assert annot["/Subtype"] == "/Link", annot  # no file attachment, widget, sound...
            action = annot.get("/A")
            links.add(f"action {action.get_object().get('/S')}" if action else str(annot["/Dest"]))
        xobjects = page["/Resources"].get("/XObject", {}) or {}
        images += sum(1 for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image")
    root = pdf.trailer["/Root"].get_object()
    embedded = "/EmbeddedFiles" in (root.get("/Names", {}) or {})
    return links, images, embedded


# No shrinking: at a second a build it takes many minutes; the failing example is printed anyway.
@settings(
    max_examples=max(3, settings.default.max_examples // 20),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(st.lists(MARKUP, min_size=1, max_size=4))
def test_markup_in_an_article_reaches_the_pdf_as_text(
    hostile_project: Path, fetch_log: Path, texts: list[str]
) -> None:
    article = f"{MARKER} hostile markup\n\n" + "\n\n".join(
        f"The {MARKER} agency said: {text} end of statement {i}." for i, text in enumerate(texts)
    )
    (hostile_project / "corpus" / "article.txt").write_text(article + "\n", encoding="utf-8")
    cfg = load_config(hostile_project / "config.yaml")
    update_index(cfg, progress=False)
    fetch_log.write_text("")
    out = hostile_project / "out"
    build_brief(cfg, out_dir=out, as_of=dt.date(2026, 3, 15))

    record = json.loads((out / "brief.json").read_text(encoding="utf-8"))
    quotes = [p["text"] for s in record["sections"] for p in s["passages"]]
    assert quotes, "the custom topic selected the generated passages"
    pdf = pypdf.PdfReader(out / "brief.pdf")
    pdf_text = squeeze(" ".join(page.extract_text() for page in pdf.pages))
    for quote in quotes:
        assert squeeze(quote) in pdf_text, quote
    links, images, embedded = links_images_attachments(pdf)
    # The only links are the table of contents' own, to the headings the template makes.
    assert links <= {"hostile-text", "warnings", "sources", "method", "appendix-topic-definitions"}, links
    assert images == 0 and not embedded
    fetched = fetch_log.read_text(encoding="utf-8").split()
    assert fetched == [], fetched
