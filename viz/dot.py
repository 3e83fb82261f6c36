"""draw_dot: the computation graph as a ``graphviz.Digraph``, coloured by what each node is."""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import graphviz

from autograd.files import write_atomic
from autograd.graph import topological_order
from autograd.ops import OPS
from autograd.value import Value

from .groups import COLLAPSE_MARKERS, Group, collapse_groups
from .layout import LAYOUT_FONT as FONT
from .layout import png_from_svg, svg_from_source

Roots = Value | Iterable[Value]

# kind -> (fill, outline, text colour, meaning); the legend of draw_dot's docstring.
KINDS: dict[str, tuple[str, str, str, str]] = {
    "parameter": ("#dbeafe", "#2563eb", "#1e3a8a", "a leaf the model learns (w, b, ...)"),
    "input": ("#dcfce7", "#16a34a", "#14532d", "a labelled leaf that is not a parameter"),
    "constant": ("#f3f4f6", "#9ca3af", "#4b5563", "an unlabelled leaf (a Python number)"),
    "intermediate": ("#ffffff", "#64748b", "#0f172a", "made by an op"),
    "output": ("#fef3c7", "#d97706", "#78350f", "a root you called draw_dot on"),
    "group": ("#ede9fe", "#7c3aed", "#3b0764", "a collapsed neuron or layer"),
}
# Faint tint at the grad end of a node: which way the loss pulls it.
GRAD_TINTS = {1: "#bbf7d0", -1: "#fecaca"}
OP_STYLE = {
    "shape": "box", "style": "filled,rounded", "fontsize": "11", "width": "0.3", "height": "0.3",
    "margin": "0.08,0.03", "fillcolor": "#f1f5f9", "color": "#94a3b8", "fontcolor": "#334155",
    "ordering": "in",  # inputs enter in argument order, so a - b reads top to bottom
}  # fmt: skip
EDGE_COLOUR = "#94a3b8"

# A leaf labelled like a weight or a bias: "w", "b2", "w[1]", "layers.0.neurons.3.w.1", "bias".
_PARAMETER_LABEL = re.compile(r"(?:^|[.:/ ])(?:w|b|weight|bias)[\d_\[\],]*(?:\.\d+)*$", re.I)
_RECORD_SPECIAL = re.compile(r'([\\{}|<>"])')
_PLAIN_SPECIAL = re.compile(r'([\\"])')
_BLANKS = re.compile(r"\s+")


def op_name(node: Value) -> str:
    """The op's one display name, from the op table (``+``, ``σ``, ``LeakyReLU(0.01)``,
    ``**2``): what the graph's op bubbles, ``print_backward`` and the page all say."""
    return OPS[node.op].describe(node.arg)


def fmt(x: Any, precision: int = 4) -> str:
    """A number for a picture: fixed point, scientific when fixed would hide it; no '-0'."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return f"{0.0:.{precision}f}"
    if abs(x) >= 1e6 or abs(x) < 10.0 ** (1 - precision):  # keep two significant digits
        return f"{x:.{max(precision - 1, 1)}e}"
    return f"{x:.{precision}f}"


def clean_text(text: str) -> str:
    """``text`` as Graphviz shows it in a record: controls become spaces, runs of blanks one."""
    chars = (
        " " if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") else c
        for c in text
    )
    return _BLANKS.sub(" ", "".join(chars)).strip()


def escape_record(text: str) -> str:
    """``text`` as one field of a record label: it can never open a field, a port or markup."""
    # Backslash-escape what the record parser reads as structure; '&' starts an entity.
    return _RECORD_SPECIAL.sub(r"\\\1", clean_text(text)).replace("&", "&amp;")


def escape_plain(*lines: str) -> str:
    """Lines of text as a plain (non-record) label: no escape sequence or entity survives."""
    return "\\n".join(
        _PLAIN_SPECIAL.sub(r"\\\1", clean_text(t)).replace("&", "&amp;") for t in lines
    )


def is_parameter_label(label: str) -> bool:
    """True for labels nn gives weights and biases: ``w``, ``b3``, ``layers.0.neurons.1.w.2``."""
    return bool(_PARAMETER_LABEL.search(label))


def _params_set(params: Any) -> set[Value] | None:
    if params is None:
        return None
    if hasattr(params, "parameters"):
        params = params.parameters()
    elif isinstance(params, Mapping):
        params = params.values()
    return set(params)


def kind_of(v: Value, roots: Iterable[Value], params: set[Value] | None = None) -> str:
    """Which colour ``v`` gets: output, intermediate, parameter, input or constant.

    Roots are outputs; Values made by an op are intermediate. A leaf is a parameter when it is
    in ``params`` (if given) or, without ``params``, when its label looks like a weight or a bias;
    any other labelled leaf is an input; an unlabelled leaf is a constant (Python numbers such
    as the ``2`` of ``x * 2`` become unlabelled leaves).
    """
    if any(v is r for r in roots):
        return "output"
    if v.parents:
        return "intermediate"
    if params is not None:
        if v in params:
            return "parameter"
    elif v.label and is_parameter_label(v.label):
        return "parameter"
    return "input" if v.label else "constant"


def _sign(x: Any) -> int:
    x = float(x)
    return (x > 0) - (x < 0)  # 0 for 0 and nan


def _roots(root: Roots) -> list[Value]:
    roots = [root] if isinstance(root, Value) else list(root)
    if not roots or not all(isinstance(r, Value) for r in roots):
        raise TypeError(f"draw_dot: root must be a Value or a list of Values, got {root!r}")
    return roots


def _check_labels(order: list[Value], who: str) -> None:
    for v in order:
        if not isinstance(v.label, str):
            raise TypeError(
                f"{who}: a Value's label must be a str, got {v.label!r} "
                f"({type(v.label).__name__}) on the Value with data {v.data!r}; "
                f"e.g. label=str({v.label!r})"
            )


# The widest a graph is shown inline: a notebook's output area in a common window (JupyterLab
# at 1200 px leaves about 1,078 px; a code host's preview about 980).
INLINE_WIDTH = 960.0


def _inline_scale(svg: str) -> float:
    """How much a picture shrinks to be shown :data:`INLINE_WIDTH` wide (1: not at all)."""
    m = re.search(r'<svg width="([\d.]+)px"', svg)
    return 1.0 if m is None else min(1.0, INLINE_WIDTH / float(m[1]))


class Graph(graphviz.Digraph):
    """A ``graphviz.Digraph`` that lays itself out with the embedded engine.

    Jupyter shows it inline and ``.pipe()``/``.render()`` write SVG and PNG without a system
    Graphviz (other formats go to the system ``dot`` as usual).
    """

    # draw_dot's left-to-right graph, drawn top to bottom: shown inline instead when that
    # leaves its text larger (a long chain would otherwise shrink to fit the cell's width).
    across: Any = None

    def svg(self) -> str:
        """The laid-out picture as SVG text."""
        return svg_from_source(self.source, engine=self.engine, who="draw_dot")

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, **_: Any
    ) -> dict[str, str]:
        wanted = set(include) if include is not None else {"image/svg+xml"}
        wanted -= set(exclude or ())
        return {"image/svg+xml": self._inline()} if "image/svg+xml" in wanted else {}

    def _repr_svg_(self) -> str:
        return self._inline()

    def _inline(self) -> str:
        """The SVG as a notebook shows it: never wider than a cell's output area (at most
        :data:`INLINE_WIDTH` px, and ``max-width: 100%`` where the SVG is inline), scaled down
        with its text, never up, so the output ``o`` at the far end is in view without a
        sideways scroll. Front ends that show SVG as an image read only the size."""
        svg = self.svg()
        if self.across is not None and _inline_scale(svg) < 0.8:  # a long chain, laid across
            tall = self.across().svg()
            if _inline_scale(tall) > 1.2 * _inline_scale(svg):
                svg = tall
        m = re.search(r'<svg width="([\d.]+)px" height="([\d.]+)px"', svg)
        if m is not None and float(m[1]) > INLINE_WIDTH:
            k = INLINE_WIDTH / float(m[1])
            size = f'<svg width="{INLINE_WIDTH:.2f}px" height="{float(m[2]) * k:.2f}px"'
            svg = svg[: m.start()] + size + svg[m.end() :]
        return svg.replace("<svg ", '<svg style="max-width: 100%; height: auto" ', 1)

    def _picture(self, kind: str) -> bytes:
        return self.svg().encode() if kind == "svg" else png_from_svg(self.svg())

    def pipe(
        self, format: str | None = None, *args: Any, encoding: str | None = None, **kwargs: Any
    ) -> Any:
        """Like ``Digraph.pipe``; svg and png come from the embedded engine."""
        kind = format or self.format
        if kind in ("svg", "png") and not args and not kwargs.get("renderer"):
            data = self._picture(kind)
            return data.decode(encoding) if encoding else data
        return super().pipe(format, *args, encoding=encoding, **kwargs)

    def render(self, filename: Any = None, directory: Any = None, *args: Any, **kwargs: Any) -> str:
        """Like ``Digraph.render``; svg and png (without ``view``) come from the embedded engine."""
        outfile = kwargs.get("outfile")
        kind = kwargs.get("format") or os.path.splitext(outfile or "")[1][1:] or self.format
        special = args or any(kwargs.get(k) for k in ("view", "renderer", "formatter"))
        if kind not in ("svg", "png") or special:
            return super().render(filename, directory, *args, **kwargs)
        if filename is None and outfile is not None:  # as graphviz does: source beside outfile
            filename = os.path.splitext(os.path.basename(outfile))[0] + ".gv"
            directory = directory or os.path.dirname(outfile)
        source = self.save(filename, directory=directory)
        out = outfile or f"{source}.{kind}"
        write_atomic(out, self._picture(kind), "render")
        if kwargs.get("cleanup"):
            os.remove(source)
        return os.fspath(out)


def _too_many(n: int, max_nodes: int, collapse: str | None, who: str = "draw_dot") -> ValueError:
    if collapse is None:
        hint = (
            "pass collapse='neuron' or collapse='layer' to draw each neuron or layer "
            "(Values made inside nn modules) as one box, or raise max_nodes"
        )
    else:
        hint = "try collapse='layer'" if collapse == "neuron" else "raise max_nodes"
        hint += " (or draw a smaller graph)"
    what = "Values" if collapse is None else f"boxes with collapse={collapse!r}"
    return ValueError(f"{who}: the graph has {n} {what}, more than max_nodes={max_nodes}; {hint}")


@dataclass(frozen=True)
class PageText:
    """What the backprop page draws its own way: a name on every node, the grad text (sums of
    contributions), labels on input edges (by edge id), graph attributes; and no grad tints
    (grads change as the page steps)."""

    names: Mapping[Value, str]
    grad_text: Mapping[Value, str]
    edge_labels: Mapping[str, tuple[str, ...]]
    graph_attr: Mapping[str, str]


@dataclass
class Layout:
    """What draw_dot decided before drawing: the Values, their kinds, and who is in which box."""

    roots: list[Value]
    order: list[Value]
    kinds: dict[Value, str]
    member: dict[Value, Group]
    groups: list[Group]

    @property
    def n_boxes(self) -> int:
        return len(self.order) - len(self.member) + len(self.groups)

    def box_of(self, v: Value) -> str:
        """The id of the box ``v`` is drawn in: its own ``v<i>`` or its group's ``g<k>``."""
        group = self.member.get(v)
        return group.box if group is not None else f"v{self.index[v]}"

    def __post_init__(self) -> None:
        self.index = {v: i for i, v in enumerate(self.order)}
        # A box's outputs: members that something outside it uses, and roots.
        member = self.member
        leaving = {
            p
            for u in self.order
            for p in u.parents
            if p in member and member[p] is not member.get(u)
        }
        self._outputs = {
            group: [v for v in group.members if v in leaving or self.kinds[v] == "output"]
            or group.members[-1:]
            for group in self.groups
        }

    def outputs(self, group: Group) -> list[Value]:
        """The members shown as the box's data/grad rows: those used outside it, and roots."""
        return self._outputs[group]


def plan(
    root: Roots,
    max_nodes: int,
    collapse: str | None,
    params: Any = None,
    who: str = "draw_dot",
) -> Layout:
    """Check the options, walk the graph and group it: everything but the drawing."""
    if collapse is not None and collapse not in COLLAPSE_MARKERS:
        raise ValueError(f"{who}: collapse must be None, 'neuron' or 'layer', got {collapse!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"{who}: max_nodes must be a positive int, got {max_nodes!r}")
    roots = _roots(root)
    order = topological_order(roots)
    _check_labels(order, who)
    param_set = _params_set(params)
    kinds = {v: kind_of(v, roots, param_set) for v in order}
    member = collapse_groups(order, kinds, collapse) if collapse else {}
    layout = Layout(roots, order, kinds, member, list(dict.fromkeys(member.values())))
    if layout.n_boxes > max_nodes:
        raise _too_many(layout.n_boxes, max_nodes, collapse, who)
    return layout


def draw_dot(
    root: Roots,
    rankdir: str = "LR",
    precision: int = 4,
    show_grad: bool = True,
    max_nodes: int = 500,
    collapse: str | None = None,
    legend: bool = False,
    params: Any = None,
    *,
    _page: PageText | None = None,
) -> Graph:
    """The graph behind ``root`` (a Value or a list of them) as a ``graphviz.Digraph``.

    Each Value is a record ``label | data … | grad …``; each op is a small oval showing the op
    from the table (``+``, ``*``, ``**2``, ``tanh``); edges run inputs → op → output. The result
    displays inline in Jupyter and renders with :func:`viz.render`, no system Graphviz needed.

    Legend (``legend=True`` also draws it):

    - blue: parameter, a leaf in ``params`` (a Module or Values) or, without ``params``, a leaf
      labelled like a weight or bias (``w``, ``b1``, ``layers.0.neurons.3.w.1``)
    - green: input, any other labelled leaf
    - grey: constant, an unlabelled leaf (a Python number lifted into the graph)
    - white: intermediate, made by an op
    - amber, thick outline: output, a root
    - lavender: a collapsed neuron or layer (``collapse=``): a short title (``L0·N2``, layer 0's
      neuron 2; the full name is its tooltip), ``3 params · 9 nodes``, its output's data and grad
    - the grad end of a box fades to green when grad > 0 and to red when grad < 0

    ``collapse="neuron"`` or ``"layer"`` draws every neuron's (or layer's) subgraph as one box;
    it needs Values made inside ``nn`` modules (``Value.scope``). More than ``max_nodes`` boxes
    raise a ``ValueError`` that says how many there are. (``_page`` is viz.backprop's.)
    """
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_dot: rankdir must be LR, RL, TB or BT, got {rankdir!r}")
    layout = plan(root, max_nodes, collapse, params)
    drawing = _Drawing(layout, rankdir in ("LR", "RL"), precision, show_grad, _page)
    g = drawing.graph
    g.attr(rankdir=rankdir)
    drawing.values()
    drawing.groups()
    drawing.in_index_order()
    drawing.pixels_in_grid()
    drawing.edges()
    if legend:
        _draw_legend(g, drawing.wrap, drawing.box_style)
    if rankdir == "LR" and _page is None:  # shown inline: top to bottom may read better
        g.across = lambda: draw_dot(root, "TB", precision, show_grad, max_nodes, collapse, legend,
                                    params)  # fmt: skip
    return g


class _Drawing:
    """One draw_dot call: the Digraph and the three things drawn into it, in turn."""

    def __init__(
        self,
        layout: Layout,
        horizontal: bool,
        precision: int,
        show_grad: bool,
        page: PageText | None,
    ) -> None:
        self.layout, self.horizontal, self.precision = layout, horizontal, precision
        self.show_grad, self.page = show_grad, page
        g = self.graph = Graph(name="autograd", format="svg")
        g.attr(bgcolor="white", pad="0.25", nodesep="0.22", ranksep="0.35")
        g.attr(fontname=FONT, fontsize="12")
        if page is not None:
            g.attr(**page.graph_attr)
        g.attr("node", fontname=FONT, fontsize="12", penwidth="1.3", style="filled,rounded")
        g.attr("edge", color=EDGE_COLOUR, arrowsize="0.6", penwidth="1.1", fontname=FONT,
               fontsize="11")  # fmt: skip

    def wrap(self, fields: str) -> str:
        # Records lay fields across in TB and down in LR; braces flip that, so a box reads
        # "label | data | grad" along the flow either way.
        return "{ " + fields + " }" if self.horizontal else fields

    def box_style(self, kind: str, grad: Any) -> dict[str, str]:
        fill, line, text, _ = KINDS[kind]
        style = {"shape": "Mrecord", "fillcolor": fill, "color": line, "fontcolor": text}
        if kind == "output":
            style["penwidth"] = "2.4"
        sign = _sign(grad) if self.show_grad and self.page is None else 0
        if sign:  # a gradient fill: kind colour for most of the box, then the grad tint
            style["fillcolor"] = f"{fill};0.62:{GRAD_TINTS[sign]}"
            style["gradientangle"] = "0"  # grad is the rightmost field in every rankdir
        return style

    def data_grad(self, v: Value) -> list[str]:
        fields = [f"data {fmt(v.data, self.precision)}"]
        if self.show_grad:
            page = self.page
            text = page.grad_text[v] if page is not None else f"grad {fmt(v.grad, self.precision)}"
            fields.append(escape_record(text))
        return fields

    def values(self) -> None:
        """A record per Value outside any box, and an op node beside each one made by an op."""
        layout, page = self.layout, self.page
        for i, v in enumerate(layout.order):
            if v in layout.member:
                continue
            name = clean_text(v.label) or (page.names[v] if page is not None else "")
            fields = [escape_record(name)] if name else []
            style = self.box_style(layout.kinds[v], v.grad)
            label = self.wrap(" | ".join(fields + self.data_grad(v)))
            self.graph.node(f"v{i}", label, id=f"v{i}", **style)
            if v.parents:
                op = escape_plain(op_name(v))
                self.graph.node(f"op{i}", op, id=f"op{i}", **OP_STYLE)
                self.graph.edge(f"op{i}", f"v{i}", id=f"o{i}", weight="3")

    def groups(self) -> None:
        """A box per collapsed neuron or layer: title, size, and a data/grad row per output."""
        layout = self.layout
        for group in layout.groups:
            outputs = layout.outputs(group)
            meta = f"{_params_text(layout, group)} · {len(group.members)} nodes"
            rows = [" | ".join(self.data_grad(v)) for v in outputs]
            # Several outputs (a layer) stack as rows of "data | grad" across the box.
            body = (
                rows[0] if len(rows) == 1 else "{ " + " | ".join(f"{{ {r} }}" for r in rows) + " }"
            )
            label = self.wrap(f"{escape_record(group.title)} | {meta} | {body}")
            style = self.box_style("group", outputs[-1].grad)
            if any(layout.kinds[v] == "output" for v in outputs):
                style.update(color=KINDS["output"][1], penwidth="2.4")
            tooltip = escape_plain(group.path)
            self.graph.node(group.box, label, id=group.box, tooltip=tooltip, **style)

    def in_index_order(self) -> None:
        """Neurons of one layer (and a convolution's windows) in index order across the flow:
        a collapsed neuron's box, or the Value a neuron outputs, chained by invisible edges
        within one rank, so Graphviz never draws N10..N15 before N0 or h3 between h0 and h1."""
        layout = self.layout
        units: dict[tuple[str, ...], dict[tuple[str, ...], str]] = {}
        for group in layout.groups:
            if group.key[-1].startswith("Neuron:"):
                units.setdefault(group.key[:-1], {})[group.key] = group.box
        for i, v in enumerate(layout.order):  # a neuron drawn open: its output, the last Value
            key = _unit_key(v.scope)
            if key is not None and v not in layout.member:
                units.setdefault(key[:-1], {})[key] = f"v{i}"
        for siblings in units.values():
            if len(siblings) < 2:
                continue
            boxes = [box for _, box in sorted(siblings.items(), key=lambda kv: _index(kv[0][-1]))]
            with self.graph.subgraph() as rank:
                rank.attr(rank="same")
                for a, b in zip(boxes, boxes[1:]):
                    rank.edge(a, b, style="invis")

    def pixels_in_grid(self) -> None:
        """An image's pixels (a convolution's inputs, labelled ``x[c,i,j]``) drawn as the image
        is: row i of channel c across, column j along the flow (channels stacked), so a
        window's pixels sit where the window does. Invisible edges hold the grid together."""
        layout = self.layout
        where: dict[tuple[int, int, int], str] = {}
        for i, v in enumerate(layout.order):
            m = _PIXEL.fullmatch(v.label or "")
            if m is not None and v not in layout.member and not v.parents:
                where[(int(m[1]), int(m[2]), int(m[3]))] = f"v{i}"
        if len(where) < 2:
            return
        for (c, i, j), box in where.items():  # along a row: one rank further for each column
            right = where.get((c, i, j + 1))
            if right is not None:
                self.graph.edge(box, right, style="invis", weight="4")
        for j in sorted({j for _, _, j in where}):  # down a column: one rank, rows in order
            column = [where[k] for k in sorted(where) if k[2] == j]
            with self.graph.subgraph() as rank:
                rank.attr(rank="same")
                for a, b in zip(column, column[1:]):
                    rank.edge(a, b, style="invis")

    def edge_label(self, edge_id: str) -> dict[str, str]:
        """The backprop page's label for an edge (its local derivative and what it adds)."""
        labels = self.page.edge_labels if self.page is not None else {}
        return {"label": escape_plain(*labels[edge_id])} if edge_id in labels else {}

    def edges(self) -> None:
        """Inputs into op nodes (one edge per argument, so x * x has two); into a box, one edge
        per box or Value feeding it."""
        layout = self.layout
        drawn: set[str] = set()
        for i, v in enumerate(layout.order):
            inner = layout.member.get(v)
            for k, p in enumerate(v.parents):
                tail = layout.box_of(p)
                if inner is None:
                    self.graph.edge(tail, f"op{i}", id=f"e{i}_{k}", **self.edge_label(f"e{i}_{k}"))
                elif layout.member.get(p) is not inner and inner.edge_from(tail) not in drawn:
                    edge_id = inner.edge_from(tail)
                    drawn.add(edge_id)
                    self.graph.edge(tail, inner.box, id=edge_id, **self.edge_label(edge_id))


_PIXEL = re.compile(r"x\[(\d+),(\d+),(\d+)\]")


def _unit_key(scope: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The scope of the neuron a Value was made in, cut after its ``Neuron:`` entry."""
    for k, entry in enumerate(scope or ()):
        if entry.startswith("Neuron:"):
            return scope[: k + 1]
    return None


def _index(entry: str) -> tuple[int, ...]:
    """``Neuron:neurons.12 at (2, 3)`` -> (12, 2, 3): the numbers in order, for sorting."""
    return tuple(int(n) for n in re.findall(r"\d+", entry))


def _draw_legend(g: Graph, wrap: Any, box_style: Any) -> None:
    """A boxed key, one sample per kind and per grad sign, stacked across the flow."""
    with g.subgraph(name="cluster_legend") as c:
        c.attr(label="legend", fontsize="11", fontcolor="#475569", color="#cbd5e1", style="rounded")
        samples = [(kind, 0.0) for kind in KINDS] + [("intermediate", 1.0), ("intermediate", -1.0)]
        for k, (kind, grad) in enumerate(samples):
            text = {1.0: "grad > 0", -1.0: "grad < 0"}.get(grad, kind)
            c.node(f"legend{k}", wrap(escape_record(text)), fontsize="10", **box_style(kind, grad))
            if k:  # invisible links keep the samples in one row along the flow
                c.edge(f"legend{k - 1}", f"legend{k}", style="invis")


def _params_text(layout: Any, group: Any) -> str:
    """``3 params`` of the box's own; a box whose weights are drawn outside it because other
    boxes use them too (a convolution's neuron at each window) ``shares 10 params``."""
    own = sum(layout.kinds[v] == "parameter" for v in group.members)
    if own:
        return f"{own} params"
    members = set(group.members)
    shared = {
        p
        for v in group.members
        for p in v.parents
        if p not in members and layout.kinds.get(p) == "parameter"
    }
    return f"shares {len(shared)} params" if shared else "0 params"
