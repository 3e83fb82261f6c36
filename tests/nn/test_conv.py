"""Conv2d, MaxPool2d, AvgPool2d, Flatten: layout, shapes, weight sharing, pooling rules, errors."""

from __future__ import annotations

import math
import random
import re

import numpy as np
import pytest

from autograd import Value
from autograd.graph import topological_order
from nn import AvgPool2d, Conv2d, Flatten, MaxPool2d, Sequential


def image(channels, height, width, seed=0):
    rng = random.Random(seed)
    return [
        [[rng.uniform(-1, 1) for _ in range(width)] for _ in range(height)] for _ in range(channels)
    ]


def floats(out):
    return np.array([[[v.data for v in row] for row in plane] for plane in out])


def reference_conv(conv, x):
    """The convolution written out from its definition, on floats (cross-correlation, as torch)."""
    k, s, p = conv.kernel_size, conv.stride, conv.padding
    channels, height, width = len(x), len(x[0]), len(x[0][0])
    rows, cols = (height + 2 * p - k) // s + 1, (width + 2 * p - k) // s + 1

    def pixel(c, r, q):
        inside = 0 <= r < height and 0 <= q < width
        return x[c][r][q] if inside else 0.0

    out = np.zeros((conv.out_channels, rows, cols))
    for o, n in enumerate(conv.neurons):
        for i in range(rows):
            for j in range(cols):
                total = 0.0 if n.b is None else n.b.data
                for c in range(channels):
                    for a in range(k):
                        for b in range(k):
                            w = n.w[(c * k + a) * k + b].data  # (channel, row, column) order
                            total += w * pixel(c, i * s + a - p, j * s + b - p)
                out[o, i, j] = total
    return out


# (channels in, out, kernel, stride, padding, height, width) -> expected output size
SHAPES = [
    ((1, 1, 1, 1, 0, 3, 4), (3, 4)),
    ((1, 2, 3, 1, 0, 5, 5), (3, 3)),
    ((2, 3, 3, 1, 1, 5, 4), (5, 4)),
    ((3, 2, 2, 2, 0, 5, 6), (2, 3)),
    ((2, 2, 3, 2, 1, 6, 5), (3, 3)),
    ((1, 1, 3, 1, 1, 1, 1), (1, 1)),  # the padding is the whole window but one pixel
    ((1, 4, 3, 2, 1, 8, 8), (4, 4)),
]


@pytest.mark.parametrize(("args", "size"), SHAPES)
def test_conv_matches_its_definition(args, size):
    cin, cout, k, s, p, h, w = args
    conv = Conv2d(cin, cout, k, stride=s, padding=p, seed=1)
    x = image(cin, h, w, seed=2)
    out = floats(conv(x))
    assert out.shape == (cout, *size)
    assert conv.output_size(h, w) == size
    np.testing.assert_allclose(out, reference_conv(conv, x), rtol=0, atol=1e-13)


def test_layout_is_one_neuron_per_output_channel():
    conv = Conv2d(3, 5, 2, seed=0)
    assert len(conv.neurons) == 5
    assert all(len(n.w) == 3 * 2 * 2 and isinstance(n.b, Value) for n in conv.neurons)
    assert len(conv.parameters()) == 5 * (12 + 1)
    names = [name for name, _ in conv.named_parameters()]
    assert names[:2] == ["neurons.0.w.0", "neurons.0.w.1"] and names[12] == "neurons.0.b"
    assert Conv2d(3, 5, 2, bias=False, seed=0).neurons[0].b is None
    assert len(Conv2d(3, 5, 2, bias=False, seed=0).parameters()) == 5 * 12


def test_activation_is_the_neurons():
    conv = Conv2d(1, 2, 2, activation="relu", seed=3)
    out = conv(image(1, 4, 4, seed=4))
    assert conv.activation == "relu"
    assert all(v.op == "relu" for plane in out for row in plane for v in row)
    linear = floats(Conv2d(1, 2, 2, seed=3)(image(1, 4, 4, seed=4)))
    np.testing.assert_array_equal(floats(out), np.maximum(linear, 0.0))


def test_seeded_and_he_initialised():
    a, b = Conv2d(4, 8, 3, seed=7), Conv2d(4, 8, 3, seed=7)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    weights = [w.data for n in Conv2d(8, 64, 3, seed=0).neurons for w in n.w]
    assert np.std(weights) == pytest.approx(math.sqrt(2 / 72), rel=0.05)
    assert all(n.b.data == 0.0 for n in a.neurons)


def test_the_same_weights_feed_every_position():
    conv = Conv2d(1, 2, 2, seed=0)
    x = [[[Value(float(v)) for v in row] for row in [[1, 2, 3], [4, 5, 6], [7, 8, 9]]]]
    out = conv(x)
    for plane, n in zip(out, conv.neurons):
        for row in plane:
            for v in row:
                reached = set(topological_order(v))
                assert set(n.w) <= reached and n.b in reached
    total = sum(v for plane in out for row in plane for v in row)
    total.backward()
    # d(total)/d(w[a, b]) sums the pixel under tap (a, b) over the four positions.
    expected = [1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9]
    for n in conv.neurons:
        assert [w.grad for w in n.w] == expected
        assert n.b.grad == 4.0
    # and each pixel's gradient sums the weights that touched it, over both channels
    centre = sum(w.data for n in conv.neurons for w in n.w)
    assert x[0][1][1].grad == pytest.approx(centre, abs=1e-15)


def test_every_position_is_its_own_neuron_scope():
    model = Sequential(Conv2d(1, 2, 2, padding=1, seed=0))
    out = model(image(1, 2, 3))
    v = out[1][2][3]
    assert v.scope == ("Sequential:", "Conv2d:layers.0", "Neuron:neurons.1 at (2, 3)")
    scopes = {u.scope for plane in out for row in plane for u in row}
    assert len(scopes) == 2 * 3 * 4


def test_zero_padding_is_a_frame_of_constant_zeros():
    conv = Conv2d(1, 1, 3, padding=1, seed=0)
    corner = conv([[[1.0, 2.0], [3.0, 4.0]]])[0][0][0]
    dot = corner.parents[0]
    assert dot.op == "dot" and len(dot.parents) == 18
    pixels = dot.parents[9:]
    assert [p.data for p in pixels] == [0, 0, 0, 0, 1, 2, 0, 3, 4]
    assert [p.label for p in pixels if p.data] == ["x[0,0,0]", "x[0,0,1]", "x[0,1,0]", "x[0,1,1]"]
    assert all(not p.parents and not p.label for p in pixels if not p.data)


def test_unfused_neurons_give_the_same_numbers():
    x = image(2, 5, 5, seed=1)
    fused = Conv2d(2, 3, 3, stride=2, padding=1, seed=5)
    chained = Conv2d(2, 3, 3, stride=2, padding=1, seed=5, fused=False)
    np.testing.assert_allclose(floats(fused(x)), floats(chained(x)), rtol=0, atol=1e-14)
    assert chained(x)[0][0][0].op == "add"


def test_numpy_and_tuples_in():
    x = image(2, 4, 4, seed=3)
    conv = Conv2d(2, 2, 3, seed=0)
    expected = floats(conv(x))
    np.testing.assert_array_equal(floats(conv(np.array(x))), expected)
    as_tuples = tuple(tuple(tuple(row) for row in plane) for plane in x)
    np.testing.assert_array_equal(floats(conv(as_tuples)), expected)


# ---- pooling ------------------------------------------------------------------------------------

GRID = [[1.0, 5.0, 2.0, 0.0], [3.0, -1.0, 7.0, 7.0], [0.5, 0.25, -2.0, 4.0], [9.0, 1.0, 6.0, 3.0]]


def test_max_pool_picks_each_windows_largest():
    assert floats(MaxPool2d(2)([GRID])).tolist() == [[[5.0, 7.0], [9.0, 6.0]]]
    strided = floats(MaxPool2d(3, stride=1)([GRID])).tolist()
    assert strided == [[[7.0, 7.0], [9.0, 7.0]]]
    assert floats(MaxPool2d(3)([GRID])).tolist() == [[[7.0]]]  # a partial window is dropped


def test_avg_pool_means_each_window():
    out = floats(AvgPool2d(2)([GRID]))
    np.testing.assert_allclose(out, [[[2.0, 4.0], [2.6875, 2.75]]], rtol=0, atol=1e-15)
    out = floats(AvgPool2d(2, stride=1)([GRID, GRID]))
    assert out.shape == (2, 3, 3) and out[1, 1, 1] == pytest.approx((-1 + 7 + 0.25 - 2) / 4)


def test_max_pool_gradient_goes_to_the_first_largest():
    x = [[[Value(v) for v in row] for row in [[1.0, 3.0, 3.0], [3.0, 2.0, 0.0], [0.0, 0.0, 0.0]]]]
    out = MaxPool2d(2, stride=1)(x)
    sum(v for row in out[0] for v in row).backward()
    grads = [[v.grad for v in row] for row in x[0]]
    # windows (0,0) and (1,0) have ties on 3.0; (0,1) too; (1,1) is all zeros but one 2.0
    assert grads == [[0.0, 2.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    assert out[0][0][0].op == "max" and len(out[0][0][0].parents) == 4


def test_max_pool_passes_nan_through():
    out = MaxPool2d(2)([[[1.0, math.nan], [2.0, 3.0]]])
    assert math.isnan(out[0][0][0].data)


def test_avg_pool_gradient_is_one_over_the_window():
    x = [[[Value(v) for v in row] for row in GRID]]
    out = AvgPool2d(2, stride=1)(x)
    sum(v for row in out[0] for v in row).backward()
    counts = [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]
    assert [[v.grad for v in row] for row in x[0]] == [[c / 4 for c in row] for row in counts]


# ---- Flatten ------------------------------------------------------------------------------------


def test_flatten_is_row_major():
    x = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    assert Flatten()(x) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert Flatten()(np.arange(8.0).reshape(2, 2, 2)) == [float(i) for i in range(8)]
    v = Value(1.0)
    assert Flatten()([[v]])[0] is v
    assert repr(Flatten()) == "Flatten()"


# ---- errors -------------------------------------------------------------------------------------

BAD_CONSTRUCTORS = [
    (lambda: Conv2d(0, 1, 3), "Conv2d: in_channels must be an int in [1, 65536], got 0"),
    (lambda: Conv2d(1, 2.0, 3), "Conv2d: out_channels must be an int in [1, 65536], got 2.0"),
    (lambda: Conv2d(1, 1, (3, 3)), "Conv2d: kernel_size must be an int in [1, 65536], got (3, 3)"),
    (lambda: Conv2d(1, 1, 3, stride=0), "Conv2d: stride must be an int in [1, 65536], got 0"),
    (lambda: Conv2d(1, 1, 3, padding=-1), "Conv2d: padding must be an int in [0, 65536], got -1"),
    (
        lambda: Conv2d(1, 1, 3, padding=True),
        "Conv2d: padding must be an int in [0, 65536], got True",
    ),
    (lambda: Conv2d(1, 1, 3, activation="gelu"), "unknown activation 'gelu'"),
    (lambda: Conv2d(1, 1, 3, init="zeros"), "Conv2d: unknown init 'zeros'"),
    (lambda: MaxPool2d(0), "MaxPool2d: kernel_size must be an int in [1, 65536], got 0"),
    (lambda: MaxPool2d(2, stride=-1), "MaxPool2d: stride must be an int in [1, 65536], got -1"),
    (lambda: AvgPool2d(1.5), "AvgPool2d: kernel_size must be an int in [1, 65536], got 1.5"),
]


@pytest.mark.parametrize(("build", "message"), BAD_CONSTRUCTORS)
def test_bad_sizes_are_named(build, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build()


BAD_INPUTS = [
    (
        Conv2d(2, 1, 2, seed=0),
        image(1, 3, 3),
        ValueError,
        "Conv2d: expected 2 input channels, got 1",
    ),
    (
        Conv2d(1, 1, 2, seed=0),
        [[[1.0, 2.0], [3.0]]],
        ValueError,
        r"Conv2d: ragged input: row \[0\]\[1\] has 1 pixels, row \[0\]\[0\] has 2",
    ),
    (
        Conv2d(2, 1, 1, seed=0),
        [[[1.0]], [[1.0], [2.0]]],
        ValueError,
        "Conv2d: ragged input: channel 1 has 2 rows, channel 0 has 1",
    ),
    (
        Conv2d(1, 1, 2, seed=0),
        [[[1.0, "a"], [3.0, 4.0]]],
        TypeError,
        r"Conv2d: pixels must be numbers or Values, got str 'a' at \[0\]\[0\]\[1\]",
    ),
    (
        Conv2d(1, 1, 2, seed=0),
        [[1.0, 2.0], [3.0, 4.0]],
        ValueError,
        "Conv2d: expected 1 input channels, got 2",
    ),
    (
        Conv2d(1, 1, 2, seed=0),
        [[1.0, 2.0]],
        TypeError,
        r"Conv2d: row \[0\]\[0\] must be a list of pixels, got float 1.0 \(an image is \[ch",
    ),
    (Conv2d(1, 1, 2, seed=0), 3.0, TypeError, r"Conv2d: expected an image \[channels\]"),
    (Conv2d(1, 1, 2, seed=0), [], TypeError, r"Conv2d: expected an image"),
    (
        Conv2d(1, 1, 5, padding=1, seed=0),
        image(1, 2, 4),
        ValueError,
        "Conv2d: a 2x4 input with padding 1 is smaller than the 5x5 kernel",
    ),
    (MaxPool2d(3), image(2, 2, 5), ValueError, "MaxPool2d: a 2x5 input is smaller than the 3x3"),
    (AvgPool2d(2), [[[1.0, None]]], TypeError, "AvgPool2d: pixels must be numbers or Values"),
    (
        Flatten(),
        [[1.0, "x"]],
        TypeError,
        r"Flatten: expected nested lists .* str 'x' at \[0\]\[1\]",
    ),
]


@pytest.mark.parametrize(("module", "x", "kind", "message"), BAD_INPUTS)
def test_bad_inputs_are_named(module, x, kind, message):
    with pytest.raises(kind, match=message):
        module(x)
    assert Value(1.0).scope is None  # the module's scope was closed again


def test_reprs_read_like_the_call():
    assert repr(Conv2d(1, 8, 3, seed=0)) == "Conv2d(1, 8, kernel_size=3)"
    conv = Conv2d(2, 4, 3, stride=2, padding=1, bias=False, activation="relu", seed=0)
    assert repr(conv) == (
        "Conv2d(2, 4, kernel_size=3, stride=2, padding=1, bias=False, activation='relu')"
    )
    assert repr(MaxPool2d(2)) == "MaxPool2d(2)"
    assert repr(AvgPool2d(3, stride=1)) == "AvgPool2d(3, stride=1)"


def test_draw_dot_boxes_each_neuron_at_each_position():
    import viz

    model = Sequential(Conv2d(1, 2, 3, padding=1, activation="relu", seed=0), MaxPool2d(2))
    pooled = model(image(1, 4, 4))[1][0][1]
    source = viz.draw_dot(pooled, collapse="neuron", params=model).source
    boxes = [f"Neuron layers.0.neurons.1 at ({i}, {j})" for i in (0, 1) for j in (2, 3)]
    assert all(source.count(box) == 1 for box in boxes)
    assert source.count("Neuron layers.0.neurons.") == 4
    # the filter is shared by the four boxes, so its weights stay in sight, one node each
    for k in range(9):
        assert source.count(f"layers.0.neurons.1.w.{k} ") == 1
    assert "max" in source
    # Titles keep the position; the boxes own no weights but share the filter's ten.
    for i in (0, 1):
        for j in (2, 3):
            assert f"C0·N1 at ({i}, {j}) | shares 10 params · " in source  # conv 0, neuron 1
    whole_map = model.layers[0](image(1, 4, 4))
    roots = [v for plane in whole_map for row in plane for v in row]
    source = viz.draw_dot(roots, collapse="neuron").source
    assert source.count("Neuron layers.0.neurons.") == 2 * 4 * 4
