"""Trace a scalar graph once, replay it with numpy: the training loop at array speed.

``trace(fn, *example_args)`` runs ``fn`` once on Values and records the graph it builds as flat
rows, ``node = op(inputs; const)``; the :class:`Tape` it returns replays them on numpy arrays,
forward (``tape(*args)``) and backward (``tape.backward()``). ``print(tape)`` shows the rows.
:class:`BatchTape` traces a model on *one sample* and replays it on a whole batch, every slot a
vector over the samples (JAX's ``vmap`` idea on our tape); ``fit(compile=True)`` runs on it.

The package, in the order a trace goes through it:

- ``pytree``: arguments and results as flat numbers and shape keys, and back;
- ``record``: running ``fn`` on Values and keeping its rows (inputs, parameters, literals,
  guards) as arrays; the Values are dropped once compiled;
- ``passes``: pure functions over the rows: use counts, linear fusion (``b + w0 x0 + ...`` is one
  node), which nodes depend on the batch, which need gradients, levels; slot allocation;
- ``lower``: each level's groups as kernels (a dense layer, or a convolution, as one matrix
  product);
- ``kernels`` (over ``operands``): the numpy calls a group runs, forward and backward, every op
  from the table (``OPS[name].fwd(NUMPY, ...)``; ``adapters``: two rules run in place);
- ``program``: the compiled program and its runtime, buffers per batch size; ``diagnostics``:
  guards and domain errors; ``watch``: noticing a parameter replaced since tracing;
- ``tape``: :func:`trace` and :class:`Tape`; ``batch``: :class:`BatchTape`.

numpy is imported on the first trace: the engine itself needs only the standard library.
"""

from __future__ import annotations

from typing import Any

from .tape import CHECK_TOLERANCE, StructureError, Tape, trace

__all__ = ["BatchTape", "CHECK_TOLERANCE", "StructureError", "Tape", "trace"]


def __getattr__(name: str) -> Any:
    if name == "BatchTape":  # numpy: imported when asked for
        from .batch import BatchTape

        return BatchTape
    raise AttributeError(f"module 'autograd.tape' has no attribute {name!r}")
