"""nbgrader's ``Execute`` for grading: demo cells are skipped, nbgrader's own cells never are.

Demo cells (plots, small training runs, timing sections) teach but grade nothing. Tagged ``demo``
in a chapter's source (``# %% tags=["demo"]``), they are not executed when nbgrader grades, as long
as no graded cell needs what they compute (``tests/test_demo_cells.py`` proves that for every
notebook). The learner's JupyterLab runs them as before.

The tag is nbclient's own option, ``Execute.skip_cells_with_tag``, set to ``"demo"`` in
``nbgrader_config.py``; ``nbgrader validate`` (whose preprocessor list nbgrader does not make
configurable: it runs the plain ``Execute``) therefore skips the same cells. ``nbgrader autograde``
runs :class:`GradingExecute` instead of ``Execute`` (:func:`with_grading_execute` puts it into
nbgrader's own list), which adds one rule: a cell with nbgrader metadata — an exercise, a test, a
locked cell — is executed whatever its tags say. A submission's tags are the learner's to edit, and
nbgrader restores a test cell's source from the gradebook but not its tags: without this rule a
learner could tag a failing test cell ``demo`` (or, in plain nbgrader, ``skip-execution``, nbclient's
default tag) and lose no points.
"""

from __future__ import annotations

from typing import Any

from nbgrader.preprocessors import Execute
from traitlets.utils.importstring import import_item

NAME = f"{__name__}.GradingExecute"


class GradingExecute(Execute):
    """``Execute`` that skips cells tagged ``skip_cells_with_tag`` unless nbgrader owns them."""

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        tags = cell.metadata.get("tags", [])
        if "nbgrader" not in cell.metadata or self.skip_cells_with_tag not in tags:
            if self.skip_cells_with_tag in tags and cell.cell_type == "code":
                self.log.debug("Skipping demo cell %s", index)
            return super().preprocess_cell(cell, resources, index)
        # nbclient skips by tag on its own: hide the tag from it while the cell runs, then put it back
        cell.metadata["tags"] = [tag for tag in tags if tag != self.skip_cells_with_tag]
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            cell.metadata["tags"] = tags


def _is_execute(preprocessor: Any) -> bool:
    cls = import_item(preprocessor) if isinstance(preprocessor, str) else preprocessor
    return cls is Execute


def with_grading_execute(preprocessors: list) -> list:
    """``preprocessors`` (classes or dotted names) with nbgrader's ``Execute`` replaced by :class:`GradingExecute`.

    Used on nbgrader's own default, ``Autograde.autograde_preprocessors.default()``, so the list
    follows nbgrader's as it changes; raises if there is no ``Execute`` to replace.
    """
    replaced = [NAME if _is_execute(p) else p for p in preprocessors]
    if NAME not in replaced:
        raise ValueError(f"no nbgrader.preprocessors.Execute to replace in {preprocessors}")
    return replaced
