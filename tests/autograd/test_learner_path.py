"""The learner's path is short: how many project functions and lines ``a * b`` and
``c.backward()`` run in the plain engine, measured by tracing them (issue 21, item 1).

Run it to see the path itself: ``python -m tests.autograd.test_learner_path`` prints, for each
step, the project functions it ran (file:line of each ``def``) and how many distinct source
lines. The test runs the same measurement in a fresh ``AUTOGRAD_PLAIN=1`` process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Targets: ``a * b`` at most 4 functions and 45 lines; ``c.backward()`` at most 8 and 100;
# both together in at most 3 files.
MUL_BUDGET = (4, 45)
BACKWARD_BUDGET = (8, 100)
FILES_BUDGET = 3


def measure(statement: str, namespace: dict) -> dict:
    """Run ``statement`` under ``sys.settrace``; the project functions and lines it executed."""
    project = (str(ROOT / "autograd"), str(ROOT / "nn"), str(ROOT / "viz"))
    functions: dict[str, int] = {}  # name: its length in source lines, in the order called
    lines: set[tuple[str, int]] = set()

    def tracer(frame, event, arg):
        filename = frame.f_code.co_filename
        if not filename.startswith(project):
            return None
        if event == "call":
            code = frame.f_code
            where = f"{Path(filename).relative_to(ROOT)}:{code.co_firstlineno}"
            span = max(line for _, _, line in code.co_lines() if line) - code.co_firstlineno + 1
            functions.setdefault(f"{code.co_qualname} ({where})", span)
        elif event == "line":
            lines.add((filename, frame.f_lineno))
        return tracer

    code = compile(statement, "<learner>", "exec")
    sys.settrace(tracer)
    try:
        exec(code, namespace)
    finally:
        sys.settrace(None)
    files = sorted({str(Path(f).relative_to(ROOT)) for f, _ in lines})
    return {
        "functions": list(functions),
        "lines": len(lines),  # distinct lines executed
        "source_lines": sum(functions.values()),  # what a reader reads: the functions, whole
        "files": files,
    }


def learner_path() -> dict:
    """The two steps of the learner's question, each measured in this process's engine."""
    from autograd import ENGINE, Value

    namespace = {"Value": Value, "a": Value(2.0, label="a"), "b": Value(-3.0, label="b")}
    mul = measure("c = a * b", namespace)
    backward = measure("c.backward()", namespace)
    assert namespace["a"].grad == -3.0 and namespace["b"].grad == 2.0
    return {"engine": ENGINE, "mul": mul, "backward": backward}


def _in_plain_engine() -> dict:
    env = {**os.environ, "AUTOGRAD_PLAIN": "1", "PYTHONPATH": str(ROOT)}
    code = "import json, tests.autograd.test_learner_path as t; print(json.dumps(t.learner_path()))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_times_b_and_backward_are_two_short_hops_in_the_plain_engine():
    path = _in_plain_engine()
    assert path["engine"] == "plain"
    for step, (max_functions, max_lines) in (("mul", MUL_BUDGET), ("backward", BACKWARD_BUDGET)):
        got = path[step]
        assert len(got["functions"]) <= max_functions, (step, got["functions"])
        # Both counts: the lines it executed, and the whole functions a reader reads.
        assert got["lines"] <= got["source_lines"] <= max_lines, (step, got["source_lines"])
    files = set(path["mul"]["files"]) | set(path["backward"]["files"])
    assert len(files) <= FILES_BUDGET, sorted(files)


if __name__ == "__main__":
    path = _in_plain_engine()
    for step, label in (("mul", "c = a * b"), ("backward", "c.backward()")):
        got = path[step]
        print(
            f"{label}: {len(got['functions'])} functions, {got['lines']} lines executed, "
            f"{got['source_lines']} source lines in those functions, files {got['files']}"
        )
        for name in got["functions"]:
            print(f"    {name}")
