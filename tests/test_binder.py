"""What Binder builds from this repository, shown by Binder's own builder without Docker, and where a launch lands.

`repo2docker --no-build --debug` prints the Dockerfile Binder would build; binder/postBuild runs here
in a scratch copy of the repository as $HOME, against a scratch environment (the developer's .venv is
not touched).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import urllib.parse
from pathlib import Path

import nbformat
import pytest
import tomllib

from tests.browser_support import require
from tests.course import COURSE, ROOT, SOLUTIONS, notebooks

BINDER = ROOT / "binder"
LANDING = "index.ipynb"


def runtime_python() -> str:
    """The Python minor version binder/runtime.txt asks for, e.g. '3.11'."""
    match = re.fullmatch(r"python-(\d+\.\d+)", (BINDER / "runtime.txt").read_text().strip())
    assert match, "binder/runtime.txt must read python-X.Y"
    return match.group(1)


@pytest.fixture(scope="module")
def dockerfile() -> str:
    if importlib.util.find_spec("repo2docker") is None:
        require("jupyter-repo2docker is not installed: pip install -e '.[test]'")
    result = subprocess.run(
        [sys.executable, "-m", "repo2docker", "--no-build", "--no-run", "--debug", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, (
        f"repo2docker failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    assert "FROM " in result.stdout, (
        f"repo2docker printed no Dockerfile:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    )
    return result.stdout


def test_binder_builds_from_the_binder_folder(dockerfile):
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile, (
        "Binder does not install binder/requirements.txt"
    )
    assert "RUN ./binder/postBuild" in dockerfile, "Binder does not run binder/postBuild"
    assert "environment.yml" not in dockerfile and "pip install --no-cache-dir ." not in dockerfile, (
        "Binder would build from something else than binder/"
    )


def unescaped(dockerfile: str) -> str:
    """The Dockerfile with repo2docker's escaped file names readable ('-2e' is '.', '-2d' is '-', ...)."""
    return re.sub(r"-([0-9a-f]{2})", lambda match: chr(int(match.group(1), 16)), dockerfile)


def test_binder_python_is_the_one_ci_uses(dockerfile):
    # The base environment's lock file, copied into the image, names its Python.
    built = re.findall(r"environment\.py-(\d+\.\d+)-linux-64\.lock", unescaped(dockerfile))
    assert built == [runtime_python()], f"Binder builds Python {built}, binder/runtime.txt asks for {runtime_python()}"
    assert runtime_python() == "3.11", "CI and Binder use Python 3.11 (the README says so)"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        assert f"{sys.version_info.major}.{sys.version_info.minor}" == runtime_python(), (
            f"CI runs Python {sys.version}, Binder gets {runtime_python()}"
        )


def requirement_names(lines: list[str]) -> set[str]:
    names = set()
    for line in lines:
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(re.split(r"[\s<>=!~\[;]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def test_binder_requirements_hold_a_cpu_only_torch_and_every_dependency():
    requirements = (BINDER / "requirements.txt").read_text().splitlines()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in requirements
    torch = [line for line in requirements if line.startswith("torch")]
    readme_torch = re.search(r"torch==([\d.]+)", (ROOT / "README.md").read_text()).group(1)
    assert torch == [f"torch=={readme_torch}+cpu"], (
        f"Binder's torch {torch}: the CPU build of the README's {readme_torch}"
    )
    # postBuild installs the package with --no-deps: every dependency must come from requirements.txt.
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    missing = requirement_names(dependencies) - requirement_names(requirements)
    assert not missing, f"binder/requirements.txt lacks the package's dependencies {sorted(missing)}"


def repository_files() -> list[str]:
    """The files a clone would have: tracked ones and new ones git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def scratch_environment(prefix: Path) -> Path:
    """A venv whose own site-packages are empty, seeing this environment's packages (pip, setuptools,
    the requirements) through a .pth line: what postBuild installs lands in the scratch venv only."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)
    python = prefix / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "_dlcourse_test_base.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return python


def test_postbuild_succeeds_in_a_scratch_home(tmp_path):
    home = tmp_path / "home"
    for name in repository_files():
        (home / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, home / name)
    python = scratch_environment(tmp_path / "env")
    own_site = Path(sysconfig.get_path("purelib"))
    before = sorted(p.name for p in own_site.iterdir())
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "PYTHON", "PIP_"))}
    env.update(
        HOME=str(home),
        PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"),
    )
    result = subprocess.run(
        ["bash", str(home / "binder" / "postBuild")],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, (
        f"binder/postBuild failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )

    imported = subprocess.run(
        [str(python), "-c", "import dlcourse; print(dlcourse.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(imported).is_relative_to(home / "src"), f"the scratch environment imports dlcourse from {imported}"
    assert (python.parent / "dlcourse").exists(), "postBuild did not install the `dlcourse` command"
    overrides = json.loads((tmp_path / "env" / "share" / "jupyter" / "lab" / "settings" / "overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"] == {"fetchNews": "false", "checkForUpdates": False}
    assert sorted(p.name for p in own_site.iterdir()) == before, "postBuild changed this environment's site-packages"


def landing_links() -> list[str]:
    nb = nbformat.read(str(ROOT / LANDING), as_version=4)
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    return re.findall(r"\]\(([^)\s]+\.ipynb)\)", text)


def test_landing_page_links_every_student_notebook():
    nb = nbformat.read(str(ROOT / LANDING), as_version=4)
    nbformat.validate(nb)
    assert all(cell.cell_type == "markdown" for cell in nb.cells), "the landing page is text only"
    links = landing_links()
    expected = {f"course/{assignment}/{notebook}.ipynb" for assignment, notebook in notebooks()}
    assert set(links) == expected, (
        f"{LANDING} should link every student notebook: missing {sorted(expected - set(links))}, "
        f"extra {sorted(set(links) - expected)}"
    )
    first = links[0]
    assert first == min(expected), f"{LANDING}'s first link should be chapter 1, not {first}"
    # course/ is generated from solutions/ (tests/test_notebooks.py checks that), so a link to a
    # chapter whose student version is not generated yet still has its solution.
    for link in links:
        assert (ROOT / link).exists() or (SOLUTIONS / Path(link).relative_to("course")).exists(), link


def readme_launch_urls() -> list[str]:
    return re.findall(r"https://[^\s)\]`>]+", (ROOT / "README.md").read_text())


def test_binder_badge_opens_the_landing_page_in_jupyterlab():
    binder = [url for url in readme_launch_urls() if url.startswith("https://mybinder.org/v2/")]
    assert binder, "the README has no Binder badge"
    for url in binder:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert query.get("urlpath") == [f"lab/tree/{LANDING}"], f"{url} should open lab/tree/{LANDING}"
    assert (ROOT / LANDING).exists() and COURSE.is_dir()


def test_jupyterhub_link_pulls_the_repository_and_opens_the_landing_page():
    pulls = [url for url in readme_launch_urls() if "/hub/user-redirect/git-pull?" in url]
    assert pulls, "the README has no nbgitpuller link for JupyterHub users"
    for url in pulls:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        repository = query["repo"][0].rstrip("/").removesuffix(".git")
        folder = repository.rsplit("/", 1)[-1]
        assert query.get("branch") == ["main"], url
        assert query.get("urlpath") == [f"lab/tree/{folder}/{LANDING}"], (
            f"{url} should open lab/tree/{folder}/{LANDING}"
        )
