"""The course website (python -m dlcourse.site build), built for real and read in Debian's Chromium.

Two builds serve every test (one xdist group, so one worker builds them once): two chapters executed as
`python -m dlcourse.site build` executes them (their pages with plots and printed results), and every
chapter without execution (`--no-execute`: every page, the chapter table, every link, the whole search
index). The browser reads the site from a local HTTP server with every other request refused, so the
tests also prove that the site needs no network. The JavaScript the site ships (MathJax, lunr) comes
from docs/node_modules, installed from the committed lock file when missing (`npm ci`).
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dlcourse import site
from tests.browser_support import chromium, chromium_problem, require, screenshot_on_failure
from tests.course import COURSE, ROOT, SOLUTIONS

pytestmark = pytest.mark.xdist_group("site")

CHAPTERS = ["ch03_gradient_descent", "ch04_losses"]  # executed: formulas, plots, a worked example each
# a word of each executed chapter's text (not in the syllabus), and the page search must lead to
SEARCHES = {"efron": "ch03_gradient_descent/gradient_descent.html", "harmonic": "ch04_losses/losses.html"}
BINDER = re.compile(
    r"^https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/[\w.-]+\?urlpath=lab/tree/(course/ch\d\d_\w+/\w+\.ipynb)$"
)
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
MIN_LINE = 16  # non-blank characters: shorter solution lines ("return out") may be any code's


def install_javascript() -> None:
    if all((ROOT / "docs" / "node_modules" / name).exists() for name in site.ASSETS):
        return
    if shutil.which("npm") is None:
        require("npm is missing (Node 20: apt-get install nodejs npm), and docs/node_modules with it")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(ROOT / "docs")], check=True, timeout=600)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    install_javascript()
    out = tmp_path_factory.mktemp("site") / "site"
    return out, site.build(out, ROOT, CHAPTERS, jobs=2)


@pytest.fixture(scope="module")
def built_all(tmp_path_factory):
    install_javascript()
    out = tmp_path_factory.mktemp("site-all") / "site"
    return out, site.build(out, ROOT, execute_notebooks=False)


class Text(HTMLParser):
    """What a page shows as text (code without its highlighting markup), and its links."""

    def __init__(self):
        super().__init__()
        self.parts, self.links, self.skip = [], [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")
        if tag == "a" and dict(attrs).get("href"):
            self.links.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def read_page(path: Path) -> Text:
    parser = Text()
    parser.feed(path.read_text())
    return parser


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@functools.cache
def public_text() -> str:
    """Every student notebook's cells, whitespace removed: what learners are given anyway."""
    return "".join(
        squeezed("".join(cell.source for cell in site.nbformat.read(str(p), as_version=4).cells))
        for p in sorted(COURSE.glob("*/*.ipynb"))
    )


def secret_lines(chapter: str) -> set[str]:
    """Lines of the chapter's solution regions and hidden tests (its .py sources), whitespace removed, that
    no student notebook shows (a generic line, e.g. a loop over layers, may also be in a demo cell)."""
    public = public_text()
    secret, inside = set(), False
    for path in sorted((SOLUTIONS / chapter).glob("*.py")):
        for line in path.read_text().splitlines():
            if re.search(r"### (BEGIN|END) (SOLUTION|HIDDEN TESTS)", line):
                inside = "BEGIN" in line
            elif inside and len(squeezed(line)) >= MIN_LINE and squeezed(line) not in public:
                secret.add(squeezed(line))
    return secret


def leaks(out: Path, chapters: list[str]) -> list[str]:
    """Solution lines, hidden-test lines and nbgrader's markers found in the site's text and search index."""
    texts = [squeezed("".join(read_page(p).parts)) for p in out.rglob("*.html")]
    docs = json.loads((out / "_static" / "search-index.js").read_text().partition("=")[2].strip().rstrip(";"))
    texts += [squeezed(doc["title"] + doc["text"]) for doc in docs]
    wanted = {squeezed(m) for m in MARKERS} | set().union(*(secret_lines(c) for c in chapters))
    return sorted(line for line in wanted if any(line in text for text in texts))


def test_the_build_executes_the_chosen_chapters_without_errors_outside_test_cells(built):
    out, result = built
    assert result["pages"] == ["ch03_gradient_descent/gradient_descent.html", "ch04_losses/losses.html"]
    assert result["problems"] == {}, "cells other than tests raised while the site was built"
    losses = (out / "ch04_losses" / "losses.html").read_text()
    assert losses.count('class="test-note"') == 14  # chapter 4's 14 test cells, each replaced by a note
    assert "Traceback" not in losses  # no error output (the stubs raise only when a test cell calls them)
    print(f"2 chapters: {result['bytes'] / 1e6:.1f} MB in {result['seconds']:.0f} s")


@pytest.mark.parametrize("which", ["executed", "all"])
def test_no_solution_or_hidden_test_is_in_the_site(which, built, built_all):
    out, chapters = (
        (built[0], CHAPTERS)
        if which == "executed"
        else (built_all[0], sorted(p.name for p in COURSE.iterdir() if p.is_dir()))
    )
    assert all(secret_lines(c) for c in chapters), "every chapter has solution lines to look for"
    assert leaks(out, chapters) == []


def test_the_leak_check_finds_a_solution_notebook_rendered_as_a_page(tmp_path):
    """The check above can fail: the instructor's notebook rendered the site's way is caught, line by line."""
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "search-index.js").write_text("window.SEARCH_DOCS = [];")
    solution = site.nbformat.read(str(SOLUTIONS / "ch04_losses" / "losses.ipynb"), as_version=4)
    (tmp_path / "page.html").write_text(site.render(solution, ""))
    found = leaks(tmp_path, ["ch04_losses"])
    assert {"BEGINSOLUTION", "BEGINHIDDENTESTS"} <= set(found) and len(found) > 30


def test_every_chapter_has_a_page_a_row_and_links_that_resolve(built_all):
    out, result = built_all
    notebooks = sorted(p.relative_to(COURSE).with_suffix(".html").as_posix() for p in COURSE.glob("*/*.ipynb"))
    assert sorted(result["pages"]) == notebooks
    index = read_page(out / "index.html")
    assert sorted(link for link in index.links if link.startswith("ch")) == notebooks
    assert {int(c[2:4]) for c in result["pages"]} == set(range(1, 9))  # the 8 chapters
    for page in out.rglob("*.html"):
        for link in read_page(page).links:
            if BINDER.match(link):
                assert (ROOT / BINDER.match(link)[1]).is_file(), f"{page.name}: Binder opens {link}, not in the course"
            elif not re.match(r"[a-z]+:", link):
                target, _, anchor = link.partition("#")
                path = (page.parent / target.partition("?")[0]).resolve() if target else page
                assert path.is_file(), f"{page.relative_to(out)} links to {link}, which the site lacks"
                if anchor:
                    assert f'id="{anchor}"' in path.read_text(), f"{page.relative_to(out)}: no #{anchor} in {target}"
            else:
                assert re.match(r"https?://", link), f"{page.relative_to(out)}: {link}"
    syllabus = (out / "syllabus.html").read_text()
    assert "shared/" not in syllabus and "E5" in syllabus and "load_boston" in syllabus


def serve(folder: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


PAGE_STATE_JS = """() => ({
  formulas: document.querySelectorAll('mjx-container').length,
  formula_errors: document.querySelectorAll('mjx-merror').length,
  raw_math: Array.from(document.querySelectorAll('.jp-MarkdownOutput')).filter(e => /\\$\\$/.test(e.innerText)).length,
  plots: Array.from(document.querySelectorAll('.jp-OutputArea-output img')).map(img => {
    const box = img.getBoundingClientRect();
    return [img.naturalWidth, img.naturalHeight, box.width, box.height];
  }),
  binder: Array.from(document.querySelectorAll('a.binder-link')).map(a => a.href),
})"""


@pytest.mark.browser
def test_the_site_in_a_browser(built, tmp_path):
    require(chromium_problem())
    out, _ = built
    server, url = serve(out)
    outside = []
    try:
        with chromium(tmp_path / "profile") as browser:
            page = browser.new_page()
            page.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith((url, "data:"))
                    else (outside.append(route.request.url), route.abort())
                ),
            )
            with screenshot_on_failure(page, tmp_path, "site"):
                assert page.goto(f"{url}/index.html").ok
                assert "Deep learning from scratch" in page.title() + page.inner_text("h1")
                chapter_links = page.locator("table.chapter-table a.chapter-link")
                assert chapter_links.count() == 2
                for row in range(2):
                    page.goto(f"{url}/index.html")
                    link = page.locator("table.chapter-table a.chapter-link").nth(row)
                    title = link.inner_text()
                    link.click()
                    page.wait_for_load_state("load")
                    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
                    page.evaluate("() => MathJax.startup.promise")
                    assert page.locator("h1").first.inner_text().startswith(title[:20])
                    page.locator(".jp-OutputArea-output img").last.scroll_into_view_if_needed()
                    state = page.evaluate(PAGE_STATE_JS)
                    assert state["formulas"] > 20 and state["formula_errors"] == 0 and state["raw_math"] == 0, state
                    assert len(state["plots"]) >= 2 and all(min(p) > 50 for p in state["plots"]), state["plots"]
                    chapter = page.url.removeprefix(url + "/").replace(".html", ".ipynb")
                    assert [BINDER.match(b)[1] for b in state["binder"]] == [f"course/{chapter}"], state["binder"]
                for word, target in SEARCHES.items():
                    page.goto(f"{url}/index.html")
                    page.fill(".site-nav input[name=q]", word)
                    page.press(".site-nav input[name=q]", "Enter")
                    page.wait_for_selector("#search-results a.search-result")
                    first = page.locator("#search-results a.search-result").first
                    assert first.get_attribute("href").startswith(target), page.inner_text("#search-results")[:500]
                    first.click()
                    page.wait_for_load_state("load")
                    assert page.url.startswith(f"{url}/{target}") and word in page.inner_text("main").lower()
                assert page.goto(f"{url}/syllabus.html").ok and page.locator("mjx-container").count() > 0
    finally:
        server.shutdown()
    assert outside == [], f"the site asked the network for {outside}"


def test_the_build_never_empties_a_folder_that_is_not_a_site(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match="not empty"):
        site.build(tmp_path, ROOT, ["ch04_losses"], execute_notebooks=False)
    assert (tmp_path / "notes.txt").read_text() == "mine"
