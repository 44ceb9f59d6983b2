"""RNN, LSTM, GRU and their cells: PyTorch's layout, hand-written references, gradients, graph."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd as rg
from retrograd import nn
from retrograd.autograd import ShapeError, gradcheck, topological_order

F64 = np.float64
MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def reference_step(kind, x, h, c, w_ih, w_hh, b_ih, b_hh, relu=False):
    """One step in plain NumPy, from the textbook equations with PyTorch's gate orders."""
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    if kind == "rnn":
        pre = gi + gh
        return (np.maximum(pre, 0) if relu else np.tanh(pre)), None
    if kind == "lstm":
        i, f, g, o = np.split(gi + gh, 4, axis=1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        return sigmoid(o) * np.tanh(c), c
    i_r, i_z, i_n = np.split(gi, 3, axis=1)
    h_r, h_z, h_n = np.split(gh, 3, axis=1)
    r, z = sigmoid(i_r + h_r), sigmoid(i_z + h_z)
    n = np.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h, None


def reference_forward(kind, module, x, h0, c0=None, relu=False):
    """Time-major multi-layer forward of `module`'s weights in plain NumPy."""
    layer_input, h_n, c_n = x, [], []
    for k in range(module.num_layers):
        w = [getattr(module, f"{n}_l{k}").data for n in ("weight_ih", "weight_hh")]
        b = [getattr(module, f"{n}_l{k}").data for n in ("bias_ih", "bias_hh")]
        h, c = h0[k], None if c0 is None else c0[k]
        outputs = []
        for t in range(x.shape[0]):
            h, c = reference_step(kind, layer_input[t], h, c, *w, *b, relu=relu)
            outputs.append(h)
        layer_input = np.stack(outputs)
        h_n.append(h)
        c_n.append(c)
    return layer_input, np.stack(h_n), (np.stack(c_n) if c0 is not None else None)


def random_inputs(kind, steps, batch, size, hidden, layers, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, size))
    h0 = rng.standard_normal((layers, batch, hidden)) * 0.5
    c0 = rng.standard_normal((layers, batch, hidden)) * 0.5 if kind == "lstm" else None
    return x, h0, c0


def run(module, x, h0, c0):
    state = (h0, c0) if c0 is not None else h0
    out, final = module(x, state)
    h_n, c_n = final if isinstance(final, tuple) else (final, None)
    return out, h_n, c_n


@pytest.mark.parametrize("kind", sorted(MODULES))
@pytest.mark.parametrize("layers", [1, 2])
def test_recurrent_parameter_names_and_shapes_are_pytorchs(kind, layers):
    module = MODULES[kind](3, 5, num_layers=layers, generator=0)
    expected = {}
    for k in range(layers):
        rows = GATES[kind] * 5
        expected |= {
            f"weight_ih_l{k}": (rows, 3 if k == 0 else 5),
            f"weight_hh_l{k}": (rows, 5),
            f"bias_ih_l{k}": (rows,),
            f"bias_hh_l{k}": (rows,),
        }
    assert {n: p.shape for n, p in module.named_parameters()} == expected
    assert list(module.state_dict()) == list(expected)
    assert all(np.abs(p.data).max() <= 1 / np.sqrt(5) for p in module.parameters())
    assert all(p.name == n for n, p in module.named_parameters())


@pytest.mark.parametrize("kind", sorted(MODULES))
@pytest.mark.parametrize("layers", [1, 2])
def test_recurrent_matches_numpy_reference(kind, layers):
    module = MODULES[kind](3, 4, num_layers=layers, generator=1, dtype=F64)
    x, h0, c0 = random_inputs(kind, 5, 2, 3, 4, layers)
    out, h_n, c_n = run(module, rg.tensor(x), rg.tensor(h0), None if c0 is None else rg.tensor(c0))
    ref_out, ref_h, ref_c = reference_forward(kind, module, x, h0, c0)
    np.testing.assert_allclose(out.data, ref_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n.data, ref_h, rtol=1e-12, atol=1e-12)
    if kind == "lstm":
        np.testing.assert_allclose(c_n.data, ref_c, rtol=1e-12, atol=1e-12)


def test_rnn_relu_matches_numpy_reference():
    module = nn.RNN(3, 4, num_layers=2, nonlinearity="relu", generator=2, dtype=F64)
    x, h0, _ = random_inputs("rnn", 4, 3, 3, 4, 2)
    out, h_n = module(rg.tensor(x), rg.tensor(h0))
    ref_out, ref_h, _ = reference_forward("rnn", module, x, h0, relu=True)
    np.testing.assert_allclose(out.data, ref_out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n.data, ref_h, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_recurrent_zero_initial_state_by_default(kind):
    module = MODULES[kind](3, 4, num_layers=2, generator=0, dtype=F64)
    x = rg.tensor(np.random.default_rng(0).standard_normal((3, 2, 3)))
    zeros = rg.tensor(np.zeros((2, 2, 4)))
    default = module(x)
    explicit = module(x, (zeros, zeros) if kind == "lstm" else zeros)
    np.testing.assert_array_equal(default[0].data, explicit[0].data)


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_recurrent_batch_first_is_a_transpose(kind):
    time_major = MODULES[kind](3, 4, num_layers=2, generator=5, dtype=F64)
    batch_major = MODULES[kind](3, 4, num_layers=2, batch_first=True, generator=5, dtype=F64)
    x = np.random.default_rng(0).standard_normal((6, 2, 3))
    out_t, state_t = time_major(rg.tensor(x))
    out_b, state_b = batch_major(rg.tensor(x.transpose(1, 0, 2)))
    assert out_b.shape == (2, 6, 4)
    np.testing.assert_allclose(out_b.data, out_t.data.transpose(1, 0, 2), rtol=1e-12)
    h_t = state_t[0] if kind == "lstm" else state_t
    h_b = state_b[0] if kind == "lstm" else state_b
    np.testing.assert_allclose(h_b.data, h_t.data, rtol=1e-12)


@pytest.mark.parametrize("kind", sorted(MODULES))
@pytest.mark.parametrize("batch_first", [False, True])
def test_recurrent_integer_input_is_its_one_hot_vectors(kind, batch_first):
    """Class indices are looked up (`one_hot_linear`): the same outputs, final state and
    parameter gradients as the one-hot vectors, repeated indices included."""
    module = MODULES[kind](5, 4, num_layers=2, batch_first=batch_first, generator=3, dtype=F64)
    ids = np.array([[0, 4, 4], [2, 0, 4], [4, 4, 1], [3, 0, 0]])  # (steps, batch)
    if batch_first:
        ids = ids.T
    results = []
    for x in (ids, rg.one_hot(ids, 5, dtype=F64)):
        module.zero_grad()
        out, final = module(x)
        h_n = final[0] if kind == "lstm" else final
        ((out * out).sum() + (h_n * h_n * 0.5).sum()).backward()
        results.append((out.data, h_n.data, [p.grad.copy() for p in module.parameters()]))
    (out_i, h_i, grads_i), (out_o, h_o, grads_o) = results
    np.testing.assert_array_equal(out_i, out_o)
    np.testing.assert_array_equal(h_i, h_o)
    for name, g_i, g_o in zip(dict(module.named_parameters()), grads_i, grads_o):
        np.testing.assert_allclose(g_i, g_o, rtol=1e-12, atol=1e-15, err_msg=name)
    assert "one_hot_linear" not in {node.op.name for node in topological_order([out])}
    module.zero_grad()
    out, _ = module(ids)
    assert "one_hot_linear" in {node.op.name for node in topological_order([out])}


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_recurrent_integer_input_gradcheck_float64(kind):
    module = MODULES[kind](4, 3, generator=1, dtype=F64)
    names, params = zip(*module.named_parameters())
    ids = np.array([[0, 3], [3, 3], [1, 0]])

    def fn(*weights):
        return nn.functional_call(module, dict(zip(names, weights)), ids)[0]

    assert gradcheck(fn, list(params))


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_cell_equals_one_step_of_the_module(kind):
    cell = CELLS[kind](3, 4, generator=0, dtype=F64)
    module = MODULES[kind](3, 4, generator=9, dtype=F64)
    module.load_state_dict({f"{n}_l0": v for n, v in cell.state_dict().items()})
    x, h0, c0 = random_inputs(kind, 1, 2, 3, 4, 1)
    out, h_n, c_n = run(module, rg.tensor(x), rg.tensor(h0), None if c0 is None else rg.tensor(c0))
    state = (rg.tensor(h0[0]), rg.tensor(c0[0])) if kind == "lstm" else rg.tensor(h0[0])
    result = cell(rg.tensor(x[0]), state)
    h = result[0] if kind == "lstm" else result
    np.testing.assert_allclose(h.data, out.data[0], rtol=1e-12)
    np.testing.assert_allclose(h.data, h_n.data[0], rtol=1e-12)
    if kind == "lstm":
        np.testing.assert_allclose(result[1].data, c_n.data[0], rtol=1e-12)


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_cell_gradcheck_float64(kind):
    cell = CELLS[kind](3, 4, generator=0, dtype=F64)
    rng = np.random.default_rng(1)
    x = rg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    h = rg.tensor(rng.standard_normal((2, 4)) * 0.5, requires_grad=True)
    c = rg.tensor(rng.standard_normal((2, 4)) * 0.5, requires_grad=True)
    names, params = zip(*cell.named_parameters())

    def fn(x, h, c, *weights):
        state = (h, c) if kind == "lstm" else h
        result = nn.functional_call(cell, dict(zip(names, weights)), x, state)
        return rg.stack(list(result)) if kind == "lstm" else result

    inputs = [x, h, c, *params] if kind == "lstm" else [x, h, rg.tensor(c.data), *params]
    assert gradcheck(fn, inputs)


def module_gradcheck(kind, steps, batch, size, hidden, layers, seed, **options):
    """gradcheck of outputs and final state with respect to x, h0 (c0) and every parameter."""
    module = MODULES[kind](size, hidden, num_layers=layers, generator=seed, dtype=F64, **options)
    x, h0, c0 = random_inputs(kind, steps, batch, size, hidden, layers, seed)
    if options.get("batch_first"):
        x = x.transpose(1, 0, 2)
    names, params = zip(*module.named_parameters())
    out_shape = (x.shape[0], x.shape[1], hidden)
    weights = rg.tensor(np.random.default_rng(seed + 1).standard_normal(out_shape))

    def fn(x, h0, c0, *values):
        state = (h0, c0) if kind == "lstm" else h0
        out, final = nn.functional_call(module, dict(zip(names, values)), x, state)
        h_n, c_n = final if kind == "lstm" else (final, None)
        total = (out * weights).sum() + (h_n * h_n).sum()
        return total if c_n is None else total + (c_n * c_n).sum()

    c0_input = rg.tensor(c0, requires_grad=True) if kind == "lstm" else rg.tensor(np.zeros(1))
    inputs = [rg.tensor(x, requires_grad=True), rg.tensor(h0, requires_grad=True), c0_input]
    return gradcheck(fn, [*inputs, *params])


@pytest.mark.parametrize("kind", sorted(MODULES))
@pytest.mark.parametrize("layers", [1, 2])
def test_recurrent_gradcheck_float64(kind, layers):
    assert module_gradcheck(kind, 3, 2, 3, 3, layers, seed=0)


def test_recurrent_gradcheck_batch_first_and_no_bias():
    assert module_gradcheck("gru", 3, 2, 2, 3, 2, seed=1, batch_first=True, bias=False)
    assert module_gradcheck("lstm", 2, 2, 2, 2, 1, seed=2, bias=False)


@settings(max_examples=6)
@given(
    kind=st.sampled_from(sorted(MODULES)),
    sizes=st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    layers=st.integers(1, 2),
    seed=st.integers(0, 1000),
)
def test_recurrent_gradients_over_sizes(kind, sizes, layers, seed):
    steps, batch, size, hidden = sizes
    assert module_gradcheck(kind, steps, batch, size, hidden, layers, seed)


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_recurrent_gradients_reach_inputs_and_initial_state(kind):
    module = MODULES[kind](3, 4, num_layers=2, generator=0)
    x = rg.randn(5, 2, 3, generator=1, requires_grad=True)
    h0 = rg.randn(2, 2, 4, generator=2, requires_grad=True)
    c0 = rg.randn(2, 2, 4, generator=3, requires_grad=True)
    out, _ = module(x, (h0, c0) if kind == "lstm" else h0)
    out[-1].sum().backward()
    for t in (x, h0, c0) if kind == "lstm" else (x, h0):
        assert t.grad is not None and t.grad.shape == t.shape and t.grad.dtype == np.float32
        assert np.abs(t.grad).sum() > 0
    assert all(p.grad is not None for p in module.parameters())


def op_scopes(root):
    return [(node.op.name, node.scope) for node in topological_order([root])]


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_recurrent_steps_are_recorded_under_time_scopes(kind):
    module = MODULES[kind](3, 4, generator=0)
    out, _ = module(rg.randn(4, 2, 3, generator=0, requires_grad=True))
    scopes = {scope for _, scope in op_scopes(out.sum())}
    assert {"t=0", "t=1", "t=2", "t=3"} <= scopes
    stacked, _ = MODULES[kind](3, 4, num_layers=2, generator=0)(rg.randn(3, 2, 3, generator=0))
    scopes = {scope for _, scope in op_scopes(stacked.sum())}
    assert {"layer0/t=0", "layer0/t=2", "layer1/t=0", "layer1/t=2"} <= scopes
    with rg.autograd.scope("model"):
        out, _ = module(rg.randn(2, 1, 3, generator=0))
    assert "model/t=1" in {scope for _, scope in op_scopes(out)}


@pytest.mark.parametrize(("kind", "per_step"), [("rnn", 1), ("lstm", 11), ("gru", 11)])
def test_recurrent_graph_grows_linearly_without_per_step_slicing(kind, per_step):
    module = MODULES[kind](3, 4, generator=0)
    sizes = []
    for steps in (5, 10, 20):
        out, _ = module(rg.randn(steps, 2, 3, generator=0, requires_grad=True))
        ops = [name for name, _ in op_scopes(out.sum())]
        assert "getitem" not in ops
        assert ops.count("linear") == steps + 1  # one hoisted projection, one per step
        assert ops.count("stack") == 1
        sizes.append(len(ops))
    assert sizes[1] - sizes[0] == 5 * per_step and sizes[2] - sizes[1] == 10 * per_step


def test_recurrent_retain_hidden_grads_keeps_every_step():
    module = nn.RNN(3, 4, num_layers=2, retain_hidden_grads=True, generator=0, dtype=F64)
    out, _ = module(rg.tensor(np.random.default_rng(0).standard_normal((3, 2, 3))))
    out.sum().backward()
    assert [len(layer) for layer in module.hidden_states] == [3, 3]
    last_layer = module.hidden_states[1]
    np.testing.assert_array_equal(last_layer[-1].grad, np.ones((2, 4)))
    assert all(h.grad is not None for layer in module.hidden_states for h in layer)
    assert last_layer[0].name == "h_l1[t=0]"
    plain = nn.RNN(3, 4, generator=0)
    plain(rg.randn(3, 2, 3, generator=0))
    assert plain.hidden_states == []


def test_recurrent_input_and_state_errors_are_clear():
    rnn = nn.RNN(3, 4, num_layers=2, generator=0)
    with pytest.raises(ShapeError, match=r"input must be \(steps, batch, features\), or unb"):
        rnn(rg.randn(3, generator=0))
    with pytest.raises(ShapeError, match=r"with 3 features, got \(5, 2, 4\)"):
        rnn(rg.randn(5, 2, 4, generator=0))
    with pytest.raises(ShapeError, match=r"h0 must have shape \(2, 2, 4\), got \(1, 2, 4\)"):
        rnn(rg.randn(5, 2, 3, generator=0), rg.zeros(1, 2, 4))
    with pytest.raises(TypeError, match="one tensor h0, not a pair"):
        rnn(rg.randn(5, 2, 3, generator=0), (rg.zeros(2, 2, 4), rg.zeros(2, 2, 4)))
    with pytest.raises(TypeError, match="input dtype float64 does not match"):
        rnn(rg.tensor(np.zeros((5, 2, 3))))
    with pytest.raises(TypeError, match="pair"):
        nn.LSTM(3, 4, generator=0)(rg.randn(5, 2, 3, generator=0), rg.zeros(1, 2, 4))
    with pytest.raises(ShapeError, match=r"c0 must have shape"):
        nn.LSTM(3, 4, generator=0)(rg.randn(2, 2, 3, generator=0), (rg.zeros(1, 2, 4), rg.zeros(2)))
    with pytest.raises(ShapeError, match=r"\(batch, steps, features\)"):
        nn.GRU(3, 4, batch_first=True, generator=0)(rg.zeros(2, 0, 3))
    with pytest.raises(ShapeError, match=r"integer input must be \(steps, batch\) class indices"):
        rnn(np.zeros((5, 2, 3), dtype=np.int64))
    with pytest.raises(IndexError, match="one_hot_linear: index 3 is out of range for 3 classes"):
        rnn(np.array([[0, 3]]))
    with pytest.raises(ShapeError, match=r"input \(batch, steps\) must have at least one step"):
        nn.RNN(3, 4, batch_first=True, generator=0)(np.zeros((2, 0), dtype=np.int64))
    with pytest.raises(ValueError, match="nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="num_layers must be a positive integer"):
        nn.GRU(3, 4, num_layers=0)
    with pytest.raises(ShapeError, match=r"GRUCell: input must be \(batch, 3\)"):
        nn.GRUCell(3, 4, generator=0)(rg.zeros(1, 1, 3))


def test_recurrent_repr_and_no_bias_names():
    assert repr(nn.LSTM(3, 4, num_layers=2, batch_first=True, generator=0)) == (
        "LSTM(3, 4, num_layers=2, batch_first=True)"
    )
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu", generator=0)) == (
        "RNNCell(3, 4, nonlinearity='relu')"
    )
    gru = nn.GRU(3, 4, bias=False, generator=0)
    assert [n for n, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    assert gru.bias_ih_l0 is None
