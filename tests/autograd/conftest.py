"""The engine suite runs twice: on the compiled engine (the default) and on the plain one.

The plain engine (autograd/value.py, autograd/backward.py) is the specification a learner
reads; the compiled one (autograd/codegen.py) is its accelerator. Every test in this folder
runs on both, as CPython tests a pure-Python module and its C accelerator (PEP 399).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autograd import codegen


@pytest.fixture(scope="module", params=["compiled", "plain"], autouse=True)
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Switch ``Value`` to the engine under test for a module's tests; restore it after."""
    before = codegen.engine()
    (codegen.install if request.param == "compiled" else codegen.uninstall)()
    yield request.param
    (codegen.install if before == "compiled" else codegen.uninstall)()
