"""Unbatched inputs, taken as PyTorch takes them: a recurrent layer's (T, D) input with a
(num_layers * D, H) state, a cell's (D,) input with an (H,) state, and a class loss's (C,)
scores with a 0-d target (or (C,) class probabilities). Each runs as a batch of one and
gives PyTorch's values, shapes and gradients; a state whose batchedness does not match
the input's is refused, naming it."""

import re
import shutil
import subprocess

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import ShapeError, to_dot
from retrograd.nn import functional as F

F64 = np.float64
TOL = {"rtol": 1e-10, "atol": 1e-10}
STEPS, FEATURES, HIDDEN = 5, 3, 4
RECURRENT = ["RNN", "LSTM", "GRU"]
CELLS = ["RNNCell", "LSTMCell", "GRUCell"]
TIMES = [f"t={t}" for t in range(STEPS)]


def _array(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _pair(torch, state):
    """Our state (a tensor or an LSTM pair) as torch tensors that require grad."""
    parts = state if isinstance(state, tuple) else (state,)
    theirs = tuple(torch.tensor(p, requires_grad=True) for p in parts)
    return theirs if isinstance(state, tuple) else theirs[0]


def _ours(state):
    """Our state (arrays) as tensors that require grad."""
    if isinstance(state, tuple):
        return tuple(rg.tensor(p, requires_grad=True) for p in state)
    return rg.tensor(state, requires_grad=True)


def _leaves(state):
    return state if isinstance(state, tuple) else (state,)


def _assert_state(ours, theirs):
    for mine, its in zip(_leaves(ours), _leaves(theirs)):
        assert mine.shape == tuple(its.shape)
        np.testing.assert_allclose(mine.data, its.detach().numpy(), **TOL)


def _assert_parameter_grads(ours, theirs):
    mine = dict(ours.named_parameters())
    for name, param in theirs.named_parameters():
        np.testing.assert_allclose(mine[name].grad, param.grad.numpy(), **TOL)


def _recurrent_pair(torch, kind, **options):
    ours = getattr(nn, kind)(FEATURES, HIDDEN, generator=0, dtype=F64, **options)
    theirs = getattr(torch.nn, kind)(FEATURES, HIDDEN, **options).double()
    theirs.load_state_dict(nn.to_torch_state_dict(ours))
    return ours, theirs


def _initial_state(kind, count, seed=1):
    h0 = _array(count, HIDDEN, seed=seed)
    return (h0, _array(count, HIDDEN, seed=seed + 1)) if kind == "LSTM" else h0


@pytest.mark.parametrize("kind", RECURRENT)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("given_state", [False, True])
def test_recurrent_unbatched_input_matches_torch(kind, batch_first, bidirectional, given_state):
    torch = pytest.importorskip("torch")
    options = {"num_layers": 2, "batch_first": batch_first, "bidirectional": bidirectional}
    ours, theirs = _recurrent_pair(torch, kind, **options)
    x = _array(STEPS, FEATURES)
    count = 2 * (2 if bidirectional else 1)
    state = _initial_state(kind, count) if given_state else None
    x_ours = rg.tensor(x, requires_grad=True)
    x_theirs = torch.tensor(x, requires_grad=True)
    state_ours = _ours(state) if given_state else None
    state_theirs = _pair(torch, state) if given_state else None
    out, final = ours(x_ours, state_ours)
    out_t, final_t = theirs(x_theirs, state_theirs)
    assert out.shape == tuple(out_t.shape) == (STEPS, HIDDEN * (2 if bidirectional else 1))
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), **TOL)
    _assert_state(final, final_t)
    weights = _array(*out.shape, seed=5)
    loss = (out * rg.tensor(weights)).sum() + sum((s * s).sum() for s in _leaves(final))
    loss_t = (out_t * torch.tensor(weights)).sum() + sum((s * s).sum() for s in _leaves(final_t))
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), **TOL)
    if given_state:
        for mine, its in zip(_leaves(state_ours), _leaves(state_theirs)):
            np.testing.assert_allclose(mine.grad, its.grad.numpy(), **TOL)
    for name, param in theirs.named_parameters():
        np.testing.assert_allclose(
            dict(ours.named_parameters())[name].grad, param.grad.numpy(), **TOL
        )


@pytest.mark.parametrize("kind", RECURRENT)
def test_recurrent_unbatched_integer_indices_are_one_hot_rows(kind):
    module = getattr(nn, kind)(FEATURES, HIDDEN, num_layers=2, generator=0, dtype=F64)
    indices = np.array([2, 0, 1, 1])
    out, final = module(indices)
    out_hot, final_hot = module(np.eye(FEATURES)[indices])
    assert out.shape == (4, HIDDEN)
    np.testing.assert_allclose(out.data, out_hot.data, **TOL)
    for mine, hot in zip(_leaves(final), _leaves(final_hot)):
        assert mine.shape == (2, HIDDEN)
        np.testing.assert_allclose(mine.data, hot.data, **TOL)


def test_recurrent_unbatched_input_refuses_a_batched_state_naming_both():
    torch = pytest.importorskip("torch")
    rnn = nn.RNN(FEATURES, HIDDEN, num_layers=2, generator=0)
    x = rg.randn(STEPS, FEATURES, generator=0)
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D"):
        torch.nn.RNN(FEATURES, HIDDEN, 2)(torch.zeros(STEPS, FEATURES), torch.zeros(2, 1, HIDDEN))
    expected = (
        r"RNN: h0 must have shape \(2, 4\), got \(2, 1, 4\): \(num_layers \* num_directions, "
        r"hidden_size\) with num_layers=2, num_directions=1, hidden_size=4, as the input is "
        r"unbatched"
    )
    with pytest.raises(ShapeError, match=expected):
        rnn(x, rg.zeros(2, 1, HIDDEN))
    lstm = nn.LSTM(FEATURES, HIDDEN, generator=0)
    with pytest.raises(ShapeError, match=r"LSTM: c0 must have shape \(1, 4\), got \(1, 1, 4\)"):
        lstm(x, (rg.zeros(1, HIDDEN), rg.zeros(1, 1, HIDDEN)))


def test_recurrent_batched_input_refuses_an_unbatched_state_naming_both():
    gru = nn.GRU(FEATURES, HIDDEN, generator=0)
    with pytest.raises(
        ShapeError, match=r"h0 must have shape \(1, 2, 4\), got \(1, 4\): .*batched"
    ):
        gru(rg.randn(STEPS, 2, FEATURES, generator=0), rg.zeros(1, HIDDEN))


def test_recurrent_input_of_neither_form_is_named():
    rnn = nn.RNN(FEATURES, HIDDEN, batch_first=True, generator=0)
    form = r"input must be \(batch, steps, features\), or unbatched \(steps, features\)"
    for bad in (rg.zeros(FEATURES), rg.zeros(1, 2, 3, FEATURES), rg.zeros(STEPS, FEATURES + 1)):
        with pytest.raises(ShapeError, match=rf"RNN: {form}, with 3 features, got"):
            rnn(bad)
    with pytest.raises(ShapeError, match=r"unbatched input \(steps, features\) must have at least"):
        rnn(rg.zeros(0, FEATURES))
    with pytest.raises(ShapeError, match=r"unbatched \(steps,\) ones .*got shape \(\)"):
        rnn(np.int64(1))
    with pytest.raises(ShapeError, match=r"unbatched input \(steps,\) must have at least one step"):
        rnn(np.zeros(0, dtype=np.int64))


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("given_state", [False, True])
def test_cell_unbatched_input_matches_torch(kind, given_state):
    torch = pytest.importorskip("torch")
    options = {"nonlinearity": "relu"} if kind == "RNNCell" else {}
    ours = getattr(nn, kind)(FEATURES, HIDDEN, generator=0, dtype=F64, **options)
    theirs = getattr(torch.nn, kind)(FEATURES, HIDDEN, **options).double()
    theirs.load_state_dict(nn.to_torch_state_dict(ours))
    state = None
    if given_state:
        h = _array(HIDDEN, seed=1)
        state = (h, _array(HIDDEN, seed=2)) if kind == "LSTMCell" else h
    x = _array(FEATURES)
    x_ours, x_theirs = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    state_ours = _ours(state) if given_state else None
    state_theirs = _pair(torch, state) if given_state else None
    out = ours(x_ours, state_ours)
    out_t = theirs(x_theirs, state_theirs)
    _assert_state(out, out_t)
    assert all(part.shape == (HIDDEN,) for part in _leaves(out))
    weights = _array(HIDDEN, seed=5)
    sum(((s * rg.tensor(weights)).sum() for s in _leaves(out)), rg.tensor(0.0)).backward()
    sum((s * torch.tensor(weights)).sum() for s in _leaves(out_t)).backward()
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), **TOL)
    if given_state:
        for mine, its in zip(_leaves(state_ours), _leaves(state_theirs)):
            np.testing.assert_allclose(mine.grad, its.grad.numpy(), **TOL)
    for name, param in theirs.named_parameters():
        np.testing.assert_allclose(
            dict(ours.named_parameters())[name].grad, param.grad.numpy(), **TOL
        )


def test_cell_refuses_a_state_whose_batchedness_differs_from_the_input():
    cell = nn.GRUCell(FEATURES, HIDDEN, generator=0)
    with pytest.raises(ShapeError, match=r"GRUCell: h must have shape \(4,\), got \(1, 4\): .*unb"):
        cell(rg.zeros(FEATURES), rg.zeros(1, HIDDEN))
    with pytest.raises(ShapeError, match=r"h must have shape \(1, 4\), got \(4,\): .* batched"):
        cell(rg.zeros(1, FEATURES), rg.zeros(HIDDEN))
    lstm = nn.LSTMCell(FEATURES, HIDDEN, generator=0)
    with pytest.raises(ShapeError, match=r"LSTMCell: c must have shape \(4,\), got \(1, 4\)"):
        lstm(rg.zeros(FEATURES), (rg.zeros(HIDDEN), rg.zeros(1, HIDDEN)))
    with pytest.raises(ShapeError, match=r"input must be \(batch, 3\) or unbatched \(3,\), got"):
        cell(rg.zeros(FEATURES + 1))


LOSS_OPTIONS = [
    {},
    {"weight": [1.0, 2.0, 0.5, 3.0]},
    {"label_smoothing": 0.2},
    {"weight": [1.0, 2.0, 0.5, 3.0], "label_smoothing": 0.1},
    {"ignore_index": 0},
]


def _torch_options(torch, options):
    converted = dict(options)
    if "weight" in options:
        converted["weight"] = torch.tensor(options["weight"], dtype=torch.float64)
    return converted


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("options", LOSS_OPTIONS)
@pytest.mark.parametrize("use_module", [False, True])
def test_cross_entropy_unbatched_class_target_matches_torch(reduction, options, use_module):
    torch = pytest.importorskip("torch")
    logits = _array(4)
    ours_in, theirs_in = rg.tensor(logits, requires_grad=True), torch.tensor(logits)
    theirs_in.requires_grad_(True)
    if use_module:
        loss = nn.CrossEntropyLoss(reduction=reduction, **options)(ours_in, np.int64(2))
    else:
        loss = F.cross_entropy(ours_in, 2, reduction=reduction, **options)
    expected = torch.nn.functional.cross_entropy(
        theirs_in, torch.tensor(2), reduction=reduction, **_torch_options(torch, options)
    )
    assert loss.shape == tuple(expected.shape) == ()
    np.testing.assert_allclose(loss.data, expected.detach().numpy(), **TOL)
    loss.backward()
    expected.backward()
    np.testing.assert_allclose(ours_in.grad, theirs_in.grad.numpy(), **TOL)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("options", [opt for opt in LOSS_OPTIONS if "label_smoothing" not in opt])
@pytest.mark.parametrize("use_module", [False, True])
def test_nll_loss_unbatched_input_matches_torch(reduction, options, use_module):
    torch = pytest.importorskip("torch")
    log_probs = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    ours_in, theirs_in = rg.tensor(log_probs, requires_grad=True), torch.tensor(log_probs)
    theirs_in.requires_grad_(True)
    target = rg.tensor(np.int64(3))
    if use_module:
        loss = nn.NLLLoss(reduction=reduction, **options)(ours_in, target)
    else:
        loss = F.nll_loss(ours_in, target, reduction=reduction, **options)
    expected = torch.nn.functional.nll_loss(
        theirs_in, torch.tensor(3), reduction=reduction, **_torch_options(torch, options)
    )
    assert loss.shape == tuple(expected.shape) == ()
    np.testing.assert_allclose(loss.data, expected.detach().numpy(), **TOL)
    loss.backward()
    expected.backward()
    np.testing.assert_allclose(ours_in.grad, theirs_in.grad.numpy(), **TOL)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("options", [opt for opt in LOSS_OPTIONS if "ignore_index" not in opt])
def test_cross_entropy_unbatched_probability_target_matches_torch(reduction, options):
    torch = pytest.importorskip("torch")
    logits, probs = _array(4), np.array([0.1, 0.6, 0.0, 0.3])
    ours_in, ours_target = rg.tensor(logits, requires_grad=True), rg.tensor(probs)
    ours_target.requires_grad = True
    theirs_in = torch.tensor(logits, requires_grad=True)
    theirs_target = torch.tensor(probs, requires_grad=True)
    loss = nn.CrossEntropyLoss(reduction=reduction, **options)(ours_in, ours_target)
    expected = torch.nn.functional.cross_entropy(
        theirs_in, theirs_target, reduction=reduction, **_torch_options(torch, options)
    )
    assert loss.shape == tuple(expected.shape) == ()
    np.testing.assert_allclose(loss.data, expected.detach().numpy(), **TOL)
    loss.backward()
    expected.backward()
    np.testing.assert_allclose(ours_in.grad, theirs_in.grad.numpy(), **TOL)
    np.testing.assert_allclose(ours_target.grad, theirs_target.grad.numpy(), **TOL)


def test_unbatched_class_losses_refuse_a_target_of_another_shape():
    logits = rg.tensor(_array(4))
    forms = (
        r"cross_entropy\(\): target must be integers \(class indices\) of shape \(\), or floats "
        r"\(class probabilities\) of shape \(4,\) like the logits; got dtype {} and shape {}"
    )
    with pytest.raises(ShapeError, match=forms.format("int64", r"\(1,\)")):
        F.cross_entropy(logits, [1])
    with pytest.raises(TypeError, match=forms.format("float64", r"\(\)")):
        F.cross_entropy(logits, 1.0)
    with pytest.raises(ShapeError, match=forms.format("float64", r"\(1, 4\)")):
        F.cross_entropy(logits, np.full((1, 4), 0.25))
    with pytest.raises(ShapeError, match=r"input of shape \(4,\) needs target of shape \(\)"):
        F.nll_loss(logits, [1])
    with pytest.raises(ShapeError, match=r"or unbatched \(C,\), got shape \(\)"):
        F.nll_loss(rg.tensor(1.0), 0)


def test_unbatched_rnn_is_drawn_with_one_cluster_per_layer_step():
    module = nn.GRU(FEATURES, HIDDEN, num_layers=2, retain_hidden_grads=True, generator=0)
    out, _ = module(rg.randn(STEPS, FEATURES, generator=1))
    loss = (out * out).sum()
    loss.backward()
    source = to_dot(loss).source
    titles = re.findall(r'^\s*label="(layer\d|t=\d+)(?:\\n|")', source, re.M)
    assert titles == [name for k in (0, 1) for name in (f"layer{k}", *TIMES)]
    assert all(f"h_l{k}[t={t}]" in source for k in (0, 1) for t in range(STEPS))
    if shutil.which("dot") is not None:
        drawn = subprocess.run(["dot", "-Tsvg"], input=source, text=True, capture_output=True)
        assert drawn.returncode == 0 and drawn.stdout.count('class="cluster"') >= 2 * STEPS + 2
