"""Trace a scalar graph once, replay it with numpy: the training loop at array speed.

``trace(fn, *example_args)`` runs ``fn`` once on Values and records the graph it builds as flat
rows, ``node = op(inputs; const)``; the :class:`Tape` it returns replays them on numpy arrays,
forward (``tape(*args)``) and backward (``tape.backward()``). ``print(tape)`` shows the rows.
:class:`BatchTape` traces a model on *one sample* and replays it on a whole batch, every slot a
vector over the samples (JAX's ``vmap`` idea on our tape); ``fit(compile=True)`` runs on it.

The pipeline, one module a stage (``docs/tape.md`` walks it with an example)::

    fn, example args --pytree--> flat numbers and shape keys
      --record-->   Recording: rows ``%5 = mul(%1, %3)``, leaves (inputs, parameters, literals),
                    guards                                        print(tape) shows this stage
      --passes-->   Analysis (``passes.analyze``): use counts, linear fusion, batched nodes,
                    nodes that need a gradient, groups by level    tape.stats counts it
      --lower-->    kernels over slots (``slots.Slots`` hands the slots out; ``kernels``,
                    ``linear``, ``operands``, ``adapters``: the numpy calls)
                                                                   tape.kernels lists them
      --program-->  Program: the kernels bound to buffers per batch size, guards
                    (``diagnostics``)
      --runner-->   Runner: load the parameters, run forward and backward, hand the
                    gradients back; shared by Tape (``tape``, ``traced``), BatchTape
                    (``batch``: the model and the loss head) and fit(compile=True)

``watch`` notices a parameter replaced since tracing; ``errors`` holds StructureError and
``check=True``'s comparison (a leaf: every stage may raise, none imports another for it).

numpy is imported on the first trace: the engine itself needs only the standard library.
"""

from __future__ import annotations

from typing import Any

from .errors import CHECK_TOLERANCE, StructureError
from .tape import Tape, trace

__all__ = ["BatchTape", "CHECK_TOLERANCE", "StructureError", "Tape", "trace"]


def __getattr__(name: str) -> Any:
    if name == "BatchTape":  # numpy: imported when asked for
        from .batch import BatchTape

        return BatchTape
    raise AttributeError(f"module 'autograd.tape' has no attribute {name!r}")
