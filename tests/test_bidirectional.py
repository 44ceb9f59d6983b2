"""Bidirectional RNN, LSTM and GRU: outputs, final states, gradients and state dicts as torch's.

The comparisons with torch skip where it is not installed (CI installs it).
"""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import topological_order
from retrograd.autograd.graph import ShapeError

# name -> (module class name, extra constructor arguments)
KINDS = {
    "rnn_tanh": ("RNN", {}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu"}),
    "lstm": ("LSTM", {}),
    "gru": ("GRU", {}),
}
STEPS, BATCH, FEATURES, HIDDEN = 5, 3, 4, 6


def twins(torch, kind, layers, batch_first=False, dropout=0.0):
    """A float64 bidirectional module of ours and torch's with the same weights."""
    name, extra = KINDS[kind]
    options = dict(num_layers=layers, batch_first=batch_first, dropout=dropout, **extra)
    ours = getattr(nn, name)(
        FEATURES, HIDDEN, bidirectional=True, generator=7, dtype=np.float64, **options
    )
    theirs = getattr(torch.nn, name)(FEATURES, HIDDEN, bidirectional=True, **options).double()
    theirs.load_state_dict(nn.to_torch_state_dict(ours))
    return ours, theirs


def assert_close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-10)


def run_both(torch, ours, theirs, kind, layers, batch_first, with_h0):
    """Run both modules on the same input (and initial state); return for each side the
    loss's parts (outputs, h_n, c_n or None) and the tensors whose gradients to compare."""
    rng = np.random.default_rng(3)
    shape = (BATCH, STEPS, FEATURES) if batch_first else (STEPS, BATCH, FEATURES)
    arrays = [rng.standard_normal(shape)]
    if with_h0:
        states = 2 if kind == "lstm" else 1
        arrays += [rng.standard_normal((2 * layers, BATCH, HIDDEN)) * 0.5 for _ in range(states)]
    sides = []
    for module, make in ((ours, rg.tensor), (theirs, torch.tensor)):
        inputs = [make(a, requires_grad=True) for a in arrays]
        state = None
        if with_h0:
            state = tuple(inputs[1:]) if kind == "lstm" else inputs[1]
        out, final = module(inputs[0], state)
        h_n, c_n = final if kind == "lstm" else (final, None)
        sides.append(((out, h_n, c_n), inputs))
    return sides


def weighted_loss(parts, make):
    """A sum over every output and final state with fixed weights, so each element counts."""
    rng = np.random.default_rng(5)
    total = 0
    for part in parts:
        if part is not None:
            total = total + (part * make(rng.standard_normal(tuple(part.shape)))).sum()
    return total


@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_bidirectional_matches_torch_outputs_states_and_gradients(
    kind, layers, batch_first, with_h0
):
    torch = pytest.importorskip("torch")
    ours, theirs = twins(torch, kind, layers, batch_first)
    (our_parts, our_inputs), (their_parts, their_inputs) = run_both(
        torch, ours, theirs, kind, layers, batch_first, with_h0
    )
    out = our_parts[0]
    assert out.shape == ((BATCH, STEPS) if batch_first else (STEPS, BATCH)) + (2 * HIDDEN,)
    assert our_parts[1].shape == (2 * layers, BATCH, HIDDEN)
    for mine, theirs_part in zip(our_parts, their_parts):
        if mine is not None:
            assert_close(mine.data, theirs_part)
    weighted_loss(our_parts, rg.tensor).backward()
    weighted_loss(their_parts, torch.tensor).backward()
    for mine, theirs_input in zip(our_inputs, their_inputs):
        assert_close(mine.grad, theirs_input.grad)
    their_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        assert_close(param.grad, their_params[name].grad)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_bidirectional_parameters_are_named_and_ordered_as_torchs(kind, layers):
    torch = pytest.importorskip("torch")
    ours, theirs = twins(torch, kind, layers)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [(n, p.shape) for n, p in ours.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in theirs.named_parameters()
    ]
    assert "weight_ih_l0_reverse" in ours.state_dict()
    if layers == 2:
        assert (
            ours.weight_ih_l1.shape
            == ours.weight_ih_l1_reverse.shape
            == (
                ours.weight_hh_l1.shape[0],
                2 * HIDDEN,
            )
        )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_bidirectional_state_dict_round_trip_with_torch_both_ways(kind):
    torch = pytest.importorskip("torch")
    name, extra = KINDS[kind]
    x = np.random.default_rng(2).standard_normal((STEPS, BATCH, FEATURES))
    theirs = getattr(torch.nn, name)(
        FEATURES, HIDDEN, num_layers=2, bidirectional=True, **extra
    ).double()
    ours = getattr(nn, name)(
        FEATURES, HIDDEN, num_layers=2, bidirectional=True, dtype=np.float64, **extra
    )
    ours.load_state_dict(nn.from_torch_state_dict(theirs))
    assert_close(ours(rg.tensor(x))[0].data, theirs(torch.tensor(x))[0])

    back = getattr(torch.nn, name)(
        FEATURES, HIDDEN, num_layers=2, bidirectional=True, **extra
    ).double()
    back.load_state_dict(nn.to_torch_state_dict(ours))
    for key, value in back.state_dict().items():
        assert torch.equal(value, theirs.state_dict()[key])


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_bidirectional_dropout_acts_on_both_directions_between_layers(kind):
    torch = pytest.importorskip("torch")
    ours, theirs = twins(torch, kind, 2, dropout=1.0)
    x = np.random.default_rng(4).standard_normal((STEPS, BATCH, FEATURES))
    # Eval mode: no dropout, as torch's.
    ours.eval()
    theirs.eval()
    assert_close(ours(rg.tensor(x))[0].data, theirs(torch.tensor(x))[0])
    # Training with p=1: layer 1 sees zeros in all 2H features, as torch's does.
    ours.train()
    theirs.train()
    assert_close(ours(rg.tensor(x))[0].data, theirs(torch.tensor(x))[0])


def test_bidirectional_wrong_initial_state_names_the_expected_shape():
    lstm = nn.LSTM(FEATURES, HIDDEN, num_layers=2, bidirectional=True, generator=0)
    x = rg.zeros(STEPS, BATCH, FEATURES)
    good = rg.zeros(4, BATCH, HIDDEN)
    expected = (
        r"LSTM: h0 must have shape \(4, 3, 6\), got \(2, 3, 6\): \(num_layers \* "
        r"num_directions, batch, hidden_size\) with num_layers=2, num_directions=2, "
        r"hidden_size=6"
    )
    with pytest.raises(ShapeError, match=expected):
        lstm(x, (rg.zeros(2, BATCH, HIDDEN), good))
    with pytest.raises(ShapeError, match=r"c0 must have shape \(4, 3, 6\), got \(4, 2, 6\)"):
        lstm(x, (good, rg.zeros(4, 2, HIDDEN)))
    gru = nn.GRU(FEATURES, HIDDEN, bidirectional=True, generator=0)
    with pytest.raises(ShapeError, match=r"GRU: h0 must have shape \(2, 3, 6\), got \(1, 3, 6\)"):
        gru(x, rg.zeros(1, BATCH, HIDDEN))


def test_bidirectional_retained_states_are_in_time_order():
    rnn = nn.RNN(
        FEATURES,
        HIDDEN,
        num_layers=2,
        bidirectional=True,
        retain_hidden_grads=True,
        generator=0,
        dtype=np.float64,
    )
    x = rg.randn(STEPS, BATCH, FEATURES, generator=1, dtype=np.float64)
    out, h_n = rnn(x)
    weights = np.random.default_rng(0).standard_normal(out.shape)
    (out * rg.tensor(weights)).sum().backward()
    names = [[h.name for h in states] for states in rnn.hidden_states]
    assert [row[0] for row in names] == [
        "h_l0[t=0]",
        "h_l0_reverse[t=0]",
        "h_l1[t=0]",
        "h_l1_reverse[t=0]",
    ]
    forward, reverse = rnn.hidden_states[2:]
    for t in range(STEPS):
        np.testing.assert_array_equal(forward[t].data, out.data[t, :, :HIDDEN])
        np.testing.assert_array_equal(reverse[t].data, out.data[t, :, HIDDEN:])
    # The reverse direction ends at t=0: only the output there depends on that state.
    np.testing.assert_array_equal(reverse[0].data, h_n.data[3])
    np.testing.assert_allclose(reverse[0].grad, weights[0, :, HIDDEN:], rtol=1e-12)
    np.testing.assert_allclose(forward[-1].grad, weights[-1, :, :HIDDEN], rtol=1e-12)


def test_bidirectional_reverse_steps_are_recorded_under_their_scope():
    gru = nn.GRU(FEATURES, HIDDEN, num_layers=2, bidirectional=True, generator=0)
    out, _ = gru(rg.randn(STEPS, BATCH, FEATURES, generator=1))
    scopes = {node.scope for node in topological_order([out.sum()])}
    assert {"layer0/t=0", "layer0/reverse/t=4", "layer1/reverse/t=0"} <= scopes


def test_bidirectional_integer_input_is_its_one_hot_vectors():
    ids = np.array([[0, 3], [2, 1], [3, 3]])
    gru = nn.GRU(FEATURES, HIDDEN, bidirectional=True, generator=0, dtype=np.float64)
    from_ids, h_ids = gru(ids)
    from_rows, h_rows = gru(np.eye(FEATURES)[ids])
    np.testing.assert_allclose(from_ids.data, from_rows.data, rtol=1e-12)
    np.testing.assert_allclose(h_ids.data, h_rows.data, rtol=1e-12)


def test_bidirectional_repr_and_flag():
    lstm = nn.LSTM(FEATURES, HIDDEN, bidirectional=True, generator=0)
    assert repr(lstm) == "LSTM(4, 6, bidirectional=True)"
    assert lstm.num_directions == 2 and nn.GRU(FEATURES, HIDDEN).num_directions == 1
    with pytest.raises(TypeError, match="GRU: bidirectional must be True or False, got 'yes'"):
        nn.GRU(FEATURES, HIDDEN, bidirectional="yes")
