"""Linear kernels: fused linear nodes ``Σ a_k b_k + Σ c_l``, forward and backward.

- :class:`Sums`: one segment per member, a few numpy calls for the whole group;
- :class:`Grid`: linear nodes whose products form a grid (every weight row meets every input
  row: the neurons of a layer, or a convolution's filters and windows): one matrix product.

Like every kernel (``kernels.py``), they read operands and write consecutive output slots, and
their gradients assign into the slots they reach first and add into the others.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from .kernels import Kernel
from .operands import Buffers, Call, Operand, contiguous, read, sink, tail_shape


class Sums(Kernel):
    """Linear nodes, one per member ``s``: ``Σ_k a[s,k] b[s,k] + Σ_l c[s,l]``.

    Products come in three parts by where their factors live: ``shared`` (both unbatched),
    ``weighted`` (an unbatched weight times a batched value) and ``per_sample`` (both batched);
    plain terms in two, ``shared_terms`` and ``sample_terms``, each term with a coefficient (a
    literal it was multiplied by). A part is absent when no member has it (the group's members
    agree). The common shapes (one product or one term per member: a loss's ``1 - y * p``, a
    mean's ``sum * (1/n)``) run as single numpy calls writing straight into their slots.
    """

    def __init__(
        self,
        parts: dict[str, tuple[Operand, Operand]],
        cs: dict[str, Operand],
        out: slice,
        batched: bool,
    ) -> None:
        self.parts, self.cs, self.out, self.out_batched = parts, cs, out, batched

    def operands(self) -> list[Operand]:
        return [o for pair in self.parts.values() for o in pair] + list(self.cs.values())

    def describe(self) -> str:
        n = self.out.stop - self.out.start
        return f"{n} sums of {' + '.join([*self.parts, *self.cs])}"

    def bind(self, buf: Buffers) -> tuple[list[Call], list[Call]]:
        out = self.out_values(buf)
        calls: list[Call] = []
        terms: list[tuple[Any, ...]] = []  # ("product", opd a, a, opd b, b) | ("plain", opd, c)
        for a, b in self.parts.values():
            av, fa = read(a, buf, tail_shape(a, self.out_batched, buf.batch))
            bv, fb = read(b, buf, tail_shape(b, self.out_batched, buf.batch))
            calls += [f for f in (fa, fb) if f is not None]
            terms.append(("product", a, av, b, bv))
        for c in self.cs.values():
            cv, fc = read(c, buf, tail_shape(c, self.out_batched, buf.batch))
            if fc is not None:
                calls.append(fc)
            terms.append(("plain", c, cv))
        scratch = np.empty_like(out)
        for k, term in enumerate(terms):
            if k == 0:
                calls.append(_term_into(term, out))
            else:
                calls += [_term_into(term, scratch), partial(np.add, out, scratch, out=out)]
        backward: list[Call] = []
        if self.backward_needed and any(o.needs for o in self.operands()):
            backward = self._backward(buf, terms)
        return calls, backward

    def _backward(self, buf: Buffers, terms: list[tuple[Any, ...]]) -> list[Call]:
        g = self.out_grads(buf)
        batched = self.out_batched
        calls: list[Call] = []
        for term in terms:
            if term[0] == "product":
                _, a, av, b, bv = term
                pairs = [(a, bv), (b, av)]
                if a.needs and np.array_equal(a.slots, b.slots) and a.space == b.space:
                    # Squares (an L2 penalty's p * p): g b + g a is 2 g a exactly, one write.
                    calls.append(_grad_into(a, bv, g, buf, batched, twice=True))
                    continue
            else:
                _, c, cv = term
                pairs = [(c, None)]
            for opd, other in pairs:
                if opd.needs:
                    calls.append(_grad_into(opd, other, g, buf, batched))
        return calls


def _term_into(term: tuple[Any, ...], dst: np.ndarray) -> Call:
    """The call writing one part's sum per member, ``Σ_k a b`` or ``Σ_l coef c``, into
    ``dst``: a single numpy call for one factor or term per member."""
    if term[0] == "product":
        _, _, a, _, b = term
        if a.shape[1] == 1:
            return partial(np.multiply, a[:, 0], b[:, 0], out=dst)
        if a.ndim == 2 and b.ndim == 2 and a.shape[0] == 1:  # one unbatched member: a dot
            return partial(np.matmul, a, b[0][:, None], out=dst.reshape(1, 1))
        return lambda: np.copyto(dst, np.add.reduce(a * b, axis=1))
    _, opd, c = term
    coef = _coef(opd, c)
    if c.shape[1] == 1:
        if coef is None:
            return partial(np.copyto, dst, c[:, 0])
        return partial(np.multiply, c[:, 0], coef[:, 0], out=dst)
    if coef is None:
        return lambda: np.copyto(dst, np.add.reduce(c, axis=1))
    return lambda: np.copyto(dst, np.add.reduce(c * coef, axis=1))


def _grad_into(
    opd: Operand, other: Any, g: np.ndarray, buf: Buffers, batched: bool, twice: bool = False
) -> Call:
    """The call adding (or, first, writing) a term's gradient into ``opd``: ``g * other`` for a
    factor, ``g * coef`` for a plain term; summed over the samples for an unbatched operand of
    a batched node (a weight's gradient is the sum of its per-sample gradients). ``twice``
    doubles it (a square's two factors), exactly: x + x."""
    if twice:
        write = sink(opd, buf)
        gk = g[:, None]
        if batched and not opd.batched:
            return lambda: write(2.0 * np.add.reduce(gk * other, axis=-1))
        return lambda: write(2.0 * (gk * other))
    k = opd.slots.shape[1]
    coef = None if other is not None else opd.coef
    sl = contiguous(opd.slots.ravel())
    if k == 1 and sl is not None and (opd.batched or not batched):
        # One factor or term per member, straight into consecutive slots: one or two calls.
        view = buf.grads_in(opd.space)[sl].reshape(g.shape)
        factor = other[:, 0] if other is not None else (None if coef is None else coef[:, 0])
        if factor is not None and factor.ndim < g.ndim:
            factor = factor.reshape(factor.shape + (1,) * (g.ndim - factor.ndim))
        if opd.mode == "assign":
            if factor is None:
                return partial(np.copyto, view, g)
            return partial(np.multiply, g, factor, out=view)
        if factor is None:
            return partial(np.add, view, g, out=view)
        scratch = np.empty_like(g)
        return _two(
            partial(np.multiply, g, factor, out=scratch), partial(np.add, view, scratch, out=view)
        )
    write = sink(opd, buf)
    gk = g[:, None]
    if other is not None:
        grad = (
            (lambda: np.add.reduce(gk * other, axis=-1))
            if batched and not opd.batched
            else (lambda: gk * other)
        )
        return lambda: write(grad())
    scale = _coef(opd, gk) if coef is not None else None
    if batched and not opd.batched:
        gu = lambda: np.add.reduce(gk, axis=-1)  # noqa: E731
        return (lambda: write(gu())) if coef is None else (lambda: write(gu() * coef))
    return partial(write, gk) if scale is None else (lambda: write(gk * scale))


def _two(first: Call, second: Call) -> Call:
    def both() -> None:
        first()
        second()

    return both


def _coef(opd: Operand, values: np.ndarray) -> np.ndarray | None:
    """The operand's coefficients shaped to multiply its values (None: all 1)."""
    if opd.coef is None:
        return None
    return opd.coef.reshape(opd.coef.shape + (1,) * (values.ndim - opd.coef.ndim))


class Grid(Kernel):
    """Linear nodes on a grid: ``out[i, j] = A[i] · X[j] + Σ_l c[i, j, l]``, one matrix product.

    ``A`` (I, K) holds unbatched weights (a layer's neurons, a convolution's filters), ``X``
    (J, K) batched rows (the layer's inputs, J = 1; or a convolution's windows, J positions);
    members are ordered (i, j). ``shared_terms`` (unbatched, e.g. biases) and ``sample_terms``
    (batched) have shape (I or 1, J or 1, L): a term repeated along a side is stored once.
    """

    def __init__(
        self,
        a: Operand,
        x: Operand,
        shared_terms: Operand | None,
        sample_terms: Operand | None,
        out: slice,
        ones: int | None = None,
    ) -> None:
        self.a, self.x, self.out, self.ones = a, x, out, ones
        self.shared_terms, self.sample_terms = shared_terms, sample_terms
        self.out_batched = True

    def operands(self) -> list[Operand]:
        return [o for o in (self.a, self.x, self.shared_terms, self.sample_terms) if o is not None]

    def describe(self) -> str:
        (ni, k), j = self.a.slots.shape, self.x.slots.shape[0]
        terms = " + bias" if self.shared_terms is not None else ""
        return f"{ni}x{k} weights @ {k}x{j} inputs{terms}"

    def bind(self, buf: Buffers) -> tuple[list[Call], list[Call]]:
        n = buf.batch
        (ni, k), j = self.a.slots.shape, self.x.slots.shape[0]
        out = buf.per_sample[self.out].reshape(ni, j * n)
        out3 = out.reshape(ni, j, n)
        folded = self._folded(buf)
        if folded is not None:  # [W | b] @ [X; 1]: the bias rides in the product
            block, _, x1 = folded
            av, xv = block[:k].T, x1[:k]
            calls: list[Call] = [partial(np.matmul, block.T, x1, out=out)]
        else:
            av, fa = read(self.a, buf, ())
            # X as (K, J * batch): for each input k, its rows in every window j side by side.
            xv, fx = read(Operand("b", self.x.slots.T.copy()), buf, (n,))
            xv = xv.reshape(k, j * n)
            calls = [f for f in (fa, fx) if f is not None]
            calls.append(partial(np.matmul, av, xv, out=out))
        for c, batched in ((self.shared_terms, False), (self.sample_terms, True)):
            if c is not None and not (folded is not None and c is self.shared_terms):
                cv, fc = read(c, buf, (n,) if batched else ())
                if fc is not None:
                    calls.append(fc)
                calls.append(_add_terms(out3, cv, _coef(c, cv), batched))
        backward = self._backward(buf, av, xv, ni, j, n, folded) if self.backward_needed else []
        return calls, backward

    def _folded(self, buf: Buffers) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Where the lowering laid the layer out for it (``Lowering.fold_bias``): ``[W^T; b]``,
        a (K + 1, I) view of the parameters, the same view of their gradients, and ``[X; 1]``,
        a (K + 1, batch) view of the rows."""
        b = self.shared_terms
        if self.ones is None or b is None or b.coef is not None or b.slots.shape[1:] != (1, 1):
            return None
        entries = contiguous(np.concatenate([self.a.slots.T.ravel(), b.slots.ravel()]))
        rows = contiguous(np.append(self.x.slots.ravel(), self.ones))
        if entries is None or rows is None or self.x.slots.shape[0] != 1:
            return None
        shape = (self.a.slots.shape[1] + 1, self.a.slots.shape[0])
        grads = buf.shared_grads[entries].reshape(shape)
        return buf.shared[entries].reshape(shape), grads, buf.per_sample[rows]

    def _backward(
        self, buf: Buffers, av: Any, xv: Any, ni: int, j: int, n: int, folded: Any
    ) -> list[Call]:
        g = buf.per_sample_grads[self.out].reshape(ni, j * n)
        g3 = g.reshape(ni, j, n)
        calls: list[Call] = []
        bias = self.shared_terms
        both = (self.a, bias) if bias is not None else ()
        if folded is not None and all(o.needs and o.mode == "assign" for o in both):
            # [X; 1] @ g^T: the weights' gradient, and the bias's (g summed over the batch).
            _, grads, x1 = folded
            calls.append(partial(np.matmul, x1, g.T, out=grads))
            bias = None
        elif self.a.needs:
            calls.append(_matmul_into(self.a, buf, g, xv.T))
        if self.x.needs:
            xt = Operand("b", self.x.slots.T.copy(), needs=True, mode=self.x.mode)
            calls.append(_matmul_into(xt, buf, av.T, g))
        if bias is not None and bias.needs:
            calls.append(_bias_grad(bias, buf, g, g3))
        if self.sample_terms is not None and self.sample_terms.needs:
            write_b = sink(self.sample_terms, buf)
            shape = self.sample_terms.slots.shape
            k = 1.0 if self.sample_terms.coef is None else self.sample_terms.coef[..., None]
            calls.append(lambda: write_b(_reduce_sides(g3, shape)[:, :, None, :] * k))
        return calls


def _bias_grad(terms: Operand, buf: Buffers, g: np.ndarray, g3: np.ndarray) -> Call:
    """The gradient of unbatched plain terms: summed over the samples and over the side the
    term repeats along (a filter's bias over every window)."""
    sl = contiguous(terms.slots.ravel())
    if (
        terms.slots.shape[1:] == (1, 1)
        and sl is not None
        and terms.mode == "assign"
        and terms.coef is None
    ):
        view = buf.grads_in("u")[sl]
        return partial(np.add.reduce, g, axis=1, out=view)
    write = sink(terms, buf)
    shape = terms.slots.shape
    k = 1.0 if terms.coef is None else terms.coef
    return lambda: write(_reduce_sides(np.add.reduce(g3, axis=2), shape)[:, :, None] * k)


def _reduce_sides(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A gradient of shape (I, J, ...) summed along the sides a term repeats on, (I|1, J|1)."""
    if shape[0] == 1 and g.shape[0] != 1:
        g = np.add.reduce(g, axis=0, keepdims=True)
    if shape[1] == 1 and g.shape[1] != 1:
        g = np.add.reduce(g, axis=1, keepdims=True)
    return g


def _add_terms(out3: np.ndarray, c: np.ndarray, coef: np.ndarray | None, batched: bool) -> Call:
    """out[i, j] += Σ_l coef c[i, j, l] with c of shape (I|1, J|1, L) (+ batch)."""
    if coef is not None:
        if batched:
            return lambda: np.add(out3, np.add.reduce(c * coef, axis=2), out=out3)
        return lambda: np.add(out3, np.add.reduce(c * coef, axis=2, keepdims=True), out=out3)
    if batched:
        return lambda: np.add(out3, np.add.reduce(c, axis=2), out=out3)
    if c.shape[2] == 1:
        term = c[:, :, 0:1]  # (I|1, J|1, 1) broadcasts over the batch
        return partial(np.add, out3, term, out=out3)
    return lambda: np.add(out3, np.add.reduce(c, axis=2, keepdims=True), out=out3)


def _matmul_into(opd: Operand, buf: Buffers, left: np.ndarray, right: np.ndarray) -> Call:
    """Write ``left @ right`` (2-D, one row per slot of ``opd``, samples side by side) into the
    operand's slots: straight into them when they are consecutive and this write comes first."""
    grads = buf.grads_in(opd.space)
    shape = (left.shape[0], right.shape[1])
    sl = contiguous(opd.slots.ravel())
    if sl is not None and opd.mode == "assign":
        return partial(np.matmul, left, right, out=grads[sl].reshape(shape))
    write = sink(opd, buf)
    full = opd.slots.shape + ((buf.batch,) if opd.batched else ())
    return lambda: write((left @ right).reshape(full))
