"""`dlcourse copies`: near-copies of the course's code or of another student's answer are listed,
genuinely different correct solutions are not, and one-liners never are (pure Python, fast).

The alternative implementations below are correct (each is checked against ``dlcourse.solved``
on the same inputs) and written the way different people write them: masks, loops, einsum,
recursion, np.piecewise, log-sum-exp by hand. The copies are what a copier does to hide one:
rename every variable, rewrite comments and docstrings, reformat, reorder statements, split a
statement or turn a conditional expression into an ``if``.
"""

from __future__ import annotations

import hashlib
import itertools
import math

import nbformat
import numpy as np
import pytest

from dlcourse.cli import main
from dlcourse.copies import (
    MIN_TOKENS,
    THRESHOLD,
    course_answers,
    find_copies,
    functions,
    given_code,
    report_copies,
    similarity,
    student_answers,
)
from dlcourse.solved import losses, networks, optimizers

A, NB = "ch99_tiny", "tiny"
EXERCISES = {  # grade id -> (function, its signature)
    "ch99_relu": ("relu", "def relu(x):"),
    "ch99_sigmoid": ("sigmoid", "def sigmoid(x):"),
    "ch99_mlp": ("mlp_forward", 'def mlp_forward(X, params, activation="relu"):'),
    "ch99_adam": ("adam_step", "def adam_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):"),
    "ch99_ce": ("cross_entropy", "def cross_entropy(logits, labels):"),
}
STUB = '{}\n    """{} (see the text above)."""\n    # YOUR CODE HERE\n    raise NotImplementedError()'

# --- independent, correct solutions ---------------------------------------------------------
SIGMOID_MASK = """def sigmoid(x):
    out = np.empty_like(x, dtype=float)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out"""
SIGMOID_LOOP = """def sigmoid(x):
    flat = np.asarray(x, dtype=float).ravel()
    result = np.zeros_like(flat)
    for i, value in enumerate(flat):
        if value >= 0:
            result[i] = 1 / (1 + math.exp(-value))
        else:
            e = math.exp(value)
            result[i] = e / (1 + e)
    return result.reshape(np.shape(x))"""
SIGMOID_PIECEWISE = """def sigmoid(x):
    x = np.asarray(x, dtype=float)
    return np.piecewise(x, [x >= 0, x < 0],
                        [lambda t: 1 / (1 + np.exp(-t)), lambda t: np.exp(t) / (1 + np.exp(t))])"""
SIGMOID_CLIP = """def sigmoid(x):
    z = np.clip(x, -500, 500)
    return 1.0 / (1.0 + np.exp(-z))"""
MLP_DEPTH = """def mlp_forward(X, params, activation="relu"):
    act = ACTIVATIONS[activation]
    depth = max(int(k[1:]) for k in params if k.startswith("W"))
    out, caches = X, []
    for i in range(depth):
        W, b = params["W%d" % (i + 1)], params["b%d" % (i + 1)]
        pre = out @ W.T + b
        caches.append((out, pre))
        out = pre if i == depth - 1 else act(pre)
    return out, caches"""
MLP_SORTED = """def mlp_forward(X, params, activation="relu"):
    layers = sorted({int(name[1:]) for name in params})
    caches = []
    h = X
    for i, layer in enumerate(layers):
        z = h @ params["W" + str(layer)].T + params["b" + str(layer)]
        caches.append((h, z))
        last = i == len(layers) - 1
        h = z if last else ACTIVATIONS[activation](z)
    return h, caches"""
MLP_EINSUM = """def mlp_forward(X, params, activation="relu"):
    caches = []
    A = X
    l = 1
    while f"W{l}" in params:
        Z = np.einsum("ni,oi->no", A, params[f"W{l}"]) + params[f"b{l}"]
        caches.append((A, Z))
        l += 1
        A = Z if f"W{l}" not in params else ACTIVATIONS[activation](Z)
    return A, caches"""
MLP_RECURSIVE = """def mlp_forward(X, params, activation="relu"):
    n = len(params) // 2
    def layer(k, inputs, caches):
        z = dense_forward(inputs, params[f"W{k}"], params[f"b{k}"])
        caches = caches + [(inputs, z)]
        if k == n:
            return z, caches
        return layer(k + 1, ACTIVATIONS[activation](z), caches)
    return layer(1, X, [])"""
ADAM_DICT = """def adam_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    if weight_decay:
        g = g + weight_decay * p
    step = state.get("step", 0) + 1
    new = {"step": step}
    new["m"] = betas[0] * state.get("m", np.zeros_like(p)) + (1 - betas[0]) * g
    new["v"] = betas[1] * state.get("v", np.zeros_like(p)) + (1 - betas[1]) * np.square(g)
    corrected_m = new["m"] / (1 - betas[0] ** step)
    corrected_v = new["v"] / (1 - betas[1] ** step)
    return p - lr * corrected_m / (np.sqrt(corrected_v) + eps), new"""
ADAM_STEPSIZE = """def adam_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    b1, b2 = betas
    grad = g + weight_decay * p if weight_decay != 0 else g
    t = 1 + state.get("step", 0)
    m = state["m"] * b1 + grad * (1 - b1) if "m" in state else (1 - b1) * grad
    v = state["v"] * b2 + grad ** 2 * (1 - b2) if "v" in state else (1 - b2) * grad ** 2
    denom = np.sqrt(v / (1 - b2 ** t)) + eps
    return p - (lr / (1 - b1 ** t)) * m / denom, dict(step=t, m=m, v=v)"""
CE_LOGSUMEXP = """def cross_entropy(logits, labels):
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return float(np.mean(lse - logits[np.arange(len(labels)), labels]))"""
CE_ONEHOT = """def cross_entropy(logits, labels):
    z = logits - np.max(logits, axis=-1, keepdims=True)
    log_probs = z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))
    onehot = np.eye(logits.shape[1])[labels]
    return float(-(onehot * log_probs).sum() / logits.shape[0])"""
CE_LOOP = """def cross_entropy(logits, labels):
    total = 0.0
    for row, label in zip(logits, labels):
        top = row.max()
        total += top + math.log(np.exp(row - top).sum()) - row[label]
    return total / len(labels)"""

# --- copies -----------------------------------------------------------------------------------
COPY_OF_SOLVED_SIGMOID = '''def sigmoid(x):
    """Logistic function, my own version."""
    # take the exponent of minus the absolute value so it cannot overflow
    t = np.exp( -np.abs(x) )
    return np.where(x >= 0,
                    1 / (1 + t),     # positive side
                    t / (1 + t))     # negative side'''
COPY_OF_SOLVED_ADAM = """def adam_step(p, g, state, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    b1, b2 = betas
    n = state.get("step", 0) + 1        # step counter first
    g = g + weight_decay * p
    second = b2 * state.get("v", 0.0) + (1 - b2) * g * g
    first = b1 * state.get("m", 0.0) + (1 - b1) * g
    second_hat = second / (1 - b2 ** n)
    first_hat = first / (1 - b1 ** n)
    return p - lr * first_hat / (np.sqrt(second_hat) + eps), {"step": n, "m": first, "v": second}"""
COPY_OF_SOLVED_MLP = """def mlp_forward(X, params, activation="relu"):
    L = len(params) // 2
    cache_list = []
    h = X
    for l in range(1, L + 1):
        z = h @ params[f"W{l}"].T + params[f"b{l}"]
        cache_list.append((h, z))
        if l < L:
            h = ACTIVATIONS[activation](z)
        else:
            h = z
    return h, cache_list"""
COPY_OF_ALICES_MLP = """def mlp_forward(X, params, activation="relu"):
    # activation function
    f = ACTIVATIONS[activation]
    n_layers = max(int(key[1:]) for key in params if key.startswith("W"))
    a, cache = X, []
    for j in range(n_layers):
        weight, bias = params["W%d" % (j + 1)], params["b%d" % (j + 1)]
        z = a @ weight.T + bias
        cache.append((a, z))
        if j == n_layers - 1:
            a = z
        else:
            a = f(z)
    return a, cache"""
COPY_OF_ALICES_ADAM = (
    ADAM_DICT.replace("new", "result")
    .replace("corrected_", "unbiased_")
    .replace("    step = state", "    # count the step\n    step = state")
)

ONE_LINERS = {
    "alice": "def relu(x):\n    return np.maximum(x, 0)",
    "bob": "def relu(x):\n    return np.maximum(0, x)",
    "carol": "def relu(x):\n    return np.maximum(x, 0.0)",
    "dave": "def relu(x):\n    return x * (x > 0)",
    "copier": "def relu(x):\n    return np.maximum(x, 0)",
}
SUBMISSIONS = {  # student -> grade id -> answer
    "alice": {"ch99_sigmoid": SIGMOID_MASK, "ch99_mlp": MLP_DEPTH, "ch99_adam": ADAM_DICT, "ch99_ce": CE_LOGSUMEXP},
    "bob": {
        "ch99_sigmoid": SIGMOID_LOOP,
        "ch99_mlp": COPY_OF_ALICES_MLP,
        "ch99_adam": COPY_OF_ALICES_ADAM,
        "ch99_ce": CE_ONEHOT,
    },
    "carol": {
        "ch99_sigmoid": SIGMOID_PIECEWISE,
        "ch99_mlp": MLP_SORTED,
        "ch99_adam": ADAM_STEPSIZE,
        "ch99_ce": CE_LOOP,
    },
    "dave": {"ch99_sigmoid": SIGMOID_CLIP, "ch99_mlp": MLP_EINSUM},
    "erin": {"ch99_mlp": MLP_RECURSIVE},
    "copier": {
        "ch99_sigmoid": COPY_OF_SOLVED_SIGMOID,
        "ch99_mlp": COPY_OF_SOLVED_MLP,
        "ch99_adam": COPY_OF_SOLVED_ADAM,
    },
}
EXPECTED = {  # (submission, exercise, near-copy of)
    ("copier", "ch99_sigmoid", "dlcourse.solved.networks.sigmoid"),
    ("copier", "ch99_mlp", "dlcourse.solved.networks.mlp_forward"),
    ("copier", "ch99_adam", "dlcourse.solved.optimizers.adam_step"),
    ("alice", "ch99_mlp", "student bob"),
    ("alice", "ch99_adam", "student bob"),
}
INDEPENDENT = {
    "sigmoid": [SIGMOID_MASK, SIGMOID_LOOP, SIGMOID_PIECEWISE, SIGMOID_CLIP],
    "mlp_forward": [MLP_DEPTH, MLP_SORTED, MLP_EINSUM, MLP_RECURSIVE],
    "adam_step": [ADAM_DICT, ADAM_STEPSIZE],
    "cross_entropy": [CE_LOGSUMEXP, CE_ONEHOT, CE_LOOP],
}


def notebook(answers: dict[str, str]) -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_code_cell("import math\nimport numpy as np", id="setup")]
    for grade_id, (function, signature) in EXERCISES.items():
        cell = nbformat.v4.new_code_cell(answers.get(grade_id, STUB.format(signature, function)), id=grade_id)
        cell.metadata["nbgrader"] = {
            "solution": True,
            "grade": False,
            "locked": False,
            "grade_id": grade_id,
            "schema_version": 3,
        }
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


@pytest.fixture
def course(tmp_path):
    """A course folder as nbgrader leaves it: the released notebook and the class's submissions."""
    (tmp_path / "course" / A).mkdir(parents=True)
    nbformat.write(notebook({}), str(tmp_path / "course" / A / f"{NB}.ipynb"))
    for student, answers in SUBMISSIONS.items():
        folder = tmp_path / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(notebook({**answers, "ch99_relu": ONE_LINERS.get(student, "")}), str(folder / f"{NB}.ipynb"))
    (tmp_path / "submitted" / "broken" / A).mkdir(parents=True)
    (tmp_path / "submitted" / "broken" / A / f"{NB}.ipynb").write_text("{ not a notebook")
    return tmp_path


def define(source: str):
    namespace = {"np": np, "math": math, "ACTIVATIONS": networks.ACTIVATIONS, "dense_forward": networks.dense_forward}
    exec(source, namespace)  # noqa: S102 (the test's own code)
    return next(value for key, value in namespace.items() if key in {f for f, _ in EXERCISES.values()})


def test_the_alternative_solutions_and_the_copies_are_correct():
    """They compute what dlcourse.solved computes (float64, same inputs; rtol 1e-12 allows for the
    different order of operations, on inputs where no formula loses digits to cancellation)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-6, 6, size=(4, 5))
    for source in [*INDEPENDENT["sigmoid"], COPY_OF_SOLVED_SIGMOID]:
        np.testing.assert_allclose(define(source)(x), networks.sigmoid(x), rtol=1e-12, atol=0)
    X, params = rng.normal(size=(3, 4)), networks.init_params([4, 5, 3, 2])
    for source in [*INDEPENDENT["mlp_forward"], COPY_OF_SOLVED_MLP, COPY_OF_ALICES_MLP]:
        out, caches = define(source)(X, params, "tanh")
        expected, expected_caches = networks.mlp_forward(X, params, "tanh")
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-15)
        assert len(caches) == len(expected_caches)
    p, grads = rng.normal(size=6), rng.normal(size=(3, 6))
    for source in [*INDEPENDENT["adam_step"], COPY_OF_SOLVED_ADAM, COPY_OF_ALICES_ADAM]:
        mine, theirs, state_mine, state_theirs = p, p, {}, {}
        for g in grads:
            mine, state_mine = define(source)(mine, g, state_mine, weight_decay=0.1)
            theirs, state_theirs = optimizers.adam_step(theirs, g, state_theirs, weight_decay=0.1)
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=0)
    logits, labels = rng.normal(size=(5, 4)), rng.integers(0, 4, size=5)
    for source in INDEPENDENT["cross_entropy"]:
        assert define(source)(logits, labels) == pytest.approx(losses.cross_entropy(logits, labels), rel=1e-12)


def test_names_comments_docstrings_and_formatting_do_not_count_but_the_computation_does():
    original = "def f(x, y):\n    total = np.exp(x) + y  # sum\n    return total * 2"
    disguised = 'def f(a, b):\n    """Docstring."""\n    # a comment\n    s = np.exp( a )+b\n\n    return (s\n            * 2.0)'
    assert functions(original) == functions(disguised)
    assert functions(original) != functions(original.replace("np.exp", "np.log"))  # library calls are kept


def test_copies_are_flagged_and_independent_solutions_are_not(course):
    matches = find_copies(student_answers(course, A), course_answers(course, A), given_code(course, A))
    assert {(m.student, m.exercise, m.other) for m in matches} == EXPECTED
    assert all(m.similarity >= THRESHOLD for m in matches)
    # the copies are far above the line, not just over it
    assert min(m.similarity for m in matches) >= 0.85


def test_independent_solutions_stay_well_below_the_threshold(tmp_path):
    """Calibration of THRESHOLD: each pair of different correct solutions, and each against every
    function of the course's code, scores at most about 0.6 (0.62: a cross-entropy that computes a
    log-softmax inline, against dlcourse.solved's log_softmax); the threshold is 0.8."""
    course = [list(a.tokens) for a in course_answers(tmp_path, A) if len(a.tokens) >= MIN_TOKENS]  # dlcourse.solved
    scores = []
    for name, sources in INDEPENDENT.items():
        code = [functions(source)[name] for source in sources]
        scores += [similarity(a, b) for a, b in itertools.combinations(code, 2)]
        scores += [similarity(mine, key) for mine in code if len(mine) >= MIN_TOKENS for key in course]
    assert max(scores) < 0.7 < THRESHOLD


def test_one_liners_are_not_compared_so_they_never_flag_everyone(course):
    relu = {student: functions(source)["relu"] for student, source in ONE_LINERS.items()}
    assert all(len(code) < MIN_TOKENS for code in relu.values())
    # without the minimum size, the same obvious line written independently would be "copied"
    students, key, given = student_answers(course, A), course_answers(course, A), given_code(course, A)
    everything = find_copies(students, key, given, min_tokens=0)
    assert {m.student for m in everything if m.exercise == "ch99_relu"} >= {"alice", "bob", "carol", "copier"}
    assert not [m for m in find_copies(students, key, given) if m.exercise == "ch99_relu"]


def test_a_copy_of_the_instructors_solution_cell_is_flagged(course):
    """The instructor's solution cells count as the course's code too (they may differ from dlcourse.solved)."""
    key = """def cross_entropy(logits, labels):
    n = len(labels)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    picked = np.clip(probs[np.arange(n), labels], 1e-300, None)
    return float(-np.log(picked).sum() / n)"""
    mine = """def cross_entropy(logits, labels):
    count = len(labels)
    # softmax, shifted by the row maximum so that exp cannot overflow
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    chosen = np.clip(p[np.arange(count), labels], 1e-300, None)
    return float(-np.log(chosen).sum() / count)"""
    (course / "solutions" / A).mkdir(parents=True)
    nbformat.write(notebook({"ch99_ce": key}), str(course / "solutions" / A / f"{NB}.ipynb"))
    nbformat.write(notebook({"ch99_ce": mine}), str(course / "submitted" / "erin" / A / f"{NB}.ipynb"))
    rows = [line.split() for line in report_copies(course, A).splitlines() if line.startswith("erin ")]
    assert ["erin", "ch99_ce", "cross_entropy", f"solutions/{A}/{NB}.ipynb:", "cross_entropy", "1.00"] in rows


def test_the_command_prints_the_table_and_changes_nothing(course, monkeypatch, capsys):
    def contents():
        return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(course.rglob("*")) if p.is_file()}

    before = contents()
    monkeypatch.chdir(course)
    assert main(["copies", A]) == 0
    out = capsys.readouterr().out
    assert contents() == before, "the report changes no file (and so no score)"
    assert "submission" in out and "near-copy of" in out and "similarity" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("alice ", "copier "))]
    assert sorted((row[0], row[1]) for row in rows) == sorted((s, e) for s, e, _ in EXPECTED)
    assert "no score was changed" in out
    assert "broken" not in out  # an unreadable notebook is skipped (grading reports it)
    assert "no answers to compare" in report_copies(course, "ch98_missing")
