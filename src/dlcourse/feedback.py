"""nbgrader feedback that keeps hidden tests hidden, in tracebacks too.

nbgrader's ``ClearHiddenTests`` removes the hidden block from a test cell's source, but
when a test fails, IPython's traceback quotes the lines around the failing call — and
those can be hidden test code. This preprocessor, run before ``ClearHiddenTests`` in
``GenerateFeedback`` (see nbgrader_config.py), drops every traceback frame that quotes a
hidden line. The error's last line (the checker's explanation) always stays.

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


class HideHiddenTestsInTracebacks(Preprocessor):
    enabled = Bool(True).tag(config=True)  # nbconvert's preprocessors are off unless enabled

    def delimiters(self) -> tuple[str, str]:
        """ClearHiddenTests's begin and end delimiters, as this preprocessor's configuration sets them."""
        clear = ClearHiddenTests(parent=self)
        return clear.begin_test_delimeter, clear.end_test_delimeter

    def preprocess_cell(self, cell, resources, index):
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
