"""Near-copies among answers, listed for the instructor to review: ``dlcourse copies ASSIGNMENT``.

(A little over 300 lines: normalising the AST, scoring, collecting the answers and the report are one
feature that reads best in one place.)

Every function in a submission's answer cells (nbgrader's solution cells) is compared with the
course's own code (``dlcourse.solved``, the instructor's solution cells) and with the same function
of every other submission, in a normalised form of its syntax tree (renaming variables, rewriting
comments and docstrings or reformatting changes nothing):

- the tree is walked in order and written as tokens: node types, operators, the names of
  attributes (``.exp``, ``.T``), keyword arguments and free names (``np``, ``len``, helpers),
  constants (numbers by value, ``1`` = ``1.0``; every string the same token);
- names bound inside the function (assigned variables, loop variables, nested functions)
  become ``$0, $1, ...`` in order of first use; the function's name and signature (given by
  the exercise), annotations, docstrings and bare string statements are dropped, and so are
  runs of tokens that the released student notebook already had in that cell (the stub);
- two functions' similarity is the larger of two measures, each 2 x shared / total: the
  5-token runs they share (Dice; local names all alike, so reordered statements still match)
  and difflib's ratio of their token sequences (which survives a statement split in two or an
  ``if`` instead of a conditional expression): 1.0 for the same code under other names.

Calibration (tests/test_copies.py): renamed, recommented or reordered copies score 0.99 to
1.0, a copy with a few statements restructured 0.86 to 0.96; genuinely different correct solutions
of the same exercises 0.62 at most, against each other and against the course's code. Pairs
from ``THRESHOLD`` = 0.8 are listed. Functions with fewer than ``MIN_TOKENS`` tokens of their
own are not compared: a one-liner such as ``return np.maximum(x, 0)`` (6 tokens) or
``return 1 / (1 + np.exp(-x))`` (13) has only a handful of reasonable forms, so independent
learners write the same tokens (``np.maximum(x, 0)`` against ``np.maximum(0, x)``: 0.83), and
a match says nothing. The list is a prompt to look, not a verdict: it changes no score.
"""

from __future__ import annotations

import ast
import contextlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import nbformat

K = 5  # tokens per gram: long enough that common fragments (``np.exp(-x)``) alone do not match
THRESHOLD = 0.8  # similarity from which a pair is listed (calibration above)
MIN_TOKENS = 20  # a function with fewer tokens of its own (a one-liner) is not compared: see above


@dataclass(frozen=True)
class Answer:
    owner: str  # a student id, or where the course's code is ("dlcourse.solved.networks")
    exercise: str  # the answer cell's grade id ("" for the course's package code)
    function: str
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    student: str
    exercise: str
    function: str
    other: str  # "student bob" or "dlcourse.solved.networks.sigmoid"
    similarity: float


class _Tokens(ast.NodeVisitor):
    """The pre-order token sequence of one function, with its own names renamed canonically."""

    def __init__(self, local: set[str]):
        self.local, self.renamed, self.out = local, {}, []

    def name(self, name: str) -> str:
        return self.renamed.setdefault(name, f"${len(self.renamed)}") if name in self.local else name

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.expr_context):
            return
        self.out.append(type(node).__name__)
        super().generic_visit(node)

    def body(self, statements: list[ast.stmt]) -> None:
        for statement in statements:  # docstrings and other bare strings are comments
            if not (
                isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ):
                self.visit(statement)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.out += ["def", self.name(node.name)]
        for child in [*node.decorator_list, node.args]:
            self.visit(child)
        self.body(node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_arg(self, node: ast.arg) -> None:
        self.out += ["arg", self.name(node.arg)]

    def visit_Name(self, node: ast.Name) -> None:
        self.out.append(self.name(node.id))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.visit(node.value)
        self.out.append("." + node.attr)

    def visit_keyword(self, node: ast.keyword) -> None:
        self.out.append(f"{node.arg}=")
        self.visit(node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:  # x: float = 1.0 is x = 1.0
        self.visit(ast.Assign(targets=[node.target], value=node.value or ast.Constant(None)))

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        self.out.append("str" if isinstance(value, str) else repr(float(value)) if number else repr(value))

    def visit_alias(self, node: ast.alias) -> None:
        self.out.append(f"import {node.name} as {self.name(node.asname or node.name.split('.')[0])}")


def bound_names(function: ast.AST) -> set[str]:
    """The names a function binds itself (and so may be renamed freely)."""
    names = set()
    for node in ast.walk(function):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not function:
            names.add(node.name)
        elif isinstance(node, (ast.alias, ast.ExceptHandler)) and node.name:  # import ... as x, except ... as x
            names.add((node.asname or node.name.split(".")[0]) if isinstance(node, ast.alias) else node.name)
    return names


def tokens(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The normalised token sequence of a function's body (its name and signature are the exercise's)."""
    visitor = _Tokens(bound_names(function))
    visitor.body(function.body)
    return visitor.out


def grams(sequence: list[str], k: int = K) -> frozenset[tuple[str, ...]]:
    """The set of k-token runs, every local name written alike (so that reordered statements,
    which number their variables in another order, keep their grams)."""
    sequence = ["$" if token.startswith("$") else token for token in sequence]
    return frozenset(tuple(sequence[i : i + k]) for i in range(len(sequence) - k + 1))


def without_given(sequence: list[str], given: list[str]) -> list[str]:
    """The tokens of an answer that are its author's own: runs of K or more shared with the given code go."""
    if not given:
        return sequence
    keep = [True] * len(sequence)
    for block in SequenceMatcher(None, given, sequence, autojunk=False).get_matching_blocks():
        if block.size >= K:
            keep[block.b : block.b + block.size] = [False] * block.size
    return [token for token, kept in zip(sequence, keep) if kept]


def similarity(a: list[str], b: list[str], threshold: float = 0.0) -> float:
    """How alike two token sequences are, from 0 to 1 (1: the same code under other names).

    The larger of two measures, each 2 x shared / total: the 5-grams the sequences share (Dice,
    blind to the order of statements) and the tokens of their longest common runs (difflib's
    ratio, which survives a statement split in two or an ``if`` instead of a conditional
    expression). Pairs that cannot reach ``threshold`` are cut short (difflib's quick bounds).
    """
    ga, gb = grams(a), grams(b)
    dice = 2 * len(ga & gb) / (len(ga) + len(gb)) if ga or gb else 0.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if max(dice, matcher.real_quick_ratio()) < threshold or max(dice, matcher.quick_ratio()) < threshold:
        return dice
    return max(dice, matcher.ratio())


def parse(source: str) -> ast.Module | None:
    """A cell's syntax tree (IPython magics made Python first), or None if it is not Python."""
    with contextlib.suppress(Exception):  # no IPython, or a cell it cannot transform: parse it as it is
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def functions(source: str) -> dict[str, list[str]]:
    """Name -> tokens of each function a cell or module defines at its top level (methods as Class.method)."""
    tree = parse(source)
    found = {}
    for node in tree.body if tree else []:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = tokens(node)
        elif isinstance(node, ast.ClassDef):
            for method in node.body:
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    found[f"{node.name}.{method.name}"] = tokens(method)
    return found


def answer_cells(path: Path) -> dict[str, str]:
    """grade id -> source of every answer (solution) code cell of a notebook; {} if it cannot be read."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 (not a notebook: grading reports it by name)
        return {}
    return {
        cell.metadata["nbgrader"]["grade_id"]: cell.source
        for cell in nb.cells
        if cell.cell_type == "code"
        and cell.metadata.get("nbgrader", {}).get("solution")
        and cell.metadata["nbgrader"].get("grade_id")
    }


def cell_functions(paths: list[Path]) -> Iterator[tuple[Path, str, str, list[str]]]:
    """(notebook, grade id, function, tokens) for every function in the notebooks' answer cells."""
    for path in paths:
        for grade_id, source in answer_cells(path).items():
            for name, sequence in functions(source).items():
                yield path, grade_id, name, sequence


def given_code(root: Path, assignment: str) -> dict[tuple[str, str], list[str]]:
    """(grade id, function) -> tokens of what the released student notebook already has there (the stub)."""
    paths = sorted((root / "course" / assignment).glob("*.ipynb"))
    return {(grade_id, name): sequence for _, grade_id, name, sequence in cell_functions(paths)}


def course_answers(root: Path, assignment: str) -> list[Answer]:
    """The course's own code: every function of ``dlcourse.solved`` and of the instructor's solution cells."""
    import dlcourse.solved

    answers = []
    for module in sorted(Path(dlcourse.solved.__file__).parent.glob("*.py")):
        owner = "dlcourse.solved" + ("" if module.stem == "__init__" else f".{module.stem}")
        answers += [
            Answer(owner, "", name, tuple(sequence)) for name, sequence in functions(module.read_text()).items()
        ]
    paths = sorted((root / "solutions" / assignment).glob("*.ipynb"))
    return answers + [
        Answer(f"solutions/{assignment}/{path.name}", grade_id, name, tuple(sequence))
        for path, grade_id, name, sequence in cell_functions(paths)
    ]


def student_answers(root: Path, assignment: str) -> list[Answer]:
    """Every function in the answer cells of every submission under ``submitted/<student>/<assignment>/``."""
    paths = sorted((root / "submitted").glob(f"*/{assignment}/*.ipynb"))
    return [
        Answer(path.parent.parent.name, grade_id, name, tuple(sequence))
        for path, grade_id, name, sequence in cell_functions(paths)
    ]


def find_copies(
    students: list[Answer],
    course: list[Answer],
    given: dict[tuple[str, str], list[str]],
    threshold: float = THRESHOLD,
    min_tokens: int = MIN_TOKENS,
) -> list[Match]:
    """Each student function at or above ``threshold`` with the course's code (the closest function) or
    with the same function of another student (one row per pair).

    What the student notebook gave in the exercise's cell is removed from both sides first;
    functions left with fewer than ``min_tokens`` tokens are not compared.
    """
    by_function: dict[tuple[str, str], list[Answer]] = {}
    for answer in students:
        by_function.setdefault((answer.exercise, answer.function), []).append(answer)
    matches = []
    for (exercise, function), answers in by_function.items():
        stub = given.get((exercise, function), [])
        mine = {a.owner: own for a in answers if len(own := without_given(list(a.tokens), stub)) >= min_tokens}
        keys = [(ref, own) for ref in course if len(own := without_given(list(ref.tokens), stub)) >= min_tokens]
        for student, code in sorted(mine.items()):
            score, ref = max(
                ((similarity(code, key, threshold), ref) for ref, key in keys),
                key=lambda pair: pair[0],
                default=(0.0, None),
            )
            if score >= threshold:
                where = (
                    f"{ref.owner}: {ref.function}" if ref.owner.endswith(".ipynb") else f"{ref.owner}.{ref.function}"
                )
                matches.append(Match(student, exercise, function, where, score))
        for a, b in itertools.combinations(sorted(mine), 2):
            if (score := similarity(mine[a], mine[b], threshold)) >= threshold:
                matches.append(Match(a, exercise, function, f"student {b}", score))
    return sorted(matches, key=lambda m: (-m.similarity, m.student, m.exercise, m.function, m.other))


def table(matches: list[Match]) -> str:
    rows = [("submission", "exercise", "function", "near-copy of", "similarity")]
    rows += [(m.student, m.exercise, m.function, m.other, f"{m.similarity:.2f}") for m in matches]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    rows.insert(1, tuple("-" * width for width in widths))
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def report_copies(root: Path, assignment: str, threshold: float = THRESHOLD) -> str:
    """The instructor's table of near-copies among ``assignment``'s submissions (changes no score). It never
    raises (``dlcourse grade`` prints it after grading): a failure is reported in the text."""
    root = Path(root)
    try:
        students = student_answers(root, assignment)
        submissions = len({answer.owner for answer in students})
        if not submissions:
            return f"copies: no answers to compare in {root / 'submitted'}/*/{assignment}"
        matches = find_copies(students, course_answers(root, assignment), given_code(root, assignment), threshold)
    except Exception as error:  # noqa: BLE001 (a report; the grades are already recorded)
        return f"copies: could not compare the answers of {assignment}: {type(error).__name__}: {error}"
    how = (
        f"answer functions compared with the course's code and with each other after renaming local names and "
        f"dropping comments, docstrings and formatting; listed from similarity {threshold:.2f}; functions of "
        f"fewer than {MIN_TOKENS} tokens of their own (one-liners) not compared. Review them: no score was changed."
    )
    found = f"{len(matches)} near-copies" if matches else "no near-copies"
    return f"copies: {found} among {submissions} submission(s) of {assignment}\n({how})" + (
        f"\n\n{table(matches)}" if matches else ""
    )
