"""The course in a real browser: JupyterLab in headless Chromium, used the way a learner and an instructor use it.

One JupyterLab server and one browser serve all of these tests (they share an xdist group, so they
run in one worker). They skip on a developer's machine without Chromium, and fail in CI (CI=true).
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser_support import (EXECUTED, JupyterLab, Notebook, chromium, chromium_problem, course_copy,
                                   is_error, require, screenshot_on_failure)
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
def browser(lab, tmp_path_factory):
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
        broken = [image for image in images
                  if min(image["natural"] + image["shown"]) < MIN_PLOT_PIXELS]
        assert not broken, f"{path}: images without a real size (natural / shown pixels): {broken}"
        print(f"{path}: {sum(c['code'] for c in cells)} code cells run, {len(images)} plots shown, "
              f"screenshot {nb.screenshot_of_last_plot(tmp_path / f'{notebook}-after-run-all.png')}")


def first_course_notebook() -> tuple[str, str]:
    return next((a, nb) for a, nb in notebooks() if (COURSE / a / f"{nb}.ipynb").exists())


def test_student_notebook_fails_only_in_its_graded_cells_in_jupyterlab(lab, page, tmp_path):
    """Run All stops at the first failing cell (as in any JupyterLab), so the test carries on as a
    learner would: select the cell after the failure and run it and everything below, to the end."""
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
        assert not code_cells_not_run(cells), (f"{path}: code cells {[ids[i] for i in code_cells_not_run(cells)]} "
                                               f"did not run")
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
        tab = page.locator(".lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel", has_text=re.compile(rf"^{notebook}\.ipynb$"))
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
