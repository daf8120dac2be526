"""nbgrader configuration for the course: run nbgrader commands from this folder.

solutions/<chapter>/  instructor notebooks (solutions + hidden tests): the source
course/<chapter>/     student notebooks generated from them (committed)
"""

from pathlib import Path

from nbgrader.converters import Autograde, GenerateFeedback
from nbgrader.coursedir import CourseDirectory

from dlcourse.grading_execute import with_grading_execute

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.course_id = "dlcourse"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "course"
# solutions/<chapter>/<name>.py are the text sources of the notebooks (solutions and hidden tests):
# never copied into course/, a release or a grading folder.
c.CourseDirectory.ignore = [*CourseDirectory.class_traits()["ignore"].default(), "*.py"]

# The longest cell of any chapter (a small training run) takes a few seconds on 2 cores;
# an endless loop in a submission is stopped after this many seconds and costs that cell's points.
c.Execute.timeout = 60

# Grading runs what grading needs: code cells tagged "demo" (plots, training runs, timings; no graded
# cell depends on them, tests/test_demo_cells.py proves it) are skipped by autograde and validate.
# Autograde runs nbgrader's own preprocessor list with Execute replaced by GradingExecute, which never
# skips a cell nbgrader owns (a test cell a learner tagged "demo" still runs).
c.Execute.skip_cells_with_tag = "demo"
c.Autograde.autograde_preprocessors = with_grading_execute(Autograde.autograde_preprocessors.default())

# Each grading kernel runs in its own bubblewrap sandbox (dlcourse.sandbox): its submission's folder and
# the installed course read-only, a private /tmp, no network, uid nobody, limits on memory, CPU time,
# processes and disk. Without bubblewrap, grading warns once and runs unsandboxed, unless required:
# c.SandboxedKernelManager.require = True   (or `dlcourse grade --require-sandbox`); limits: memory_gb, ...
from dlcourse.sandbox import sandboxed  # noqa: E402

c.Autograde.autograde_preprocessors = sandboxed(c.Autograde.get("autograde_preprocessors"))

# Hidden tests stay hidden in the feedback students get: in the test cells' source, and in the
# tracebacks and outputs of every cell (a failed test quotes the lines around the failing call; a
# submission could print them). nbgrader's own feedback list, then these two.
c.GenerateFeedback.preprocessors = [
    *GenerateFeedback.class_traits()["preprocessors"].default(),
    "dlcourse.feedback.HideHiddenTestsInTracebacks",
    "nbgrader.preprocessors.ClearHiddenTests",
]
