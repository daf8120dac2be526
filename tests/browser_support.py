"""JupyterLab in a real browser for the tests: a private JupyterLab server and headless Chromium.

The server runs this environment's `python -m jupyter lab` on a free loopback port, in a copy of the
course (JupyterLab saves notebooks; the repository's own files are never touched), with its own
temporary Jupyter config, data, runtime, settings and workspace folders, no token, no password, no
news and no update check. The browser is Debian's Chromium (`apt-get install chromium`), driven by
Playwright through `executable_path`: nothing downloads a browser.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import nbformat

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}

# JupyterLab user settings for the test server: no news or update prompts, and every cell kept in the
# page (the default "contentVisibility" windowing skips the layout of cells out of view, so an image
# there has no size to check).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}

# The state of every cell of the notebook in view, as a learner sees it.
CELLS_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return null;
  return Array.from(panel.querySelectorAll('.jp-Notebook .jp-Cell')).map(cell => ({
    code: cell.classList.contains('jp-CodeCell'),
    prompt: (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '',
    stderr: Array.from(cell.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
                 .map(o => o.textContent),
    text: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(o => o.textContent).join('\\n'),
    images: Array.from(cell.querySelectorAll('.jp-OutputArea-output img')).map(img => {
      const box = img.getBoundingClientRect();
      return {natural: [img.naturalWidth, img.naturalHeight], shown: [box.width, box.height]};
    }),
  }));
}"""

EXECUTED = re.compile(r"^\[\d+\]:$")
RUNNING = "[*]:"
KERNEL_IDLE = re.compile(r"^(?!No Kernel).+ \| Idle$")


def chromium_problem() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: `apt-get install -y chromium` (Debian's package; .ci/run installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python Playwright is missing: pip install -e '.[test]'"
    return None


def require(problem: str | None) -> None:
    """Skip with the reason on a developer's machine; fail in CI (CI=true), where the browser must be there."""
    if problem is None:
        return
    import pytest

    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"CI cannot run the browser tests: {problem}", pytrace=False)
    pytest.skip(problem)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_error(stderr_text: str) -> bool:
    """An error output (IPython's traceback, or a failed check's "✘ CheckFailed: ..."), as opposed to a
    warning printed to stderr."""
    return (
        "Traceback" in stderr_text or re.search(r"^(✘ )?\w+(Error|Exception|Failed)\b", stderr_text, re.M) is not None
    )


class JupyterLab:
    """A JupyterLab server for one test session, serving `root` (a copy of the course).

    With `launch` (the argv and environment of `dlcourse.lab.command`), the server is started exactly
    that way, plus only what a test needs: port, no token, allow-root and private Jupyter folders."""

    def __init__(self, root: Path, home: Path, log: Path, launch: tuple[list[str], dict[str, str]] | None = None):
        self.root, self.home, self.log_path, self.launch = root, home, log, launch
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        folders = {
            name: self.home / name.lower()
            for name in (
                "JUPYTER_CONFIG_DIR",
                "JUPYTER_DATA_DIR",
                "JUPYTER_RUNTIME_DIR",
                "IPYTHONDIR",
                "JUPYTERLAB_SETTINGS_DIR",
                "JUPYTERLAB_WORKSPACES_DIR",
                "MPLCONFIGDIR",
            )
        }
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        for plugin, settings in LAB_SETTINGS.items():
            path = folders["JUPYTERLAB_SETTINGS_DIR"] / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings))
        env = {**(os.environ if base is None else base), **{name: str(folder) for name, folder in folders.items()}}
        if base is None:
            # nbgrader (the formgrader) calls `alembic` by name: this environment's bin/ goes first.
            env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        return env

    def launch_command(self) -> tuple[list[str], dict[str, str]]:
        """`dlcourse lab`'s command line and environment, plus what a test server needs."""
        argv, env = self.launch
        argv = [
            *argv,
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            "--allow-root",
        ]  # the tests call the REST API; CI runs as root
        return argv, self.environment(env)

    def start(self, timeout: float = 180) -> None:
        command = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--ServerApp.root_dir={self.root}",
            "--IdentityProvider.token=",
            "--ServerApp.password=",
            "--ServerApp.disable_check_xsrf=True",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            "--allow-root",
        ]  # CI runs as root
        env = self.environment()
        if self.launch is not None:
            command, env = self.launch_command()
        self.log = self.log_path.open("w")
        # The working folder is the course's root: the formgrader reads nbgrader_config.py from there.
        self.process = subprocess.Popen(
            command, cwd=self.root, env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, characters: int = 4000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-characters:]

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        for session in self.api("GET", "sessions"):
            self.api("DELETE", f"sessions/{session['id']}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def course_copy(root: Path, destination: Path, extra: tuple[str, ...] = ("index.ipynb",)) -> Path:
    """The course (nbgrader config, solutions, student notebooks, landing page) copied for the server."""
    from tests.course import copy_course

    copy_course(destination)
    for name in extra:
        if (root / name).exists():
            shutil.copy(root / name, destination / name)
    return destination


@contextmanager
def chromium(profile: Path):
    """A headless Chromium (a fresh profile) driven by Playwright; yields the browser context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport=VIEWPORT,
            accept_downloads=False,
        )
        try:
            yield context
        finally:
            context.close()


class Notebook:
    """A notebook open in JupyterLab, worked on through the page as a learner would."""

    def __init__(self, page, lab: JupyterLab, relative_path: str):
        self.page, self.lab, self.path = page, lab, relative_path
        self.source = nbformat.read(str(lab.root / relative_path), as_version=4)

    def open(self, timeout: float = 120) -> Notebook:
        # ?reset: a clean workspace, nothing else restored next to this notebook.
        self.page.goto(f"{self.lab.url}/lab/tree/{self.path}?reset", timeout=timeout * 1000)
        self.wait_for_cells(timeout)
        return self

    def wait_for_cells(self, timeout: float) -> None:
        """Wait until every cell of the file is on the page and the kernel is idle."""
        deadline = time.monotonic() + timeout
        while len(self.cells()) != len(self.source.cells):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.path}: JupyterLab shows {len(self.cells())} cells, the file has {len(self.source.cells)}"
                )
            self.page.wait_for_timeout(250)
        self.wait_for_kernel_idle(max(deadline - time.monotonic(), 1))

    def kernel_status(self) -> str:
        """The status bar's kernel item, e.g. 'Python 3 (ipykernel) | Idle' ('No Kernel | Initializing' at first)."""
        return next((line for line in self.status_bar().splitlines() if " | " in line), "")

    def wait_for_kernel_idle(self, timeout: float) -> None:
        """Wait until the status bar reads a kernel as idle: Run All before that opens a kernel dialog."""
        deadline = time.monotonic() + timeout
        while not KERNEL_IDLE.match(self.kernel_status()):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the kernel of {self.path} is not idle after {timeout:.0f} s "
                    f"(status bar: {self.kernel_status()!r})"
                )
            self.page.wait_for_timeout(250)

    def cells(self) -> list[dict]:
        return self.page.evaluate(CELLS_JS) or []

    def menu(self, menu: str, item: str) -> None:
        self.menu_of(self.page, menu, item)

    @staticmethod
    def menu_of(page, menu: str, item: str) -> None:
        """Click `item` in the menu bar's `menu`, e.g. Run > Run All Cells."""
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()

    def screenshot_of_last_plot(self, path: Path) -> Path:
        """A screenshot with the notebook scrolled to its last plot (or where it is, if it has none)."""
        images = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img")
        if images.count():
            images.last.scroll_into_view_if_needed()
        self.page.screenshot(path=str(path))
        return path

    def select(self, index: int, attempts: int = 5) -> None:
        """Select cell `index` (command mode) by clicking its prompt area; the status bar confirms it."""
        cell = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell").nth(index)
        wanted = f"Cell {index + 1}/{len(self.source.cells)}"
        for _ in range(attempts):
            cell.scroll_into_view_if_needed()
            cell.locator(".jp-InputPrompt").first.click()  # (the collapser beside it would fold the input)
            self.page.wait_for_timeout(200)
            if wanted in self.status_bar():
                return
        raise AssertionError(
            f"{self.path}: clicking cell {index + 1} did not select it (status bar: {self.status_bar()!r})"
        )

    def status_bar(self) -> str:
        return self.page.evaluate("() => (document.querySelector('#jp-main-statusbar') || {}).innerText || ''")

    def run(self, menu_item: str, first: int, timeout: float) -> list[dict]:
        """Run cells through the Run menu, from cell `first`; wait until they are done and return the cells."""
        self.wait_for_kernel_idle(timeout)
        self.menu("Run", menu_item)
        deadline = time.monotonic() + timeout
        # JupyterLab runs the cells one after the other, and the kernel is idle for a moment between two
        # cells: the run is over when its last cell has run, or (stopped by an error) nothing ran for 5 s.
        quiet_since = None
        while True:
            self.dialog_is_absent()
            cells = self.cells()
            code = [c for c in cells[first:] if c["code"]]
            last = code[-1] if code and "All" in menu_item else (code[0] if code else None)
            started = not code or EXECUTED.match(code[0]["prompt"].strip())
            running = any(c["prompt"].strip() == RUNNING for c in cells)
            quiet = started and not running and KERNEL_IDLE.match(self.kernel_status())
            quiet_since = (quiet_since or time.monotonic()) if quiet else None
            if quiet and (last is None or EXECUTED.match(last["prompt"].strip()) or time.monotonic() - quiet_since > 5):
                self.page.wait_for_timeout(300)  # let the last outputs render
                return self.cells()
            if time.monotonic() > deadline:
                prompts = " ".join(c["prompt"].strip() or "md" for c in cells)
                raise AssertionError(
                    f"{self.path}: {menu_item} from cell {first + 1} not done after {timeout:.0f} s "
                    f"(kernel: {self.kernel_status()!r}; prompts: {prompts})"
                )
            self.page.wait_for_timeout(250)

    def dialog_is_absent(self) -> None:
        dialog = self.page.locator(".jp-Dialog")
        if dialog.count():
            raise AssertionError(f"{self.path}: JupyterLab opened a dialog: {dialog.first.inner_text()[:500]!r}")


@contextmanager
def screenshot_on_failure(page, folder: Path, name: str, lab: JupyterLab | None = None):
    """On failure, save what the browser showed in the test's temporary folder and print its path
    (and the end of JupyterLab's log)."""
    try:
        yield
    except BaseException:
        path = folder / f"{name}-failure.png"
        try:
            page.screenshot(path=str(path))
            print(f"screenshot of the failure: {path}")
        except Exception as error:  # the page itself may be gone
            print(f"no screenshot of the failure ({error})")
        if lab is not None:
            print(f"end of JupyterLab's log ({lab.log_path}):\n{lab.log_tail(2000)}")
        raise
