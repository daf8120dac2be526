"""The watch: a learner's function that calls the answer key, a reference or torch fails its check; honest code passes.

The learner's code is compiled under a file name of its own, as a notebook cell is, so that it
is not the test's own (trusted) code.
"""

from __future__ import annotations

import textwrap
import time

import numpy as np
import pytest

from dlcourse.checking import CheckFailed, check
from dlcourse.reference import networks as ref

X = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])


def learner(source: str, name: str, cell: str = "<learner cell 1>", **namespace):
    """Define ``name`` from ``source`` as a notebook cell would (its own file name), in a namespace with np."""
    scope = {"np": np, **namespace}
    exec(compile(textwrap.dedent(source), cell, "exec"), scope)
    return scope[name]


def message_of(fn, reference=ref.sigmoid, cases=(X,), **options) -> str:
    with pytest.raises(CheckFailed) as info:
        check(fn, reference, list(cases), quiet=True, **options)
    return str(info.value)


HONEST = """
def sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
"""

# Find the watch's hook, then write into whatever it remembers that solved code is allowed.
TEACH_THE_HOOK = """
import sys, threading, dlcourse.solved.networks as s
def sigmoid(x):
    hook = {hook}
    state = [c.cell_contents for c in getattr(hook, '__closure__', None) or ()]
    state += list(getattr(getattr(hook, '__self__', None), '__dict__', {{}}).values())
    for d in state:
        if isinstance(d, dict):
            d[s.sigmoid.__code__] = 'allowed'
    return s.sigmoid(x)
"""

CHEATS = {
    "solved, directly": "import dlcourse.solved.networks as solved\ndef sigmoid(x):\n    return solved.sigmoid(x)",
    "solved, through an alias": "from dlcourse.solved.networks import sigmoid as s\nS = s\ndef sigmoid(x):\n    return S(x)",
    "solved, imported inside": "def sigmoid(x):\n    from dlcourse.solved import networks\n    return networks.sigmoid(x)",
    "the reference": "from dlcourse.reference import networks as r\ndef sigmoid(x):\n    return r.sigmoid(x)",
    "torch": "import torch\ndef sigmoid(x):\n    return torch.sigmoid(torch.from_numpy(x)).numpy()",
    "a tensor method": "import torch\ndef sigmoid(x):\n    t = torch.as_tensor(x)\n    return t.sigmoid().numpy()",
    "torch.nn.functional": "import torch.nn.functional as F, torch\ndef sigmoid(x):\n    return F.sigmoid(torch.tensor(x)).numpy()",
    "the course's device helper": (
        "from dlcourse.device import to_tensor, to_numpy\ndef sigmoid(x):\n    return to_numpy(to_tensor(x).sigmoid())"
    ),
    "map over solved": (
        "import dlcourse.solved.networks as s\ndef sigmoid(x):\n    return np.array(list(map(s.sigmoid, x)))"
    ),
    "np.vectorize of solved": (
        "import dlcourse.solved.networks as s\ndef sigmoid(x):\n    return np.vectorize(s.sigmoid)(x)"
    ),
    "exec of a string": ("import dlcourse.solved.networks as s\ndef sigmoid(x):\n    return eval('s.sigmoid(x)')"),
    "the demo fallback": (
        "from dlcourse.exercises import use_yours\n"
        "def stub(x):\n    raise NotImplementedError()\n"
        "def sigmoid(x):\n    return use_yours(stub, 'networks.sigmoid')(x)"
    ),
    "the watch turned off": (
        "import sys, dlcourse.solved.networks as s\n"
        "def sigmoid(x):\n    h = sys.getprofile(); sys.setprofile(None)\n"
        "    r = s.sigmoid(x)\n    sys.setprofile(h)\n    return r"
    ),
    "a thread": (
        "import threading, dlcourse.solved.networks as s\n"
        "def sigmoid(x):\n    out = []\n    t = threading.Thread(target=lambda: out.append(s.sigmoid(x)))\n"
        "    t.start(); t.join()\n    return out[0]"
    ),
    "the watch's own hook, taught that solved code is allowed": TEACH_THE_HOOK.format(hook="sys.getprofile()"),
    "the hook threading keeps for new threads": TEACH_THE_HOOK.format(hook="threading._profile_hook"),
    "a thread pool": (
        "import concurrent.futures as cf, dlcourse.solved.networks as s\n"
        "def sigmoid(x):\n    with cf.ThreadPoolExecutor(1) as pool:\n        return pool.submit(s.sigmoid, x).result()"
    ),
    "a subprocess": (
        "import pickle, subprocess, sys\n"
        "CHILD = 'import sys, pickle, numpy as np; x = pickle.load(sys.stdin.buffer); "
        "sys.stdout.buffer.write(pickle.dumps(1 / (1 + np.exp(-x))))'\n"
        "def sigmoid(x):\n"
        "    done = subprocess.run([sys.executable, '-c', CHILD], input=pickle.dumps(x), capture_output=True)\n"
        "    return pickle.loads(done.stdout)"
    ),
    "the caller's frames": (
        "import sys\ndef sigmoid(x):\n    f = sys._getframe(1)\n"
        "    return np.zeros_like(x) if f is None else 1 / (1 + np.exp(-x))"
    ),
}


@pytest.mark.parametrize("how", sorted(CHEATS))
def test_a_cheat_fails_with_a_message_that_names_the_call(how):
    message = message_of(learner(CHEATS[how], "sigmoid"))
    assert message.startswith("`sigmoid` calls "), message
    assert "write it with NumPy" in message.lower() or "Write it with NumPy" in message


def test_the_message_names_the_solved_function():
    message = message_of(learner(CHEATS["solved, directly"], "sigmoid"))
    assert "`dlcourse.solved.networks.sigmoid`" in message


def test_a_helper_from_another_cell_is_the_learners_code_too():
    helper = learner(
        "import dlcourse.solved.networks as s\ndef helper(x):\n    return s.sigmoid(x)",
        "helper",
        cell="<learner cell 2>",
    )
    fn = learner("def sigmoid(x):\n    return helper(x)", "sigmoid", helper=helper)
    assert "dlcourse.solved.networks.sigmoid" in message_of(fn)


def test_honest_code_passes_and_so_do_offered_blocks(capsys):
    check(learner(HONEST, "sigmoid"), ref.sigmoid, [X])
    offered = learner(CHEATS["solved, directly"], "sigmoid")
    check(offered, ref.sigmoid, [X], allow=("dlcourse.solved.networks.sigmoid",))
    check(offered, ref.sigmoid, [X], allow=("dlcourse.solved.networks",))
    assert capsys.readouterr().out.count("matches the PyTorch reference") == 3


def test_an_offered_block_does_not_open_the_others():
    fn = learner("import dlcourse.solved.networks as s\ndef relu(x):\n    return s.relu(x)", "relu")
    assert "dlcourse.solved.networks.relu" in message_of(fn, ref.relu, allow=("dlcourse.solved.networks.sigmoid",))


def test_honest_code_that_warns_or_uses_math_passes():
    fn = learner(
        """
        import math, warnings
        def sigmoid(x):
            warnings.warn("a learner's own warning")
            return np.array([1 / (1 + math.exp(-v)) for v in x.ravel()]).reshape(x.shape)
        """,
        "sigmoid",
    )
    with pytest.warns(UserWarning):
        check(fn, ref.sigmoid, [X], quiet=True)


def test_an_adapter_in_the_test_cell_may_call_a_reference_after_the_learners_function():
    fn = learner(HONEST, "sigmoid")
    adapter = lambda x: ref.relu(fn(x) - 0.5)  # defined here, in the "test cell" that calls check  # noqa: E731
    check(adapter, lambda x: ref.relu(ref.sigmoid(x) - 0.5), [X], quiet=True)


def _search_for_answer_source() -> str:
    return """
        def sigmoid(x):
            truth = 1 / (1 + np.exp(-x))  # what the learner wants to find somewhere
            def found(value):
                return isinstance(value, np.ndarray) and value.shape == x.shape and value is not x \\
                    and np.allclose(value, truth) and value.dtype == x.dtype
            def search(value, depth=0):
                if found(value):
                    return value
                if depth < 3 and isinstance(value, (list, tuple)):
                    for v in value:
                        hit = search(v, depth + 1)
                        if hit is not None:
                            return hit
                if depth < 3 and isinstance(value, dict):
                    for v in list(value.values()):
                        hit = search(v, depth + 1)
                        if hit is not None:
                            return hit
                return None
            try:
                raise RuntimeError
            except RuntimeError as error:
                frame = error.__traceback__.tb_frame.f_back   # no call: the watch cannot see this walk
            while frame is not None:
                for value in list(frame.f_locals.values()):
                    hit = search(value)
                    if hit is not None:
                        return hit.copy()
                frame = frame.f_back
            for name in ("In", "Out", "_", "__", "___"):
                hit = search(STATE.get(name))
                if hit is not None:
                    return hit.copy()
            return np.zeros_like(x)
        """


def test_the_expected_result_is_nowhere_on_the_stack_while_the_learners_code_runs():
    state = {"Out": {1: ref.relu(X)}, "_": None}  # what an IPython history holds: no answer of this check
    fn = learner(_search_for_answer_source(), "sigmoid", STATE=state)
    message = message_of(fn, cases=(X, X * 2, np.float32(1) * X.astype(np.float32)))
    assert "differs from the PyTorch reference" in message, message


def test_the_watch_costs_little_on_vectorised_code():
    fn = learner(HONEST, "sigmoid")
    x = np.random.default_rng(0).standard_normal((200, 200))

    def best_of(run, repeats=7):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    from dlcourse.watch import Watch

    plain = best_of(lambda: [fn(x) for _ in range(20)])

    def watched():
        with Watch("sigmoid"):
            [fn(x) for _ in range(20)]

    assert best_of(watched) < 1.5 * plain + 2e-3


def test_demos_use_the_learners_function_only_once_it_passes_its_test(capsys):
    from dlcourse.exercises import use_yours

    wrong = learner("def sigmoid(x):\n    return 1 / (1 + np.exp(x))", "sigmoid")
    assert np.allclose(use_yours(wrong, "networks.sigmoid")(X), 1 / (1 + np.exp(X)))  # not checked yet: the learner's
    message_of(wrong)
    demo = use_yours(wrong, "networks.sigmoid")
    assert np.allclose(demo(X), ref.sigmoid(X)) and np.allclose(demo(X), ref.sigmoid(X))
    assert capsys.readouterr().out.count("does not pass its test yet") == 1
    right = learner(HONEST, "sigmoid")
    check(right, ref.sigmoid, [X], quiet=True)
    assert use_yours(right, "networks.sigmoid")(X) is not None and "solved" not in capsys.readouterr().out


def test_learner_code_that_calls_a_trusted_adapter_which_calls_a_reference_is_caught():
    """dlcourse.cases is the tests' own code, but calling it from the learner's function opens nothing."""
    fn = learner(
        "from dlcourse.cases import networks as cases\n"
        "import dlcourse.checking.running as running\n"
        "def sigmoid(x):\n    return running.run_reference(__import__('dlcourse.reference.networks', "
        "fromlist=['x']).sigmoid, running.Inputs(x))",
        "sigmoid",
    )
    assert "dlcourse.reference.networks.sigmoid" in message_of(fn)


def test_a_function_the_test_hands_to_the_learner_may_use_solved_code():
    """numerical_gradient(f, x) calls f: the test's f may be built on solved code; the learner's own call of it may not."""
    from dlcourse.solved import networks as solved_networks

    def objective(x):  # the test's function, built on the course's code
        return float(solved_networks.sigmoid(x).sum())

    fn = learner("def total(f, x):\n    return np.array(f(x))", "total")
    check(fn, lambda f, x: np.array(f(x)), [(objective, X)], quiet=True)
    cheat = learner(
        "import dlcourse.solved.networks as s\ndef total(f, x):\n    return np.array(s.sigmoid(x).sum())", "total"
    )
    assert "dlcourse.solved.networks.sigmoid" in message_of(cheat, lambda f, x: np.array(f(x)), cases=[(objective, X)])


# --- turning the watch off before the check starts -------------------------------------------------------------

CHEAT = "import dlcourse.solved.networks as solved\ndef sigmoid(x):\n    return solved.sigmoid(x)"
NO_WATCH = """
class NoWatch:
    violation = None
    def __init__(self, *args, **kwargs): pass
    def __enter__(self): return self
    def __exit__(self, *exc): return None
    def message(self): return ""
"""
SWITCH_OFF = {
    "the Watch class swapped": NO_WATCH
    + "import dlcourse.checking as c, dlcourse.checking.running as r\nc.Watch = r.Watch = NoWatch",
    "the hook replaced": "import dlcourse.watch as w\nw.Watch._make_hook = lambda self: lambda frame, event, arg: None",
    "the context manager replaced": NO_WATCH + "import dlcourse.watch as w\nw.Watch.__enter__ = NoWatch.__enter__",
    "sys.setprofile and sys.getprofile faked": (
        "import sys\nseen = []\nsys.setprofile = lambda hook: seen.append(hook)\n"
        "sys.getprofile = lambda: seen[-1] if seen else None"
    ),
    "the forbidden folders emptied": "import dlcourse.watch as w\nw._FORBIDDEN_DIRS = ('/nowhere/',)",
    "the file classification replaced": "import dlcourse.watch as w\nw._file_kind = lambda filename: 'library'",
    "the escape hatches emptied": (
        "import dlcourse.watch as w\n"
        "w._ESCAPES_C = w._ESCAPES_PY = w._OUT_OF_SIGHT_C = w._OUT_OF_SIGHT_PY = frozenset()\n"
        "w._ESCAPE_IDS = w._OUT_OF_SIGHT_IDS = frozenset()"
    ),
}


@pytest.fixture
def put_back():
    """Undo what a cell below changes (the guard would put it back at the next check too)."""
    import sys

    from dlcourse import guard

    guard.remember_originals()
    saved = {(owner, attr): getattr(owner, attr) for owner, attr in guard._watched()}
    profile = (sys.setprofile, sys.getprofile)
    yield
    sys.setprofile, sys.getprofile = profile
    for (owner, attr), value in saved.items():
        setattr(owner, attr, value)


@pytest.mark.parametrize("how", SWITCH_OFF)
def test_a_cell_that_switches_the_watch_off_before_the_check_does_not_help(how, put_back, capsys):
    learner(SWITCH_OFF[how], "np", cell="<learner cell 0>")
    cheat = learner(CHEAT, "sigmoid")
    assert "calls `dlcourse.solved.networks.sigmoid`" in message_of(cheat)
    check(learner(HONEST, "sigmoid"), ref.sigmoid, [X], quiet=True)  # honest code still passes afterwards
