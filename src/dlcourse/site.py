"""The course website: the student notebooks, run from top to bottom, as a static site.

(Over 300 lines: executing the notebooks, rendering, the search index and the pages are one build.)

    python -m dlcourse.site build [--out site] [--chapters ch01_networks ...] [--jobs N]

executes every student notebook of course/ as a learner first opens it (the exercises are stubs; the
demonstrations fall back to the course's solved versions), leaves out the test cells (in an untouched
notebook they only say "not implemented yet"; course/ holds no solutions and no hidden tests) and writes
one page per notebook with nbconvert's JupyterLab template, a home page with the chapter table and a
"launch on Binder" button per notebook, the syllabus (docs/syllabus.md) and a search page. MathJax
typesets the formulas and lunr searches, both copied from docs/node_modules (installed by `npm ci --prefix docs`
from the committed lock file, on the first build): after that, building and reading the site need no network
(open site/index.html, or serve the folder).
"""

from __future__ import annotations

import argparse
import functools
import html
import json
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import nbformat

BINDER_FALLBACK = "https://mybinder.org/v2/gh/dlcourse/dlcourse/main"
# docs/node_modules/<from> -> site/_static/<to>; MathJax finds its fonts relative to its script.
ASSETS = {
    "mathjax/es5/tex-chtml-full.js": "mathjax/tex-chtml-full.js",
    "mathjax/es5/output/chtml/fonts/woff-v2": "mathjax/output/chtml/fonts/woff-v2",
    "lunr/lunr.min.js": "lunr.min.js",
}
STATIC = ("docs", "site_assets")  # under the repository: site.css and search.js, copied as they are

TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block notebook_css -%}<link rel="stylesheet" href="{{ resources.site_root }}_static/jupyterlab.css">{%- endblock notebook_css -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<script>window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\(', '\\)']], displayMath: [['$$', '$$'], ['\\[', '\\]']],
  processEscapes: true, processEnvironments: true}};</script>
<script defer src="{{ resources.site_root }}_static/mathjax/tex-chtml-full.js"></script>
<link rel="stylesheet" href="{{ resources.site_root }}_static/site.css">
{%- endblock html_head_js_mathjax -%}
{%- block body_header -%}{{ super() }}{{ resources.site_header }}{%- endblock body_header -%}
{% block body_footer %}{{ resources.site_footer }}{{ super() }}{% endblock body_footer %}
"""


def default_root() -> Path:
    """The repository: the working folder when it holds course/, else the checkout this module lies in."""
    return Path.cwd() if (Path.cwd() / "course").is_dir() else Path(__file__).resolve().parents[2]


def binder_base(root: Path) -> str:
    """The README's Binder address, without its ?urlpath (one place to change the repository or branch)."""
    readme = root / "README.md"
    found = re.search(r"https://mybinder\.org/v2/gh/[^?\s)\"']+", readme.read_text()) if readme.exists() else None
    return found.group(0) if found else BINDER_FALLBACK


def title_of(nb) -> str:
    """The notebook's first level-1 heading."""
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    return found.group(1).strip() if (found := re.search(r"^#\s+(.+)$", text, re.MULTILINE)) else "notebook"


def execute(path: str, timeout: float = 600) -> tuple[str, float]:
    """Run a notebook top to bottom in its own folder, errors allowed; return it (JSON) and its seconds."""
    from nbclient import NotebookClient

    nb, began = nbformat.read(path, as_version=4), time.monotonic()
    NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(Path(path).parent)}},
    ).execute()
    return nbformat.writes(nb), time.monotonic() - began


def site_copy(nb) -> tuple[nbformat.NotebookNode, list[str]]:
    """The executed notebook as the site shows it: each test cell replaced by a note; the errors of other cells."""
    nb, problems = nbformat.from_dict(nb), []
    cells = []
    for cell in nb.cells:
        meta = cell.metadata.pop("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):  # a test cell
            points = meta.get("points", 0)
            cells.append(
                nbformat.v4.new_markdown_cell(
                    f'<div class="test-note">In the notebook, a test cell here checks your function against PyTorch '
                    f"and explains any difference ({points:g} point{'' if points == 1 else 's'}).</div>"
                )
            )
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                problems.append(f"cell {cell.get('id')}: {output.ename}: {output.evalue}"[:300])
        cells.append(cell)
    nb.cells = cells
    return nb, problems


@functools.cache
def exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"site.html.j2": TEMPLATE})],
        template_file="site.html.j2",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )


def nav(root: str) -> str:
    return (
        f'<nav class="site-nav"><a class="site-home" href="{root}index.html">dlcourse</a>'
        f'<a href="{root}index.html#chapters">Chapters</a><a href="{root}syllabus.html">Syllabus</a>'
        f'<form class="site-search" action="{root}search.html" role="search">'
        f'<input type="search" name="q" placeholder="Search the course" aria-label="Search the course"></form></nav>'
    )


def binder_button(binder: str, relative: str) -> str:
    url = f"{binder}?urlpath=lab/tree/{relative}"
    return (
        f'<a class="binder-link" href="{html.escape(url)}" title="run {relative} on mybinder.org">launch on Binder</a>'
    )


def render(nb, root: str, header: str = "", footer: str = "") -> str:
    body, _ = exporter().from_notebook_node(
        nb, resources={"site_root": root, "site_header": nav(root) + header, "site_footer": footer}
    )
    # links between notebooks (course/chNN_x/y.ipynb, ../chNN_x/y.ipynb) -> the site's pages
    return re.sub(
        r'href="(?![a-z]+:)[^"#]*?(ch\d\d_[\w-]+)/([\w-]+)\.ipynb(#[^"]*)?"',
        lambda m: f'href="{root}{m[1]}/{m[2]}.html{m[3] or ""}"',
        body,
    )


def markdown_page(title: str, markdown: str, root: str = "") -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown)])
    nb.metadata["title"] = title
    return render(nb, root)


def chapter_rows(root: Path) -> dict[str, str]:
    """'course/chNN/name.ipynb' -> its 'what you build' text in index.ipynb's table (when it has one)."""
    index = root / "index.ipynb"
    if not index.exists():
        return {}
    text = "\n".join(c.source for c in nbformat.read(str(index), as_version=4).cells if c.cell_type == "markdown")
    return {m[1]: m[2].strip() for m in re.finditer(r"\]\((course/[^)]+\.ipynb)\)\s*\|([^|\n]+)\|", text)}


class Sections(HTMLParser):
    """A page's text, cut at its h1-h3 headings (whose ids are anchors): what search looks through."""

    def __init__(self):
        super().__init__()
        self.sections, self.skip, self.heading = [{"anchor": "", "title": "", "text": []}], 0, None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "nav"):
            self.skip += 1
        elif tag in ("h1", "h2", "h3") and not self.skip:
            self.heading = tag
            self.sections.append({"anchor": dict(attrs).get("id") or "", "title": "", "text": []})

    def handle_endtag(self, tag):
        if tag in ("script", "style", "nav"):
            self.skip -= 1
        elif tag == self.heading:
            self.heading = None

    def handle_data(self, data):
        if not self.skip:
            (
                self.sections[-1].__setitem__("title", self.sections[-1]["title"] + data)
                if self.heading
                else self.sections[-1]["text"].append(data)
            )


def search_docs(page: str, page_title: str, body: str) -> list[dict]:
    parser = Sections()
    parser.feed(body)
    docs = []
    for section in parser.sections:
        text = " ".join("".join(section["text"]).split())[:4000]
        title = section["title"].replace("¶", "").strip() or page_title
        if text or section["anchor"]:
            url = page + (f"#{section['anchor']}" if section["anchor"] else "")
            docs.append({"url": url, "page": page_title, "title": title, "text": text})
    return docs


def copy_assets(root: Path, out: Path) -> None:
    modules = root / "docs" / "node_modules"
    if not all((modules / name).exists() for name in ASSETS) and shutil.which(
        "npm"
    ):  # once: from docs/package-lock.json
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(root / "docs")], check=True, timeout=600
        )
    if missing := [name for name in ASSETS if not (modules / name).exists()]:
        raise SystemExit(
            f"missing {', '.join(missing)} in {modules}: run `npm ci --prefix docs` once (needs the npm registry)"
        )
    for source, target in ASSETS.items():
        destination = out / "_static" / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        if (modules / source).is_dir():
            shutil.copytree(modules / source, destination, dirs_exist_ok=True)
        else:
            shutil.copy(modules / source, destination)
    for path in root.joinpath(*STATIC).iterdir():
        shutil.copy(path, out / "_static" / path.name)
    # nbconvert's JupyterLab styles, once for every page (its template inlines them in each)
    folders = [Path(p) for p in exporter().template_paths]
    css = [
        next(f / "static" / name for f in folders if (f / "static" / name).exists())
        for name in ("index.css", "theme-light.css")
    ]
    (out / "_static" / "jupyterlab.css").write_text("\n".join(p.read_text() for p in css))


def build(
    out: Path,
    root: Path | None = None,
    chapters: list[str] | None = None,
    jobs: int = 2,
    execute_notebooks: bool = True,
    log=print,
) -> dict:
    """Build the site into `out` (emptied first); return what was built, its problems, size and seconds.

    execute_notebooks=False writes the pages without outputs: a quick check of pages, links and search."""
    began, root = time.monotonic(), (root or default_root()).resolve()
    order = list(chapter_rows(root))  # a chapter's notebooks in the landing page's order (backprop before autodiff)
    notebooks = sorted(
        (p for p in (root / "course").glob("*/*.ipynb") if not chapters or p.parent.name in chapters),
        key=lambda p: (
            p.parent.name,
            order.index(rel) if (rel := p.relative_to(root).as_posix()) in order else len(order),
            p.name,
        ),
    )
    if not notebooks:
        raise SystemExit(f"no student notebooks under {root / 'course'} for {chapters or 'any chapter'}")
    if out.exists() and any(out.iterdir()) and not (out / "_static" / "search-index.js").exists():
        raise SystemExit(f"{out} is not empty and holds no site built here: choose another --out")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    copy_assets(root, out)
    if execute_notebooks:
        log(f"executing {len(notebooks)} notebooks ({jobs} at a time) ...")
        with ProcessPoolExecutor(max(1, min(jobs, len(notebooks)))) as pool:
            runs = list(pool.map(execute, [str(p) for p in notebooks]))
    else:
        runs = [(p.read_text(), 0.0) for p in notebooks]
    binder, what, docs, problems = binder_base(root), chapter_rows(root), [], {}
    pages = [(p, f"{p.parent.name}/{p.stem}.html", title_of(nbformat.read(str(p), as_version=4))) for p in notebooks]
    for number, (path, page, title), (text, seconds) in zip(range(len(pages)), pages, runs):
        nb, errors = site_copy(nbformat.reads(text, as_version=4))
        relative = path.relative_to(root).as_posix()
        nb.metadata["title"] = title
        log(f"  {relative}: {seconds:.0f} s" + (f", {len(errors)} cell(s) with an error" if errors else ""))
        if errors:
            problems[relative] = errors
        header = f'<div class="site-chapter">{html.escape(relative)} {binder_button(binder, relative)}</div>'
        links = [
            f'<a href="../{p}">{"previous" if i < number else "next"}: {html.escape(t)}</a>'
            for i, (_, p, t) in enumerate(pages)
            if abs(i - number) == 1
        ]
        body = render(nb, "../", header, f'<footer class="site-footer">{" · ".join(links)}</footer>')
        (out / page).parent.mkdir(parents=True, exist_ok=True)
        (out / page).write_text(body)
        docs += search_docs(page, title, body)
    rows = "".join(
        f'<tr><td>{int(path.parent.name[2:4])}</td><td><a class="chapter-link" href="{page}">{html.escape(title)}</a></td>'
        f"<td>{html.escape(what.get(path.relative_to(root).as_posix(), ''))}</td>"
        f"<td>{binder_button(binder, path.relative_to(root).as_posix())}</td></tr>"
        for path, page, title in pages
    )
    index = markdown_page(
        "dlcourse — deep learning from scratch, side by side with PyTorch",
        (
            "# Deep learning from scratch, side by side with PyTorch\n\nEvery piece of a neural network built in NumPy "
            "and checked against the same computation in PyTorch. These pages show each notebook as a learner first "
            "opens it, run from top to bottom: the exercises are still stubs (`raise NotImplementedError()`), the test "
            "cells are left out, and the demonstrations use the course's solved versions. To do the exercises, launch a "
            "notebook on Binder (a JupyterLab in your browser, nothing to install) or clone the course and run it at home. "
            "The [syllabus](syllabus.html) has the chapter map, the worked examples and the corrections to the source "
            'articles.\n\n<h2 id="chapters">Chapters</h2>\n\n<table class="chapter-table"><thead><tr><th>#</th>'
            f"<th>notebook</th><th>what you build</th><th></th></tr></thead><tbody>{rows}</tbody></table>\n"
        ),
    )
    (out / "index.html").write_text(index)
    docs += search_docs("index.html", "Home", index)
    syllabus_md = root / "docs" / "syllabus.md"
    if syllabus_md.exists():
        syllabus = markdown_page("Syllabus — dlcourse", syllabus_md.read_text())
        (out / "syllabus.html").write_text(syllabus)
        docs += search_docs("syllabus.html", "Syllabus", syllabus)
    (out / "search.html").write_text(
        markdown_page(
            "Search — dlcourse",
            (
                '# Search\n\n<form class="search-page" action="search.html"><input id="search-page-input" type="search" '
                'name="q" aria-label="Search the course"> <button type="submit">Search</button></form>\n\n'
                '<p id="search-status"></p><ol id="search-results" class="mathjax_ignore"></ol>\n\n<script src="_static/lunr.min.js"></script>'
                '<script src="_static/search-index.js"></script><script src="_static/search.js"></script>\n'
            ),
        )
    )
    (out / "_static" / "search-index.js").write_text(f"window.SEARCH_DOCS = {json.dumps(docs, ensure_ascii=False)};\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {
        "pages": [page for _, page, _ in pages],
        "problems": problems,
        "bytes": size,
        "seconds": time.monotonic() - began,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcourse.site", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("build", help="execute the student notebooks and write the site")
    command.add_argument(
        "--out", type=Path, default=Path("site"), help="the site's folder (emptied first; default: site)"
    )
    command.add_argument(
        "--chapters", nargs="+", metavar="CHAPTER", help="only these chapters' folders, e.g. ch01_networks"
    )
    command.add_argument("--jobs", type=int, default=2, help="notebooks executed at once (default 2)")
    command.add_argument("--no-execute", action="store_true", help="pages without outputs (a quick check of the site)")
    command.add_argument("--root", type=Path, help="the repository (default: the working folder, or this checkout)")
    args = parser.parse_args(argv)
    result = build(args.out, args.root, args.chapters, args.jobs, not args.no_execute)
    print(
        f"{len(result['pages'])} notebook pages, {result['bytes'] / 1e6:.1f} MB, in {result['seconds']:.0f} s: "
        f"open {args.out / 'index.html'}"
    )
    for notebook, errors in result["problems"].items():
        print(f"warning: {notebook} shows errors outside its test cells:\n  " + "\n  ".join(errors), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
