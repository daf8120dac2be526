"""The table at the end of a notebook: exercises passed, failed, not run, with points, in a real kernel."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from dlcourse.authoring import notebook_from_text

NOTEBOOK = """# %% id="setup"
import numpy as np
from dlcourse.checking import check
from dlcourse.progress import progress_table
from dlcourse.reference import networks as ref

# %% id="ch09_relu" nbgrader={"solution": true}
def relu(x):
    ### BEGIN SOLUTION
    return np.maximum(x, 0)
    ### END SOLUTION

# %% id="ch09_relu_test" nbgrader={"grade": true, "locked": true, "points": 2}
check(relu, ref.relu, [np.array([-1.0, 2.0])])

# %% id="ch09_sigmoid" nbgrader={"solution": true}
def sigmoid(x):
    ### BEGIN SOLUTION
    return 1 / (1 + np.exp(x))
    ### END SOLUTION

# %% id="ch09_sigmoid_test" nbgrader={"grade": true, "locked": true, "points": 3}
check(sigmoid, ref.sigmoid, [np.array([-1.0, 2.0])])

# %% id="ch09_tanh_test" nbgrader={"grade": true, "locked": true, "points": 1}
check(np.tanh, ref.tanh, [np.array([0.5])])

# %% id="table"
progress_table()
"""


def test_the_last_cell_shows_passed_failed_and_not_run_with_points(tmp_path):
    nb = notebook_from_text(NOTEBOOK)
    nb.cells[-2].source = "raise RuntimeError('skipped')\n" + nb.cells[-2].source  # this test never gets to check
    path = tmp_path / "exercise.ipynb"
    nbformat.write(nb, str(path))
    NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    table = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "relu      passed       2/2" in table, table
    assert "sigmoid   failed       0/3" in table, table
    assert "tanh      not run yet  0/1" in table, table
    assert table.rstrip().endswith("1/3 passed  2/6"), table
