"""retrograd.nn's API against torch.nn's: buffers and tuples of dicts in `functional_call`,
`Sequential * n`, the argument names in the errors of Flatten, Softmax and LogSoftmax, and
the positional arguments of RNN, LSTM and GRU."""

from collections import OrderedDict

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

F64 = np.float64


class _Scaled(nn.Module):
    """A linear layer whose output is multiplied by the buffer `scale`."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2, generator=0, dtype=F64)
        self.register_buffer("scale", rg.tensor(np.array([2.0, -1.0])))

    def forward(self, x):
        return self.linear(x) * self.scale


def _torch_scaled(torch, ours):
    theirs = torch.nn.Module()
    theirs.linear = torch.nn.Linear(3, 2).double()
    theirs.linear.load_state_dict({k: torch.tensor(v) for k, v in ours.linear.state_dict().items()})
    theirs.register_buffer("scale", torch.tensor(ours.scale.data))
    theirs.forward = lambda x: theirs.linear(x) * theirs.scale
    return theirs


# ----- functional_call -----
def test_functional_call_swaps_a_buffer_as_torch():
    torch = pytest.importorskip("torch")
    logits = np.random.default_rng(0).standard_normal((4, 3))
    target = np.array([0, 2, 1, 2])
    ours = nn.CrossEntropyLoss(weight=np.ones(3))
    original = ours.weight
    weight = rg.tensor(np.array([0.5, 1.0, 3.0]))
    out = nn.functional_call(ours, {"weight": weight}, rg.tensor(logits), target)
    theirs = torch.nn.CrossEntropyLoss(weight=torch.ones(3, dtype=torch.float64))
    out_t = torch.func.functional_call(
        theirs, {"weight": torch.tensor(weight.data)}, (torch.tensor(logits), torch.tensor(target))
    )
    assert out.item() == pytest.approx(out_t.item(), abs=1e-12)
    assert out.item() != pytest.approx(ours(rg.tensor(logits), target).item())
    assert ours.weight is original


def test_functional_call_takes_a_tuple_of_dicts_as_torch():
    torch = pytest.importorskip("torch")
    ours = _Scaled()
    theirs = _torch_scaled(torch, ours)
    x = np.random.default_rng(1).standard_normal((4, 3))
    weight = np.random.default_rng(2).standard_normal((2, 3))
    scale = np.array([0.5, 4.0])
    out = nn.functional_call(
        ours, ({"linear.weight": rg.tensor(weight)}, {"scale": rg.tensor(scale)}), rg.tensor(x)
    )
    out_t = torch.func.functional_call(
        theirs,
        [{"linear.weight": torch.tensor(weight)}, {"scale": torch.tensor(scale)}],
        (torch.tensor(x),),
    )
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ours.scale.data, [2.0, -1.0])


def test_functional_call_refuses_a_name_in_two_dicts_and_a_non_dict():
    torch = pytest.importorskip("torch")
    model, x = _Scaled(), rg.tensor(np.ones((1, 3)))
    scale = rg.tensor(np.ones(2))
    with pytest.raises(ValueError, match="'scale' appear in several of the dicts"):
        nn.functional_call(model, ({"scale": scale}, {"scale": scale}), x)
    with pytest.raises(TypeError, match="tensors must be a dict .* got str"):
        nn.functional_call(model, "scale", x)
    theirs = _torch_scaled(torch, model)
    scale_t = torch.ones(2, dtype=torch.float64)
    with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
        torch.func.functional_call(theirs, ({"scale": scale_t}, {"scale": scale_t}), (x.data,))


def test_functional_call_refuses_an_unknown_name_naming_parameters_and_buffers():
    model = _Scaled()
    with pytest.raises(KeyError, match=r"no parameter 'linear\.scale' and no buffer"):
        nn.functional_call(model, {"linear.scale": rg.tensor(np.ones(2))}, np.ones((1, 3)))
    np.testing.assert_array_equal(model.scale.data, [2.0, -1.0])


def test_functional_call_restores_parameters_and_buffers_when_the_call_raises():
    model = _Scaled()
    weight, scale = model.linear.weight, model.scale
    swapped = {"linear.weight": rg.zeros(2, 3, dtype=F64), "scale": rg.tensor(np.ones(2))}
    with pytest.raises(ValueError):
        nn.functional_call(model, swapped, np.ones((1, 5)))  # 5 features, not 3
    assert model.linear.weight is weight and model.scale is scale


def test_functional_call_replaces_a_tied_buffer_under_every_name():
    torch = pytest.importorskip("torch")

    class Shared(nn.Module):
        def __init__(self, table):
            super().__init__()
            self.first, self.second = nn.Module(), nn.Module()
            self.first.register_buffer("table", table)
            self.second.register_buffer("table", self.first.table)

        def forward(self, x):
            return x * self.second.table

    ours = Shared(rg.tensor(np.ones(2)))
    theirs = torch.nn.Module()
    theirs.first, theirs.second = torch.nn.Module(), torch.nn.Module()
    theirs.first.register_buffer("table", torch.ones(2, dtype=torch.float64))
    theirs.second.register_buffer("table", theirs.first.table)
    theirs.forward = lambda x: x * theirs.second.table
    new = np.array([3.0, 5.0])
    out = nn.functional_call(ours, {"first.table": rg.tensor(new)}, rg.tensor(np.ones(2)))
    out_t = torch.func.functional_call(
        theirs, {"first.table": torch.tensor(new)}, (torch.ones(2, dtype=torch.float64),)
    )
    np.testing.assert_array_equal(out.data, out_t.numpy())
    np.testing.assert_array_equal(out.data, new)
    assert ours.second.table is ours.first.table
    with pytest.raises(ValueError, match="name one tied buffer"):
        nn.functional_call(
            ours, {"first.table": rg.tensor(new), "second.table": rg.tensor(new)}, rg.ones(2)
        )


# ----- Sequential * n -----
def _layout(seq):
    """The keys of a Sequential and, per key, the first key holding the same module."""
    modules = list(seq._modules.items())
    return [(key, next(k for k, m in modules if m is module)) for key, module in modules]


def _ours_and_theirs(torch, named=False):
    ours = [nn.Linear(2, 2, generator=i, dtype=F64) for i in range(2)] + [nn.Tanh()]
    theirs = [torch.nn.Linear(2, 2).double(), torch.nn.Linear(2, 2).double(), torch.nn.Tanh()]
    if named:
        return (
            nn.Sequential(OrderedDict(zip("abc", ours))),
            torch.nn.Sequential(OrderedDict(zip("abc", theirs))),
        )
    return nn.Sequential(*ours), torch.nn.Sequential(*theirs)


@pytest.mark.parametrize("named", [False, True])
def test_sequential_times_n_shares_the_modules_under_torchs_keys(named):
    torch = pytest.importorskip("torch")
    ours, theirs = _ours_and_theirs(torch, named)
    for product, product_t in ((ours * 3, theirs * 3), (2 * ours, 2 * theirs)):
        assert _layout(product) == _layout(product_t)
        assert list(product.state_dict()) == list(product_t.state_dict())
        assert len(list(product.parameters())) == len(list(product_t.parameters())) == 4
        assert all(m is o for m, o in zip(product, ours))
    assert _layout(ours) == _layout(theirs)  # the factors are unchanged


def test_sequential_times_n_runs_the_modules_n_times():
    seq = nn.Sequential(nn.Linear(2, 2, generator=0, dtype=F64), nn.Tanh())
    x = rg.tensor(np.array([[0.5, -1.0]]))
    np.testing.assert_array_equal((seq * 2)(x).data, seq(seq(x)).data)


def test_sequential_in_place_times_n_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _ours_and_theirs(torch)
    same = ours
    ours *= 2
    theirs *= 2
    assert ours is same
    assert _layout(ours) == _layout(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


@pytest.mark.parametrize(
    "count, error", [(0, ValueError), (-2, ValueError), (2.0, TypeError), ("2", TypeError)]
)
def test_sequential_times_a_bad_factor_raises_torchs_error(count, error):
    torch = pytest.importorskip("torch")
    ours, theirs = _ours_and_theirs(torch)
    message = "must be positive, got" if error is ValueError else "must be an integer, got"
    with pytest.raises(error, match=f"Sequential \\*: the factor {message}"):
        ours * count
    with pytest.raises(error):
        theirs * count
    with pytest.raises(error, match=f"Sequential \\*=: the factor {message}"):
        ours *= count
    with pytest.raises(error):
        theirs *= count
    assert len(ours) == 3


# ----- the arguments named in layer errors -----
@pytest.mark.parametrize(
    "layer, message",
    [
        (nn.Flatten(5), "Flatten: start_dim 5 is out of range for a 3-d input"),
        (nn.Flatten(1, 7), "Flatten: end_dim 7 is out of range for a 3-d input"),
        (nn.Softmax(3), r"Softmax: dim 3 is out of range for a 3-d input \(it takes -3 to 2\)"),
        (nn.LogSoftmax(-4), "LogSoftmax: dim -4 is out of range for a 3-d input"),
    ],
)
def test_layer_axis_errors_name_the_argument_given(layer, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=message):
        layer(rg.ones(2, 3, 4))
    theirs = {"Flatten": torch.nn.Flatten, "Softmax": torch.nn.Softmax}
    theirs["LogSoftmax"] = torch.nn.LogSoftmax
    args = [getattr(layer, a) for a in ("start_dim", "end_dim", "dim") if hasattr(layer, a)]
    with pytest.raises(IndexError):
        theirs[type(layer).__name__](*args)(torch.ones(2, 3, 4))


def test_layer_axis_range_of_a_0d_input_is_torchs():
    torch = pytest.importorskip("torch")
    scalar = rg.tensor(2.0)
    assert nn.Flatten(0, -1)(scalar).shape == tuple(
        torch.nn.Flatten(0, -1)(torch.tensor(2.0)).shape
    )
    assert nn.Softmax(-1)(scalar).item() == torch.nn.Softmax(-1)(torch.tensor(2.0)).item() == 1
    with pytest.raises(ValueError, match="Flatten: start_dim 1 is out of range for a 0-d input"):
        nn.Flatten()(scalar)


def test_functional_axis_errors_keep_naming_axis():
    x = rg.ones(2, 3)
    with pytest.raises(ValueError, match=r"softmax\(\): axis 2 is out of range"):
        nn.functional.softmax(x, 2)
    with pytest.raises(ValueError, match=r"flatten\(\): axis 4 is out of range"):
        x.flatten(0, 4)


# ----- positional arguments of the recurrent modules -----
_ATTRIBUTES = ("num_layers", "bias", "batch_first", "dropout", "bidirectional")


@pytest.mark.parametrize(
    "name, args",
    [
        ("RNN", (2, 3, 2, "relu", False, True, 0.25, True)),
        ("LSTM", (2, 3, 2, False, True, 0.25, True, 0)),
        ("GRU", (2, 3, 2, True, True, 0.25, True)),
    ],
)
def test_recurrent_modules_take_torchs_arguments_positionally(name, args):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    for attribute in _ATTRIBUTES + (("nonlinearity",) if name == "RNN" else ()):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    shapes = {key: value.shape for key, value in ours.state_dict().items()}
    assert shapes == {key: tuple(value.shape) for key, value in theirs.state_dict().items()}
    x = rg.ones(4, 5, 2, dtype=np.float32)  # batch_first: (B, T, D)
    outputs, _ = ours(x)
    assert outputs.shape == tuple(theirs(torch.ones(4, 5, 2))[0].shape) == (4, 5, 6)


@pytest.mark.parametrize("proj_size", [1, -1, 2.0])
def test_lstm_refuses_a_projection_clearly(proj_size):
    with pytest.raises(ValueError, match=f"LSTM: proj_size={proj_size!r} is not supported"):
        nn.LSTM(2, 3, 1, True, False, 0.0, False, proj_size)
    with pytest.raises(ValueError, match="is not supported"):
        nn.LSTM(2, 3, proj_size=proj_size)


@pytest.mark.parametrize(
    "name, args",
    [
        ("RNN", (2, 3, 1, "tanh", True, False, 0.0, False, None)),
        ("LSTM", (2, 3, 1, True, False, 0.0, False, 0, None)),
        ("GRU", (2, 3, 1, True, False, 0.0, False, 0)),
    ],
)
def test_recurrent_arguments_past_torchs_positional_ones_are_refused(name, args):
    """Past `bidirectional` (LSTM: `proj_size`) torch takes device and dtype, which are not
    ours to take by position: refused, not taken as another option."""
    with pytest.raises(TypeError, match="positional"):
        getattr(nn, name)(*args)


def test_functional_call_swaps_a_tensor_into_a_buffer_registered_as_none():
    """BCEWithLogitsLoss's unset pos_weight is a buffer registered as None; torch swaps a
    tensor into it, and so do we, leaving it None afterwards."""
    torch = pytest.importorskip("torch")
    loss = nn.BCEWithLogitsLoss()
    x, y = np.array([0.5, -1.0]), np.array([1.0, 0.0])
    weight = np.array([3.0, 2.0])
    ours = nn.functional_call(loss, {"pos_weight": rg.tensor(weight)}, rg.tensor(x), y)
    theirs = torch.func.functional_call(
        torch.nn.BCEWithLogitsLoss(),
        {"pos_weight": torch.tensor(weight)},
        (torch.tensor(x), torch.tensor(y)),
    )
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
    assert loss.pos_weight is None


def test_functional_call_refuses_a_value_that_is_not_a_tensor():
    with pytest.raises(TypeError, match=r"the value for 'weight' must be a Tensor, got float"):
        nn.functional_call(nn.Linear(2, 3), {"weight": 3.0}, rg.ones(1, 2))
