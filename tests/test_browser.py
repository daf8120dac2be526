"""The course in a real browser: JupyterLab in headless Chromium, used the way a learner and an instructor use it.

One JupyterLab server and one browser serve all of these tests (they share an xdist group, so they
run in one worker). They skip on a developer's machine without Chromium, and fail in CI (CI=true).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from tests.browser_support import (
    EXECUTED,
    JupyterLab,
    Notebook,
    chromium,
    chromium_problem,
    course_copy,
    is_error,
    require,
    screenshot_on_failure,
)
from tests.course import COURSE, ROOT, assignments, graded_cells, notebooks, read

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

RUN_SECONDS = 300  # one notebook's Run All in the browser; the chapter standard is under 60 s in a plain kernel
MIN_PLOT_PIXELS = 50


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require(chromium_problem())
    base = tmp_path_factory.mktemp("jupyterlab")
    server = JupyterLab(course_copy(ROOT, base / "course"), base / "home", base / "jupyterlab.log")
    started = time.perf_counter()
    server.start()
    print(f"JupyterLab answered after {time.perf_counter() - started:.1f} s at {server.url} (log: {server.log_path})")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    require(chromium_problem())
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
def page(browser, lab):
    page = browser.new_page()
    yield page
    page.close()
    lab.shut_down_kernels()


def code_cells_not_run(cells: list[dict]) -> list[int]:
    return [i for i, c in enumerate(cells) if c["code"] and not EXECUTED.match(c["prompt"].strip())]


def error_texts(cell: dict) -> list[str]:
    return [text for text in cell["stderr"] if is_error(text)]


@pytest.mark.parametrize("assignment, notebook", notebooks())
def test_solution_notebook_runs_all_cells_in_jupyterlab(assignment, notebook, lab, page, tmp_path):
    path = f"solutions/{assignment}/{notebook}.ipynb"
    with screenshot_on_failure(page, tmp_path, notebook, lab):
        nb = Notebook(page, lab, path).open()
        started = time.perf_counter()
        cells = nb.run("Run All Cells", 0, RUN_SECONDS)
        print(f"{path}: Run All Cells took {time.perf_counter() - started:.1f} s in the browser")
        errors = {i: error_texts(c)[0][-600:] for i, c in enumerate(cells) if error_texts(c)}
        assert not errors, f"{path}: cells showed errors in JupyterLab: {errors}"
        assert not code_cells_not_run(cells), f"{path}: code cells {code_cells_not_run(cells)} did not run"
        images = [image for c in cells for image in c["images"]]
        assert images, f"{path}: no plot appeared (no image in any output)"
        broken = [image for image in images if min(image["natural"] + image["shown"]) < MIN_PLOT_PIXELS]
        assert not broken, f"{path}: images without a real size (natural / shown pixels): {broken}"
        print(
            f"{path}: {sum(c['code'] for c in cells)} code cells run, {len(images)} plots shown, "
            f"screenshot {nb.screenshot_of_last_plot(tmp_path / f'{notebook}-after-run-all.png')}"
        )


def first_course_notebook() -> tuple[str, str]:
    return next((a, nb) for a, nb in notebooks() if (COURSE / a / f"{nb}.ipynb").exists())


def test_student_notebook_fails_only_in_its_graded_cells_in_jupyterlab(lab, page, tmp_path):
    """Run All runs past the failing test cells (tagged raises-exception); should it stop at a failing
    cell, the test carries on as a learner would: select the cell after the failure and run it and
    everything below, to the end."""
    assignment, notebook = first_course_notebook()
    path = f"course/{assignment}/{notebook}.ipynb"
    graded = set(graded_cells(read(COURSE / assignment / f"{notebook}.ipynb")))
    with screenshot_on_failure(page, tmp_path, f"student-{notebook}", lab):
        nb = Notebook(page, lab, path).open()
        ids = [cell.id for cell in nb.source.cells]
        failures: dict[str, str] = {}
        first, menu_item = 0, "Run All Cells"
        while first < len(ids):
            cells = nb.run(menu_item, first, RUN_SECONDS)
            failed = next((i for i in range(first, len(cells)) if error_texts(cells[i])), None)
            if failed is None:
                break
            failures[ids[failed]] = error_texts(cells[failed])[0]
            first, menu_item = failed + 1, "Run Selected Cell and All Below"
            if first < len(ids):
                nb.select(first)
        assert not code_cells_not_run(cells), (
            f"{path}: code cells {[ids[i] for i in code_cells_not_run(cells)]} did not run"
        )
        not_graded = {cell: text[-400:] for cell, text in failures.items() if cell not in graded}
        assert not not_graded, f"{path}: cells that are not graded tests failed: {not_graded}"
        assert set(failures) == graded, f"{path}: graded cells that did not fail on the stubs: {graded - set(failures)}"
        other = {cell: text[-400:] for cell, text in failures.items() if "not implemented yet" not in text}
        assert not other, f"{path}: graded cells failed for another reason than the stub: {other}"
        print(f"{path}: {len(failures)} graded cells fail with 'not implemented yet', every other cell runs")


def test_formgrader_lists_the_course_assignments(lab, page, tmp_path):
    with screenshot_on_failure(page, tmp_path, "formgrader", lab):
        page.goto(f"{lab.url}/lab?reset")
        Notebook.menu_of(page, "Nbgrader", "Formgrader")
        formgrader = page.frame_locator("iframe").first
        names = formgrader.locator("#main-table td.name")
        names.first.wait_for(timeout=120_000)
        listed = set(names.all_inner_texts())
        assert listed == set(assignments()), f"the formgrader lists {sorted(listed)}, the course has {assignments()}"


def test_landing_page_opens_and_leads_to_chapter_one(lab, page, tmp_path):
    """What the Binder badge opens (urlpath=lab/tree/index.ipynb): the chapter list, whose first link opens chapter 1."""
    assignment, notebook = first_course_notebook()
    target = f"course/{assignment}/{notebook}.ipynb"
    with screenshot_on_failure(page, tmp_path, "landing", lab):
        page.goto(f"{lab.url}/lab/tree/index.ipynb?reset")
        rendered = page.locator(".jp-NotebookPanel .jp-RenderedMarkdown")
        rendered.first.wait_for(timeout=120_000)
        # JupyterLab shows a local link as /files/<path>; a click opens the notebook in a JupyterLab tab.
        link = rendered.locator(f'a[href*="/files/{target}"]').first
        link.click()
        tab = page.locator(
            ".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel", has_text=re.compile(rf"^{notebook}\.ipynb$")
        )
        tab.first.wait_for(timeout=120_000)
        opened = Notebook(page, lab, target)
        opened.wait_for_cells(120)
        assert opened.kernel_status(), "the notebook opened from the landing page shows no kernel in the status bar"


def test_browser_tests_fail_in_ci_when_chromium_is_missing(monkeypatch):
    """On a developer's machine a missing Chromium skips the browser tests; in CI it is a failure."""
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="chromium"):
        require("/usr/bin/chromium is missing")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require("/usr/bin/chromium is missing")


# ---------------------------------------------------------------------------------------------------------
# The learner's first hour, started exactly as the README says: `.venv/bin/dlcourse lab`.
# ---------------------------------------------------------------------------------------------------------

LEARNER_NOTEBOOK = "course/ch01_networks/networks.ipynb"
INSTRUCTOR_WORDS = ("Create Assignment", "Formgrader")
# A learner's wrong sigmoid: the sign inside exp is flipped (the check has a hint for this mistake).
WRONG_SIGMOID = 'def sigmoid(x):\n    """A wrong sigmoid."""\n    return 1 / (1 + np.exp(x))\n'
FIRST_SCREEN_LINES = 12  # what a learner reads of an output without scrolling it


def dlcourse_lab(base: Path, *, instructor: bool) -> JupyterLab:
    """A server started the way `dlcourse lab` starts it, on a copy of the course.

    The test's own PATH is cut down to the system's, so that the only way to `dlcourse` in the server's
    terminals and kernels is what `dlcourse.lab.command` adds."""
    from dlcourse.lab import command

    root = course_copy(ROOT, base / "course")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", "/usr/local/bin:/usr/bin:/bin")
        patch.delenv("VIRTUAL_ENV", raising=False)
        launch = command(root, instructor=instructor, config_folder=base / "dlcourse-config")
    return JupyterLab(root, base / "home", base / "jupyterlab.log", launch=launch)


@pytest.fixture(scope="module")
def learner_lab(tmp_path_factory):
    require(chromium_problem())
    server = dlcourse_lab(tmp_path_factory.mktemp("dlcourse-lab"), instructor=False)
    started = time.perf_counter()
    server.start()
    print(f"`dlcourse lab` answered after {time.perf_counter() - started:.1f} s at {server.url}")
    yield server
    server.stop()


@pytest.fixture
def learner_page(browser, learner_lab):
    page = browser.new_page()
    yield page
    page.close()
    learner_lab.shut_down_kernels()


def open_as_the_readme_does(page, server: JupyterLab) -> None:
    """What `jupyter lab index.ipynb` opens in the learner's web browser: the page the server writes
    for its file to run (jpserver-file-to-run-PID-open.html), which forwards to the notebook."""
    runtime = server.home / "jupyter_runtime_dir"
    pages = sorted(runtime.glob(f"jpserver-file-to-run-{server.process.pid}-open.html"))
    assert pages, (
        f"the server wrote no page for its file to run in {runtime}: {sorted(p.name for p in runtime.iterdir())}"
    )
    page.goto(pages[0].as_uri())
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/lab/tree/index\.ipynb"), timeout=120_000)
    page.locator(".jp-NotebookPanel .jp-RenderedMarkdown").first.wait_for(timeout=120_000)


def visible_texts(page) -> str:
    """The page's text and every title attribute (a side bar tab is an icon with a title)."""
    return page.evaluate("""() => document.body.innerText + '\\n' +
        Array.from(document.querySelectorAll('[title]')).map(e => e.getAttribute('title')).join('\\n')""")


def menu_bar(page) -> list[str]:
    return page.locator(".lm-MenuBar-itemLabel").all_inner_texts()


def test_readme_command_opens_the_course_for_a_learner(learner_lab, learner_page, tmp_path):
    """`dlcourse lab`: index.ipynb open, the repository's root in the file browser, no instructor tools,
    and `dlcourse` on the PATH of JupyterLab's terminal."""
    page = learner_page
    with screenshot_on_failure(page, tmp_path, "dlcourse-lab", learner_lab):
        open_as_the_readme_does(page, learner_lab)
        current = page.locator(".lm-DockPanel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")
        assert current.first.inner_text() == "index.ipynb"
        listing = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
        listing.first.wait_for(timeout=60_000)
        names = set(listing.all_inner_texts())
        assert {"course", "index.ipynb"} <= names, f"the file browser shows {sorted(names)}, not the repository's root"
        assert (learner_lab.root / "solutions").is_dir() and "solutions" not in names, (
            f"the learner's file browser shows the solutions: {sorted(names)}"
        )
        page.wait_for_timeout(1000)  # let every extension add its menus and panels
        menus = menu_bar(page)
        assert "Run" in menus and "Nbgrader" not in menus, f"the learner's menu bar: {menus}"
        texts = visible_texts(page)
        shown = [word for word in INSTRUCTOR_WORDS if word in texts]
        assert not shown, f"the learner's JupyterLab shows instructor tools: {shown}"
        page.screenshot(path=str(tmp_path / "dlcourse-lab-first-screen.png"))

        # JupyterLab's own terminal, as the learner opens it, runs `dlcourse`.
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^File$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile("^New$")).first.hover()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Terminal$")).first.click()
        screen = page.locator(".jp-Terminal .xterm")
        screen.first.wait_for(timeout=60_000)
        page.wait_for_timeout(2000)  # the shell's start-up files
        screen.first.click()
        found = learner_lab.root / "dlcourse-on-path.txt"
        page.keyboard.type(
            f"{{ command -v dlcourse; dlcourse --help; }} > {found.name} 2>&1; echo rc=$? >> {found.name}\n"
        )
        deadline = time.monotonic() + 60
        while not (found.exists() and "rc=" in found.read_text()) and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        text = found.read_text() if found.exists() else "(nothing written)"
        page.screenshot(path=str(tmp_path / "dlcourse-lab-terminal.png"))
        for terminal in learner_lab.api("GET", "terminals"):
            learner_lab.api("DELETE", f"terminals/{terminal['name']}")
        assert "rc=0" in text and "usage" in text.lower(), f"`dlcourse --help` in JupyterLab's terminal:\n{text}"
        assert text.splitlines()[0] == str(Path(sys.executable).parent / "dlcourse"), text


def test_instructor_command_keeps_the_instructor_tools(browser, tmp_path_factory, tmp_path):
    """`dlcourse lab --instructor`: the same JupyterLab with the Nbgrader menu, Formgrader and Create Assignment."""
    require(chromium_problem())
    server = dlcourse_lab(tmp_path_factory.mktemp("dlcourse-lab-instructor"), instructor=True)
    server.start()
    page = browser.new_page()
    try:
        with screenshot_on_failure(page, tmp_path, "dlcourse-lab-instructor", server):
            open_as_the_readme_does(page, server)
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$")).first.wait_for(timeout=60_000)
            listing = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
            listing.first.wait_for(timeout=60_000)
            assert "solutions" in listing.all_inner_texts(), "the instructor's file browser hides the solutions"
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Nbgrader$")).click()  # Formgrader is in it
            page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Formgrader$")).first.wait_for(timeout=10_000)
            texts = visible_texts(page)
            assert all(word in texts for word in INSTRUCTOR_WORDS), (
                f"the instructor's JupyterLab lacks {[w for w in INSTRUCTOR_WORDS if w not in texts]}"
            )
    finally:
        page.close()
        server.stop()


def set_cell_source(nb: Notebook, index: int, source: str) -> None:
    """Type `source` into cell `index` the way a paste does (no auto-indent, no auto-closed brackets)."""
    nb.select(index)
    editor = (
        nb.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index).locator(".cm-content")
    )
    editor.click()
    nb.page.keyboard.press("Control+A")
    nb.page.keyboard.press("Delete")
    nb.page.keyboard.insert_text(source)
    typed = editor.evaluate("e => e.cmView ? e.cmView.view.state.doc.toString() : e.innerText")
    assert typed.strip() == source.strip(), f"cell {index + 1} reads {typed!r} after typing {source!r}"
    nb.page.keyboard.press("Escape")


FIRST_LINES_JS = """(cell, lines) => {
  const output = cell.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]');
  if (!output) return null;
  output.scrollIntoView({block: 'start'});
  const text = output.textContent;
  const first = text.split('\\n').slice(0, lines).join('\\n');
  // What of the first lines is really on the screen: inside the window and inside every scrolling box around it.
  const walker = document.createTreeWalker(output, NodeFilter.SHOW_TEXT);
  let visible = '';
  let clip = {top: 0, left: 0, bottom: window.innerHeight, right: window.innerWidth};
  for (let box = output; box; box = box.parentElement) {
    const style = getComputedStyle(box);
    if (/(auto|scroll)/.test(style.overflowY)) {
      const r = box.getBoundingClientRect();
      clip = {top: Math.max(clip.top, r.top), left: Math.max(clip.left, r.left),
              bottom: Math.min(clip.bottom, r.bottom), right: Math.min(clip.right, r.right)};
    }
  }
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.textContent.length; i++) {
      const range = document.createRange();
      range.setStart(node, i); range.setEnd(node, i + 1);
      const r = range.getBoundingClientRect();
      const ch = node.textContent[i];
      if (ch === '\\n' || (r.height > 0 && r.top >= clip.top - 1 && r.bottom <= clip.bottom + 1)) visible += ch;
    }
  }
  return {first: first, visible: visible, all: text, clip: clip};
}"""


def test_failing_check_shows_its_message_on_the_first_screen(learner_lab, learner_page, tmp_path):
    """A wrong sigmoid: the test cell's output starts with the teaching message, on screen, and no frame
    of the course's own checking code."""
    page = learner_page
    with screenshot_on_failure(page, tmp_path, "failing-check", learner_lab):
        nb = Notebook(page, learner_lab, LEARNER_NOTEBOOK).open()
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.source.cells]
        exercise, test = ids.index("ch01_sigmoid"), ids.index("ch01_sigmoid_test")
        set_cell_source(nb, exercise, WRONG_SIGMOID)
        for index in range(test + 1):
            if nb.source.cells[index].cell_type == "code":
                nb.select(index)
                nb.run("Run Selected Cell and Do not Advance", index, RUN_SECONDS)
        cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(test)
        shown = cell.evaluate(FIRST_LINES_JS, FIRST_SCREEN_LINES)
        assert shown is not None, "the test cell of the wrong sigmoid shows no error"
        page.screenshot(path=str(tmp_path / "failing-check-first-screen.png"))
        first = shown["first"]
        assert "sigmoid" in first and re.search(r"expected|hint", first), (
            f"the first {FIRST_SCREEN_LINES} lines of the output do not teach:\n{first}"
        )
        on_screen = " ".join(shown["visible"].split())
        assert "sigmoid" in on_screen and re.search(r"expected|hint", on_screen), (
            f"the message is not on the screen (visible box {shown['clip']}); what is:\n{shown['visible'][:1500]}"
        )
        assert "dlcourse/checking" not in shown["all"] and "checking/__init__" not in shown["all"], shown["all"]
        assert "Traceback" not in shown["all"], f"the output is a traceback:\n{shown['all'][:1500]}"
        print(f"what the learner sees first:\n{first}")


@pytest.mark.parametrize(
    "assignment, notebook", [(a, nb) for a, nb in notebooks() if (COURSE / a / f"{nb}.ipynb").exists()]
)
def test_run_all_on_an_untouched_notebook_reaches_the_progress_table(
    assignment, notebook, learner_lab, learner_page, tmp_path
):
    """Run All on the stubs: every cell runs, only the graded test cells report a failure, and the last
    cell lists every exercise (failed or not run yet) and the total."""
    path = f"course/{assignment}/{notebook}.ipynb"
    graded = graded_cells(read(COURSE / assignment / f"{notebook}.ipynb"))
    page = learner_page
    with screenshot_on_failure(page, tmp_path, f"run-all-{notebook}", learner_lab):
        nb = Notebook(page, learner_lab, path).open()
        ids = [c.metadata.get("nbgrader", {}).get("grade_id", c.id) for c in nb.source.cells]
        started = time.perf_counter()
        cells = nb.run("Run All Cells", 0, RUN_SECONDS)
        seconds = time.perf_counter() - started
        assert not code_cells_not_run(cells), f"{path}: cells {[ids[i] for i in code_cells_not_run(cells)]} did not run"
        failed = {ids[i]: error_texts(c)[0] for i, c in enumerate(cells) if error_texts(c)}
        not_graded = {cell: text[:600] for cell, text in failed.items() if cell not in graded}
        assert not not_graded, f"{path}: cells that are not test cells failed: {not_graded}"
        other = {cell: text[:600] for cell, text in failed.items() if "not implemented yet" not in text[:300]}
        assert not other, f"{path}: test cells that do not start with 'not implemented yet' on the stubs: {other}"
        assert set(failed) == set(graded), (
            f"{path}: test cells that report no failure on the stubs: {set(graded) - set(failed)}"
        )
        table = cells[-1]["text"]
        rows = re.findall(r"^(\w+)\s+(passed|failed|not run yet)\s+(\S+)/(\S+)$", table, re.MULTILINE)
        names = [grade_id.removesuffix("_test").split("_", 1)[1] for grade_id in graded]
        assert [row[0] for row in rows] == names, (
            f"{path}: the progress table's rows are not its {len(graded)} exercises:\n{table}"
        )
        assert all(row[1] in ("failed", "not run yet") and row[2] == "0" for row in rows), (
            f"{path}: progress on the stubs:\n{table}"
        )
        total = f"0/{sum(graded.values()):g}"
        assert re.search(rf"^total\s+0/{len(graded)} passed\s+{re.escape(total)}$", table, re.MULTILINE), (
            f"{path}:\n{table}"
        )
        cells_locator = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
        cells_locator.last.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / f"run-all-{notebook}-progress.png"))
        print(f"{path}: Run All took {seconds:.0f} s; {len(failed)} test cells report; the last cell:\n{table}")
        # Shown once: not printed and then echoed again as the quoted string progress_table() returns.
        assert table.count("total") == 1, f"{path}: the last cell shows the table more than once:\n{table}"
