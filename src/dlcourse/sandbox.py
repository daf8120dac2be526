"""One sandbox per grading kernel: submissions run in bubblewrap, not with the grader's rights.

(Over 300 lines: the bubblewrap command line, the kernel manager with its limits and clean-up, and the
Execute wiring belong together; the formatter's one-item-per-line command lists add the rest.)

``nbgrader_config.py`` makes nbgrader's autograde execute notebooks with a sandboxed Execute (:func:`sandboxed`),
whose kernels :class:`SandboxedKernelManager` starts under ``bwrap --unshare-all``: ``nbgrader autograde`` and
``dlcourse grade`` (which runs it) both grade in the sandbox. A grading kernel gets this, and nothing else:

* **read-only**: ``/usr`` (and the ``/bin``, ``/lib*`` links to it), ``/etc/ld.so.cache``, ``/etc/localtime``,
  ``/etc/fonts``, the Python installation and the venv that run the kernel, the folder holding the ``dlcourse``
  package (``src/`` of an editable install), the course's ``datasets/``, and the folder nbgrader executes the
  notebook in (``autograded/<student>/<assignment>``: the submission itself). Not the course root: no
  ``solutions/``, ``gradebook.db``, ``submitted/``, ``autograded/`` or ``feedback/`` of anyone, no home folder;
* **writable**: a private ``/tmp`` and ``/dev/shm`` (size-limited tmpfs, gone with the kernel), and the kernel's
  own folder of Unix sockets (the ``ipc`` transport: TCP on loopback does not cross into a new network namespace);
* **no network** (a new, empty network namespace), its own PID, IPC and UTS namespaces, uid and gid 65534, an
  environment reduced to a few harmless variables (no tokens of the grader's);
* **limits**: address space (``memory_gb``), CPU seconds (``cpu_seconds``), processes and threads
  (``max_processes``: RLIMIT_NPROC above what the grader runs already; as root, which it does not bind, a ``pids``
  cgroup where one can be made, and a sandbox that reaches the limit is killed: a fork bomb's copies of the
  kernel would spin on and take the CPU of every other kernel), file size and tmpfs size (``disk_mb``).

Uid 65534 inside is the grader's uid outside (a user namespace): the grader's files are kept out by not being
mounted, or mounted read-only, not by file permissions. Where bubblewrap is missing or cannot start (macOS, no
user namespaces), kernels run unsandboxed after one warning; with ``require = True`` (``dlcourse grade
--require-sandbox``, or ``$DLCOURSE_REQUIRE_SANDBOX=1``) they refuse to start instead.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, Unicode, default
from traitlets.utils.importstring import import_item

NOBODY = 65534
ENV_KEPT = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "MPLBACKEND",
    "DLCOURSE_DEVICE",
    "DLCOURSE_DATASETS",
    "JPY_SESSION_NAME",
    "PYDEVD_DISABLE_FILE_VALIDATION",
)
_warned = False


class SandboxUnavailable(RuntimeError):
    """bubblewrap is required but cannot run here."""


def readonly_paths() -> list[Path]:
    """What a grading kernel reads: the Python installation, the venv, the package's folder, the datasets."""
    import dlcourse
    from dlcourse.data import DatasetError, datasets_dir

    paths = [Path(sys.base_prefix), Path(sys.prefix), Path(dlcourse.__file__).resolve().parents[1]]
    with contextlib.suppress(DatasetError):  # no datasets folder: the notebooks that load data will say so
        paths.append(datasets_dir())
    paths = [p.resolve() for p in paths if p.is_dir() and not str(p.resolve()).startswith("/usr/")]
    return sorted(set(paths))


def bwrap_command(
    kernel_cmd: list[str],
    work_dir: Path,
    sockets_dir: Path,
    *,
    bwrap: str = "bwrap",
    readonly: list[Path] | None = None,
    disk_mb: int = 512,
) -> list[str]:
    """The bwrap command line that runs ``kernel_cmd`` in the sandbox described in the module's docstring."""
    work_dir, sockets_dir = Path(work_dir).resolve(), Path(sockets_dir).resolve()
    if (work_dir / "gradebook.db").exists() or (work_dir / "nbgrader_config.py").exists():
        raise SandboxUnavailable(f"{work_dir} is a course root: a grading kernel must not see it")
    args = [
        bwrap,
        "--unshare-all",
        "--uid",
        str(NOBODY),
        "--gid",
        str(NOBODY),
        "--die-with-parent",
        "--unsetenv",
        "JPY_PARENT_PID",  # ipykernel would see its parent gone (new PID namespace) and exit
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for etc in ("/etc/ld.so.cache", "/etc/localtime", "/etc/fonts"):
        args += ["--ro-bind-try", etc, etc]
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(64 * 2**20),
        "--tmpfs",
        "/dev/shm",
        # /tmp first: a later mount under /tmp (a work folder, the sockets) must not be hidden by it
        "--size",
        str(disk_mb * 2**20),
        "--tmpfs",
        "/tmp",
    ]
    for path in readonly if readonly is not None else readonly_paths():
        args += ["--ro-bind", str(path), str(path)]
    args += [
        "--ro-bind",
        str(work_dir),
        str(work_dir),
        "--bind",
        str(sockets_dir),
        str(sockets_dir),
        "--remount-ro",
        "/dev",
        "--remount-ro",
        "/",
        "--chdir",
        str(work_dir),
        "--",
        *kernel_cmd,
    ]
    return args


@functools.cache
def problem(bwrap: str = "bwrap") -> str | None:
    """Why bubblewrap cannot sandbox a kernel here, or None when it can (tried once per process)."""
    found = shutil.which(bwrap)
    if not found:
        return f"bubblewrap ({bwrap}) is not installed"
    with tempfile.TemporaryDirectory() as folder:
        command = bwrap_command([sys.executable, "-c", "pass"], Path(folder), Path(folder), bwrap=found)
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bubblewrap cannot start: {error}"
    return None if result.returncode == 0 else f"bubblewrap cannot start: {result.stderr.strip()[-300:]}"


def _pids_cgroup(limit: int) -> Path | None:
    """A new cgroup holding at most ``limit`` processes (cgroup v1 ``pids`` or v2), or None where none can be made."""
    with contextlib.suppress(OSError, ValueError):
        own = dict(line.split(":", 2)[1:] for line in Path("/proc/self/cgroup").read_text().splitlines())
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields = line.split()
            kind, options = fields[fields.index("-") + 1], fields[fields.index("-") + 3].split(",")
            v1 = kind == "cgroup" and "pids" in options
            parent = Path(fields[4]) / own.get("pids" if v1 else "", "/").lstrip("/")
            if not v1 and (kind != "cgroup2" or "pids" not in (parent / "cgroup.controllers").read_text().split()):
                continue
            if not v1:
                (parent / "cgroup.subtree_control").write_text("+pids")
            group = parent / f"dlcourse-kernel-{uuid.uuid4().hex[:12]}"
            group.mkdir()
            (group / "pids.max").write_text(str(limit))
            return group
    return None


def _tasks_of(uid: int) -> int:
    """Threads of ``uid``'s processes: RLIMIT_NPROC counts them all, inside a sandbox or not (0 for root: exempt)."""
    count = 0
    for status in Path("/proc").glob("[0-9]*/status") if uid else []:
        with contextlib.suppress(OSError, ValueError):
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            count += int(fields["Threads"]) if int(fields["Uid"].split()[0]) == uid else 0
    return count


def _kill_all(group: Path) -> None:
    """SIGKILL every process in ``group`` until none is left (or 5 s have passed)."""
    for _ in range(50):
        with contextlib.suppress(OSError, ValueError):
            pids = (group / "cgroup.procs").read_text().split()
            if not pids:
                return
            for pid in pids:
                os.kill(int(pid), signal.SIGKILL)
        time.sleep(0.1)


def _watch(group: Path, limit: int, stop: threading.Event, log: Any) -> None:
    """Kill the whole sandbox once it holds ``limit`` processes: a fork bomb's copies of the kernel would
    otherwise go on spinning, and take the CPU from every other kernel, until the notebook's end."""
    with contextlib.suppress(OSError, ValueError):
        while not stop.wait(0.2):
            if int((group / "pids.current").read_text()) >= limit:
                log.error("a grading kernel reached its process limit (%d): the sandbox is killed", limit)
                _kill_all(group)
                return


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager that starts each kernel in its own bubblewrap sandbox (see the module's docstring)."""

    memory_gb = Float(4.0, help="Address space limit of a grading kernel, in GB (RLIMIT_AS).").tag(config=True)
    cpu_seconds = Integer(
        600,
        help="CPU time limit of a grading kernel, in seconds (RLIMIT_CPU): a notebook's "
        "computation, not one cell's (that is Execute.timeout).",
    ).tag(config=True)
    max_processes = Integer(
        256,
        help="Processes and threads a grading kernel may have at once (RLIMIT_NPROC; as "
        "root, a pids cgroup, and the sandbox is killed when it reaches the limit: "
        "a fork bomb's spinning copies would take every kernel's CPU).",
    ).tag(config=True)
    disk_mb = Integer(512, help="Size of a kernel's private /tmp and largest file it may write, MB.").tag(config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)
    require = Bool(
        help="Refuse to start a kernel that cannot be sandboxed, instead of warning once and "
        "running it unsandboxed. Default: $DLCOURSE_REQUIRE_SANDBOX."
    ).tag(config=True)

    @default("require")
    def _require_default(self) -> bool:
        return os.environ.get("DLCOURSE_REQUIRE_SANDBOX", "").strip().lower() in ("1", "true", "yes")

    @default("transport")
    def _transport_default(self) -> str:  # Unix sockets in a folder both sides see; unsandboxed, the usual TCP
        return "tcp" if problem(self.bwrap) else "ipc"

    _sockets_dir: str | None = None
    _cgroup: Path | None = None
    _stop_watch: threading.Event

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        global _warned
        reason = problem(self.bwrap)
        if reason and self.require:
            raise SandboxUnavailable(f"grading kernels must be sandboxed, but {reason}")
        if reason and not _warned:
            _warned = True
            self.log.warning(
                "WARNING: grading kernels are NOT sandboxed (%s): submissions run with your rights and "
                "can read solutions/ and gradebook.db. Install bubblewrap, or refuse with "
                "--require-sandbox.",
                reason,
            )
        if not reason and self._sockets_dir is None:  # the connection file and Unix sockets, in a folder both sides see
            self._sockets_dir = tempfile.mkdtemp(prefix="dlcourse-kernel-")
            self.connection_file = os.path.join(self._sockets_dir, "kernel.json")
            self.ip = os.path.join(self._sockets_dir, "ipc")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        if self._sockets_dir is not None:
            work_dir = Path(kw.get("cwd") or os.getcwd())
            kernel_cmd = bwrap_command(
                kernel_cmd, work_dir, Path(self._sockets_dir), bwrap=self.bwrap, disk_mb=self.disk_mb
            )
            env = kw.get("env") or os.environ
            kw["env"] = {
                **{k: v for k, v in env.items() if k in ENV_KEPT},
                "HOME": "/tmp",
                "USER": "nobody",
                "LOGNAME": "nobody",
                "TMPDIR": "/tmp",
                "MPLCONFIGDIR": "/tmp/matplotlib",
            }
            if os.geteuid() == 0 and self._cgroup is None:
                self._cgroup = _pids_cgroup(self.max_processes)
            kw["preexec_fn"] = self._limits()
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if self._cgroup is not None:
            self._stop_watch = threading.Event()
            threading.Thread(
                target=_watch, args=(self._cgroup, self.max_processes, self._stop_watch, self.log), daemon=True
            ).start()

    def _limits(self) -> Callable[[], None]:
        import resource

        limits = {
            resource.RLIMIT_AS: int(self.memory_gb * 2**30),
            resource.RLIMIT_CPU: self.cpu_seconds,
            resource.RLIMIT_NPROC: self.max_processes + _tasks_of(os.getuid()),
            resource.RLIMIT_FSIZE: self.disk_mb * 2**20,
            resource.RLIMIT_CORE: 0,
        }
        cgroup = self._cgroup

        def apply() -> None:  # in the child, before bwrap starts: bwrap and the kernel inherit all of it
            # An interrupt goes to the kernel's whole process group: bwrap must outlive it (and the kernel
            # with it); ipykernel sets its own SIGINT handler while it runs a cell, so interrupts still work.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            for which, value in limits.items():
                hard = resource.getrlimit(which)[1]
                value = value if hard == resource.RLIM_INFINITY else min(value, hard)
                grace = 5 if which == resource.RLIMIT_CPU and hard == resource.RLIM_INFINITY else 0  # SIGXCPU first
                resource.setrlimit(which, (value, value + grace))
            if cgroup is not None:
                (cgroup / "cgroup.procs").write_text(str(os.getpid()))

        return apply

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if restart:
            return
        if self._sockets_dir is not None:
            shutil.rmtree(self._sockets_dir, ignore_errors=True)
            self._sockets_dir = None
        if self._cgroup is not None:
            self._stop_watch.set()
            _kill_all(self._cgroup)  # the sandbox's processes die with it, but not all at once
            with contextlib.suppress(OSError):
                self._cgroup.rmdir()
            self._cgroup = None

    cleanup_resources = _async_cleanup_resources  # nbclient calls it by this name (the base class binds its own)


def _sandboxed_class(execute: type) -> type:
    """``execute`` (nbgrader's Execute or a subclass) starting its kernels with :class:`SandboxedKernelManager`.

    nbgrader's Execute passes its kernel manager class as an argument, which beats configuration:
    a subclass is the way to change it.
    """
    if execute not in _SANDBOXED:

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
            execute.__init__(self, *args, **kwargs)

        _SANDBOXED[execute] = type(
            f"Sandboxed{execute.__name__}",
            (execute,),
            {"__init__": __init__, "__module__": __name__, "__doc__": f"{execute.__name__}, each kernel in a sandbox."},
        )
    return _SANDBOXED[execute]


_SANDBOXED: dict[type, type] = {}
SandboxedExecute = _sandboxed_class(Execute)


def sandboxed(preprocessors: list | None = None) -> list:
    """``preprocessors`` (nbgrader's autograde list when None) with the one that executes notebooks sandboxed.

    For ``nbgrader_config.py``: ``c.Autograde.autograde_preprocessors = sandboxed(...)``; any
    subclass of nbgrader's Execute in the list is kept, as a sandboxed subclass of itself.
    """
    if preprocessors is None:
        from nbgrader.converters import Autograde

        preprocessors = Autograde.autograde_preprocessors.default()
    result = []
    for preprocessor in preprocessors:
        cls = import_item(preprocessor) if isinstance(preprocessor, str) else preprocessor
        result.append(_sandboxed_class(cls) if isinstance(cls, type) and issubclass(cls, Execute) else preprocessor)
    if result == list(preprocessors):
        raise ValueError(f"no nbgrader Execute to sandbox in {preprocessors}")
    return result
