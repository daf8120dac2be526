"""nbgrader feedback that keeps hidden tests hidden, in tracebacks and in every output.

nbgrader's ``ClearHiddenTests`` removes the hidden block from a test cell's source, but
when a test fails, IPython's traceback quotes the lines around the failing call — and
those can be hidden test code. And a submission's own cell could print them: the grading
kernel can read the notebook it runs (test cells restored, hidden blocks included) and
IPython's ``In`` history. This preprocessor, run before ``ClearHiddenTests`` in
``GenerateFeedback`` (see nbgrader_config.py), drops every traceback frame that quotes a
hidden line, and replaces every line of any cell's output that contains one (a hidden line
that also appears outside the hidden blocks, like ``check(sigmoid, ref.sigmoid, [``,
gives nothing away and stays). The error's last line (the checker's explanation) always stays.

The hidden block is found with the delimiters ``ClearHiddenTests`` is configured with
(``c.ClearHiddenTests.begin_test_delimeter`` / ``end_test_delimeter``, nbgrader's spelling),
so a course that changes them hides the same lines that nbgrader removes.
"""

from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor
from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Bool

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# nbgrader's defaults; the configured values are read from ClearHiddenTests at run time
BEGIN = ClearHiddenTests.begin_test_delimeter.default_value
END = ClearHiddenTests.end_test_delimeter.default_value


def hidden_lines(source: str, begin: str = BEGIN, end: str = END) -> set[str]:
    """The stripped, non-empty lines between the hidden-test delimiters (the delimiters' lines included)."""
    lines, inside = set(), False
    for line in source.splitlines():
        if begin in line:
            inside = True
        if inside and line.strip():
            lines.add(line.strip())
        if end in line:
            inside = False
    return lines


def quotes_hidden(frame: str, hidden: set[str]) -> bool:
    for line in ANSI.sub("", frame).splitlines():
        # IPython prints "--> 12 code" or "   12 code": drop the arrow and the line number
        code = re.sub(r"^\s*(-+>)?\s*\d+\s", "", line).strip()
        if code and code in hidden:
            return True
    return False


REDACTED = "(a line of the hidden tests is not shown)"
MIN_SECRET = 8  # characters: shorter hidden lines (")", "])") are everywhere and reveal nothing


def secret_lines(cells, begin: str = BEGIN, end: str = END) -> set[str]:
    """The hidden-test lines of a notebook's graded cells that appear nowhere outside a hidden block."""
    hidden, visible = set(), set()
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        inside = hidden_lines(cell.source, begin, end) if cell.metadata.get("nbgrader", {}).get("grade") else set()
        hidden |= inside
        visible |= {line.strip() for line in cell.source.splitlines()} - inside
    return {line for line in hidden - visible if len(line) >= MIN_SECRET and begin not in line and end not in line}


def _redact(text: str, secrets: set[str]) -> str:
    plain = ANSI.sub("", text)
    if not any(secret in plain for secret in secrets):
        return text
    return "\n".join(REDACTED if any(s in ANSI.sub("", line) for s in secrets) else line for line in text.split("\n"))


def redact_outputs(cell, secrets: set[str]) -> None:
    """Replace, in every output of ``cell``, each line that contains a secret line."""
    for output in cell.get("outputs", []):
        if "text" in output:
            output["text"] = _redact(output["text"], secrets)
        for mime, value in output.get("data", {}).items():
            if isinstance(value, str) and (mime.startswith("text/") or mime.endswith("json")):
                output["data"][mime] = _redact(value, secrets)
        if output.get("output_type") == "error":
            output["evalue"] = _redact(output.get("evalue", ""), secrets)
            output["traceback"] = [_redact(frame, secrets) for frame in output.get("traceback", [])]


class HideHiddenTestsInTracebacks(Preprocessor):
    enabled = Bool(True).tag(config=True)  # nbconvert's preprocessors are off unless enabled

    def preprocess(self, nb, resources):
        self._secrets = secret_lines(nb.cells, *self.delimiters())
        nb, resources = super().preprocess(nb, resources)
        return nb, resources

    def delimiters(self) -> tuple[str, str]:
        """ClearHiddenTests's begin and end delimiters, as this preprocessor's configuration sets them."""
        clear = ClearHiddenTests(parent=self)
        return clear.begin_test_delimeter, clear.end_test_delimeter

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and getattr(self, "_secrets", None):
            redact_outputs(cell, self._secrets)
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
            return cell, resources
        hidden = hidden_lines(cell.source, *self.delimiters())
        if not hidden:
            return cell, resources
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                kept = [frame for frame in output.get("traceback", []) if not quotes_hidden(frame, hidden)]
                if len(kept) < len(output.get("traceback", [])):
                    kept.insert(0, "(the lines of the hidden tests are not shown)")
                output["traceback"] = kept
        return cell, resources
