"""The speed layer: the plain engine's hot paths, compiled from the op table at import.

A rule of the table run on ``SOURCE`` names returns its own code (``MUL.fwd`` gives ``(a * b)``,
``MUL.vjp`` gives ``(g * b)`` and ``(g * a)``). This module writes that code into

- **Value's operators and methods** (``x * y``, ``x.tanh()``, ... every method the table names):
  the forward rule inlined, the op's domain check called as written, then the node, made by
  the very lines of ``autograd.value._op`` that make it there (read from its source: one node
  layout), in one frame that calls nothing for ``+ - *`` (graph building ~20% faster);
- **one backward loop on floats** (``Value.backward``): a branch per one- and two-input op with
  its vjp as code, so backward calls no rule per node (~40% faster than calling the rule); n-ary
  nodes call their rule once; ops registered after import go through the plain rule call.

It is a copy of the plain engine (:mod:`autograd.value`, :mod:`autograd.backward`), never a
second definition: every number comes from the same rules, and the whole suite runs on both
engines (``make test``), which the tests also compare bit for bit. ``install()`` puts the
compiled copies on ``Value`` (done at import unless ``AUTOGRAD_PLAIN=1``); ``uninstall()`` puts
the plain ones back. ``print(autograd.codegen.FLOAT_BACKPROP_SOURCE)`` shows the loop.
"""

from __future__ import annotations

import ast
import copy
import inspect
import linecache
import math
import textwrap
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from . import backward as plain_backward
from . import value as plain_value
from .graph import UNREACHED, walk_resetting_grads
from .namespaces import FLOAT
from .ops import OPS, Op
from .value import Value, _lift, _named, data_of

# ---- rules as code: the SOURCE namespace --------------------------------------------------------


class Source:
    """An expression as Python source text: ``Source("g") * Source("b")`` is ``(g * b)``.

    Every operation is written out in full parentheses, so the text computes what the rule
    computes on floats, operation for operation, in the same order: the same number, bit for bit.
    ``names`` are the variables the expression reads (``{"g", "b"}``), so whoever compiles it
    knows what to load without reading the text.
    """

    __slots__ = ("text", "names")

    def __init__(self, text: str, names: frozenset[str] | None = None) -> None:
        self.text = text
        self.names = frozenset([text] if text.isidentifier() else ()) if names is None else names

    def __repr__(self) -> str:
        return f"Source({self.text!r})"

    def __bool__(self) -> bool:
        raise TypeError("a rule may not branch on its inputs with Python `if`: use m.where")

    def __neg__(self) -> Source:
        return Source(f"(-{self.text})", self.names)


def _text(x: Any) -> str:
    if isinstance(x, Source):
        return x.text
    if type(x) in (int, float) and math.isfinite(x):
        return repr(x)
    raise TypeError(f"cannot write {x!r} into source code")


def _names(*xs: Any) -> frozenset[str]:
    return frozenset().union(*(x.names for x in xs if isinstance(x, Source)))


def _infix(symbol: str, reflected: bool = False) -> Any:
    if reflected:
        return lambda a, b: Source(f"({_text(b)} {symbol} {_text(a)})", _names(a, b))
    return lambda a, b: Source(f"({_text(a)} {symbol} {_text(b)})", _names(a, b))


for _name, _symbol in (("add", "+"), ("sub", "-"), ("mul", "*"), ("truediv", "/")):
    setattr(Source, f"__{_name}__", _infix(_symbol))
    setattr(Source, f"__r{_name}__", _infix(_symbol, reflected=True))
for _name, _symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
    setattr(Source, f"__{_name}__", _infix(_symbol))


def _calls(name: str) -> Any:
    return lambda *xs: Source(f"{name}({', '.join(map(_text, xs))})", _names(*xs))


# Each function becomes a call to FLOAT's function of the same name (compiled code runs with
# FLOAT's functions as its globals), except the two a network uses per node, written inline
# so compiled code calls nothing for them. FLOAT's functions never raise, so a conditional
# expression that evaluates one branch gives the number FLOAT.where gives after computing both.
SOURCE = SimpleNamespace(
    **{name: _calls(name) for name, f in vars(FLOAT).items() if callable(f)},
)
SOURCE.name = "source"
SOURCE.where = lambda c, a, b: Source(
    f"({_text(a)} if {_text(c)} else {_text(b)})", _names(c, a, b)
)
SOURCE.iszero = lambda x: Source(f"({_text(x)} == 0)", _names(x))


# ---- rules as code ------------------------------------------------------------------------------


def as_code(op_name: str, rule: Callable[..., Any], *names: str) -> Any:
    """What ``rule`` gives when run on ``SOURCE`` with the arguments ``names``: its code,
    as a Source (a forward rule) or a tuple of them (a vjp). Errors name the op."""
    try:
        return rule(SOURCE, *map(Source, names))
    except TypeError as e:
        raise TypeError(f"{op_name}: its rule cannot be written as code: {e}") from None


def compile_function(source: str, name: str, scope: dict[str, Any], where: str) -> Any:
    """Run ``source`` (code written with SOURCE) in ``scope`` and return its function ``name``.

    ``scope`` is the code's globals: FLOAT's functions are added to it, since a rule written as
    code calls them by name (the function itself is bound elsewhere, so a method named ``log``
    still finds FLOAT's ``log``). ``where`` names the code in tracebacks, which show its lines
    (``inspect.getsource`` too).
    """
    for fname, f in vars(FLOAT).items():
        if callable(f):
            scope.setdefault(fname, f)
    filename = f"<{where}, compiled from the op table>"
    defined: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), scope, defined)  # noqa: S102 - written from the table
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return defined[name]


# ---- Value's methods ----------------------------------------------------------------------------

# An op's method, written out per op: its forward rule as code, the table's domain check if the
# op has one, then the node, in the very lines of ``autograd.value._op`` that make it (see
# ``_node_code``): most of a network's nodes are made here.
_BINARY = """\
def {name}(self, other):
    if type(other) is not Value:
        other = lift(other)
        if other is None:
            return NotImplemented{swap}
    a = self.data
    b = other.data
    data = {forward}"""
_UNARY = """\
def {name}(self):
    a = self.data
    data = {forward}"""
_SWAP = """
    self, other = other, self"""
_CHECK = """
    err = OPS[{op!r}].check(data, {xs})
    if err is not None:
        raise named(OPS[{op!r}], err, ({inputs})) from None"""


def _node_code() -> tuple[list[ast.stmt], dict[str, Any]]:
    """The statements of ``autograd.value._op`` that make the node (from ``v = ...`` to its
    end), and the globals they read: the one definition of a node's layout."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(plain_value._op)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    first = next(i for i, stmt in enumerate(body) if ast.unparse(stmt).startswith("v = "))
    tail = body[first:]
    names = [n for stmt in tail for n in ast.walk(stmt) if isinstance(n, ast.Name)]
    read = {n.id for n in names} - {n.id for n in names if isinstance(n.ctx, ast.Store)}
    scope = {name: vars(plain_value)[name] for name in read if name in vars(plain_value)}
    return tail, scope


class _Specialize(ast.NodeTransformer):
    """``_op``'s node lines for one op of one or two inputs and no constant: ``op.name``
    becomes the op's name, ``x`` and ``y`` the method's ``self`` and ``other`` (or None),
    ``arg`` None, a test of constants (``None is not None``) the branch it picks, and the
    methods in ``_BOUND`` (``object.__new__``) names bound once."""

    def __init__(self, op_name: str, y: str | None) -> None:
        self.names = {"x": "self", "y": y, "arg": None}
        self.op_name = op_name

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.names and isinstance(node.ctx, ast.Load):
            new = self.names[node.id]
            return ast.Constant(None) if new is None else ast.Name(new, ast.Load())
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        if isinstance(node.value, ast.Name) and (node.value.id, node.attr) == ("op", "name"):
            return ast.Constant(self.op_name)
        if isinstance(node.value, ast.Name) and (node.value.id, node.attr) in _BOUND:
            return ast.Name(_BOUND[node.value.id, node.attr], ast.Load())
        return self.generic_visit(node)

    def visit_If(self, node: ast.If) -> Any:
        node = self.generic_visit(node)  # type: ignore[assignment]
        known = _constant_test(node.test)
        if known is None:
            return node
        return node.body if known else node.orelse


def _constant_test(test: ast.expr) -> bool | None:
    """The value of ``c is d`` or ``c is not d`` for constants, else None (not known)."""
    if (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Constant)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Is, ast.IsNot))
        and isinstance(test.comparators[0], ast.Constant)
    ):
        same = test.left.value is test.comparators[0].value
        return same if isinstance(test.ops[0], ast.Is) else not same
    return None


_NODE_LINES, _NODE_GLOBALS = _node_code()
# Methods the node lines call, looked up once instead of per node (together ~10% of making one).
_BOUND = {("object", "__new__"): "new", ("GRAD_STATE", "get"): "grad_state"}


def _record(op_name: str, binary: bool) -> str:
    """The node lines of ``_op``, specialized for ``op_name``, as code for a method's end."""
    spec = _Specialize(op_name, "other" if binary else None)
    body = ast.Module([spec.visit(copy.deepcopy(stmt)) for stmt in _NODE_LINES], [])
    body.body = [s for stmt in body.body for s in (stmt if isinstance(stmt, list) else [stmt])]
    return "\n" + textwrap.indent(ast.unparse(body), "    ") + "\n"


# The written methods' globals.
_METHOD_SCOPE: dict[str, Any] = {
    **_NODE_GLOBALS,
    "OPS": OPS,
    "Value": Value,
    "new": object.__new__,
    "grad_state": plain_value.GRAD_STATE.get,
    "lift": _lift,
    "named": _named,
}


def compile_method(name: str, op: Op) -> Callable[..., Value]:
    """The method ``name`` of ``op`` (``x * y``; ``other <op> self`` for a reflected dunder such
    as ``__rmul__``; ``x.exp()``), doing what the plain method does, in one frame."""
    binary = op.arity == 2
    names = "a, b" if binary else "a"
    source = (_BINARY if binary else _UNARY).format(
        name=name,
        forward=as_code(op.name, op.fwd, *names.split(", ")).text,
        swap=_SWAP if _is_reflected(name) else "",
    )
    if op.check is not None:
        source += _CHECK.format(op=op.name, xs=names, inputs="self, other" if binary else "self,")
    source += _record(op.name, binary)
    method = compile_function(source, name, _METHOD_SCOPE, f"autograd.codegen: Value.{name}")
    plain = getattr(Value, name)
    method.__qualname__, method.__doc__ = f"Value.{name}", plain.__doc__ or op.doc
    return method


_REFLECTED = {f"__r{name}__" for name in ("add", "sub", "mul", "truediv", "pow", "matmul")}


def _is_reflected(name: str) -> bool:
    return name in _REFLECTED


def _compilable(op: Op) -> bool:
    """Ops whose methods take exactly their inputs: one or two Values, no constant."""
    return op.arity in (1, 2) and not op.has_arg


# ---- the backward loop --------------------------------------------------------------------------

# What a compiled rule may read, and the line that loads it: the node's value, its inputs'
# values and its constant (``g``, the gradient flowing in, is always loaded).
_LOADS = {"out": "out = node.data", "a": "a = x.data", "b": "b = y.data", "c": "c = node.arg"}


def _compile_float_backprop() -> tuple[Callable[[list[Value]], None], str, tuple[str, ...]]:
    """The backward loop on floats, written from the op table: the hot loop of training.

    The plain sweep (``autograd.backward.chain_rule`` on floats, into ``.grad``) with the rules
    inlined: a branch per op of one or two inputs holding its vjp as code (``MUL.vjp`` gives
    ``x.grad += (g * b)`` and ``y.grad += (g * a)``). Nodes with three or more inputs (sum, dot,
    max) call their rule once for all inputs; ops registered after import call theirs through
    ``local_grads``. Returns the function, its source text and the ops compiled into it.
    """
    two = [op for op in OPS.values() if op.arity == 2]
    one = [op for op in OPS.values() if op.arity == 1]
    lines = [
        "def float_backprop(order):",
        "    cut = False  # has a rule passed no gradient (None) to some input yet?",
        "    for node in reversed(order):",
        "        x = node._x",
        "        if x is None:  # a leaf",
        "            continue",
        "        g = node.grad",
        "        if cut and g is UNREACHED:  # every path to the root passes no gradient",
        "            node.grad = 0.0",
        "            continue",
        "        op = node.op",
        "        y = node._y",
        "        if y is not None:  # two inputs",
        *_branches(two, "            "),
        "        elif type(x) is tuple:  # three or more: one call of the rule for all of them",
        "            data = map(data_of, x)",
        "            for p, gp in zip(x, OPS[op].vjp(FLOAT, g, node.data, *data)):",
        "                if gp is None:",
        "                    cut = True",
        "                else:",
        "                    p.grad += gp",
        *_branches(one, "        ", first="elif"),
        "",
    ]
    source = "\n".join(lines)
    scope = {
        "by_rule": _by_rule,
        "FLOAT": FLOAT,
        "OPS": OPS,
        "data_of": data_of,
        "UNREACHED": UNREACHED,
    }
    backprop = compile_function(source, "float_backprop", scope, "autograd.codegen")
    return backprop, source, tuple(op.name for op in two + one)


def _branches(ops: list[Op], indent: str, first: str = "if") -> list[str]:
    """``if op == 'add': ...`` for each op, its rule as code; other ops call their rule."""
    lines = []
    for op in ops:
        names = ["a", "b"][: op.arity] + (["c"] if op.has_arg else [])
        contributions = as_code(op.name, op.vjp, "g", "out", *names)
        reads = frozenset().union(*(c.names for c in contributions if c is not None))
        body = [load for name, load in _LOADS.items() if name in reads]
        body += [f"{p}.grad += {c.text}" for p, c in zip("xy", contributions) if c is not None]
        if any(c is None for c in contributions):
            body.append("cut = True")
        keyword = first if not lines else "elif"
        lines.append(f"{indent}{keyword} op == {op.name!r}:  # {op.doc.splitlines()[0]}")
        lines += [f"{indent}    {line}" for line in body or ["pass"]]
    return [*lines, f"{indent}else:", f"{indent}    cut = by_rule(node) or cut"]


def _by_rule(node: Value) -> bool:
    """Add ``node``'s contributions to its inputs' ``.grad``, calling the op's rule (an op
    registered after import); True when the rule passed no gradient to some input."""
    cut = False
    for parent, contribution in zip(node.parents, plain_backward.local_grads(node, node.grad)):
        if contribution is None:
            cut = True
        else:
            parent.grad += contribution
    return cut


float_backprop, FLOAT_BACKPROP_SOURCE, COMPILED_OPS = _compile_float_backprop()


def compiled_backward(self: Value, grad: Any = 1.0, create_graph: bool = False) -> None:
    """``Value.backward`` with the compiled loop (the plain one for ``create_graph=True``)."""
    if create_graph:
        plain_backward.backward(self, grad, create_graph)
        return
    seed = plain_backward._seed(grad)
    with plain_backward.ONE_PASS_AT_A_TIME:
        if self._x is None:  # a leaf: nothing to walk
            self.grad = self.grad + seed
            return
        order = walk_resetting_grads(self)  # every non-leaf .grad starts at UNREACHED
        self.grad = seed
        float_backprop(order)


compiled_backward.__doc__ = plain_backward.backward.__doc__

# ---- switching ----------------------------------------------------------------------------------

_PLAIN: dict[str, Any] = {}  # the plain engine's methods, kept while the compiled ones are on


def install() -> None:
    """Put the compiled methods and backward on ``Value`` (the default at import)."""
    if _PLAIN:
        return
    compiled: dict[str, Any] = {"backward": compiled_backward}
    for op in OPS.values():
        if _compilable(op):
            compiled.update({name: compile_method(name, op) for name in op.methods})
    for name, method in compiled.items():
        _PLAIN[name] = Value.__dict__[name]
        setattr(Value, name, method)


def uninstall() -> None:
    """Put the plain engine's methods back (what ``AUTOGRAD_PLAIN=1`` gives at import)."""
    for name, method in _PLAIN.items():
        setattr(Value, name, method)
    _PLAIN.clear()


def engine() -> str:
    """``"compiled"`` while the compiled methods are on ``Value``, else ``"plain"``."""
    return "compiled" if _PLAIN else "plain"
