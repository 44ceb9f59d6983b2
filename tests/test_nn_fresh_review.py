"""retrograd.nn against torch.nn on unusual but legal inputs: tied weights in
`functional_call`, the layout of `repr`, loss targets of other dtypes, and dropout
between the layers of a recurrent stack."""

import copy
import warnings

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

F64 = np.float64


class _Tied(nn.Module):
    """An embedding whose table is also the output head's weight."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(4, 3, generator=0, dtype=F64)
        self.head = nn.Linear(3, 4, bias=False, generator=1, dtype=F64)
        self.head.weight = self.embedding.weight

    def forward(self, ids):
        return self.head(self.embedding(ids))


def test_functional_call_replaces_a_tied_parameter_under_every_name():
    torch = pytest.importorskip("torch")
    ours = _Tied()
    theirs = torch.nn.Sequential()
    theirs.embedding = torch.nn.Embedding(4, 3).double()
    theirs.head = torch.nn.Linear(3, 4, bias=False).double()
    theirs.head.weight = theirs.embedding.weight
    table = np.random.default_rng(2).standard_normal((4, 3))
    ids = np.array([0, 3, 3, 1])
    weight = rg.tensor(table, requires_grad=True)
    out = nn.functional_call(ours, {"embedding.weight": weight}, ids)
    (out * out).sum().backward()
    weight_t = torch.tensor(table, requires_grad=True)
    out_t = torch.func.functional_call(theirs, {"embedding.weight": weight_t}, torch.tensor(ids))
    (out_t * out_t).sum().backward()
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(weight.grad, weight_t.grad.numpy(), rtol=0, atol=1e-10)
    assert ours.head.weight is ours.embedding.weight  # restored, still tied


def test_functional_call_refuses_two_tensors_for_one_tied_parameter():
    model = _Tied()
    a, b = rg.zeros(4, 3, dtype=F64), rg.ones(4, 3, dtype=F64)
    with pytest.raises(ValueError, match="'embedding.weight' and 'head.weight' name one tied"):
        nn.functional_call(model, {"embedding.weight": a, "head.weight": b}, np.array([0]))
    out = nn.functional_call(model, {"embedding.weight": b, "head.weight": b}, np.array([0]))
    assert np.array_equal(out.data, np.full((1, 4), 3.0))


def test_functional_call_takes_every_name_of_a_shared_module():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = nn.Linear(2, 2, generator=0, dtype=F64)
            self.second = self.first

        def forward(self, x):
            return self.second(x)

    model = Shared()
    zeros = rg.zeros(2, 2, dtype=F64)
    out = nn.functional_call(model, {"second.weight": zeros}, np.ones((1, 2)))
    assert np.array_equal(out.data, model.first.bias.data[None])
    assert model.first.weight is not zeros


def _repr_pair(lib):
    """Modules of library `lib` (retrograd.nn or torch.nn) mixing extra_repr and children."""

    class WithChild(lib.Module):
        def __init__(self):
            super().__init__()
            self.inner = lib.Linear(2, 3)

        def extra_repr(self):
            return "scale=2"

    class TwoLines(lib.Module):
        def extra_repr(self):
            return "a=1\nb=2"

    outer = lib.Sequential(WithChild(), TwoLines(), lib.Tanh())
    return [repr(WithChild()), repr(TwoLines()), repr(outer)]


def test_repr_lays_out_extra_repr_and_children_as_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _repr_pair(nn), _repr_pair(torch.nn)
    assert ours == theirs
    assert ours[0] == (
        "WithChild(\n  scale=2\n  (inner): Linear(in_features=2, out_features=3, bias=True)\n)"
    )


@pytest.mark.parametrize(
    "loss", [nn.functional.mse_loss, nn.functional.binary_cross_entropy_with_logits]
)
def test_loss_of_an_integer_target_tensor_keeps_the_input_dtype(loss):
    torch = pytest.importorskip("torch")
    labels = np.array([0, 1, 1])
    x = rg.tensor(np.array([0.5, -1.0, 2.0], dtype=np.float32), requires_grad=True)
    as_tensor, as_array = loss(x, rg.tensor(labels)), loss(x, labels)
    expected = getattr(torch.nn.functional, loss.__name__)(
        torch.tensor(x.data), torch.tensor(labels).float()
    )
    assert as_tensor.dtype == as_array.dtype == np.float32
    assert as_tensor.item() == as_array.item() == pytest.approx(expected.item(), abs=1e-6)


@pytest.mark.parametrize(
    "target, detail",
    [
        (["a", "b", "c"], "got ['a', 'b', 'c']"),
        (None, "got None"),
        ([[1.0, 2.0], [3.0]], "got [[1.0, 2.0], [3.0]]"),
        (np.zeros(3, dtype=complex), "got dtype complex128"),
    ],
)
@pytest.mark.parametrize("loss", [nn.MSELoss(), nn.BCEWithLogitsLoss()])
def test_loss_names_a_target_that_is_not_numbers(loss, target, detail):
    name = "mse_loss" if isinstance(loss, nn.MSELoss) else "binary_cross_entropy_with_logits"
    with pytest.raises(TypeError, match=rf"^{name}\(\): target must be an array of real") as err:
        loss(rg.zeros(3), target)
    assert detail in str(err.value)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_dropout_between_layers_matches_torch(kind):
    torch = pytest.importorskip("torch")
    p, steps, batch = 0.4, 5, 2
    ours = getattr(nn, kind)(3, 4, 3, dropout=p, batch_first=True, generator=0, dtype=F64)
    theirs = [getattr(torch.nn, kind)(3 if k == 0 else 4, 4, batch_first=True) for k in range(3)]
    state = nn.to_torch_state_dict(ours)
    for k, layer in enumerate(theirs):
        layer.double().load_state_dict(
            {name.replace(f"_l{k}", "_l0"): v for name, v in state.items() if f"_l{k}" in name}
        )
    masks = copy.deepcopy(ours.generator)  # the masks ours will draw, time-major
    x = np.random.default_rng(1).standard_normal((batch, steps, 3))
    x_ours, x_theirs = rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, _ = ours(x_ours)
    (out * out).sum().backward()
    h = x_theirs
    for k, layer in enumerate(theirs):
        h, _ = layer(h)
        if k < 2:
            keep = (masks.random((steps, batch, 4)) >= p) / (1 - p)
            h = h * torch.from_numpy(keep.swapaxes(0, 1))
    (h * h).sum().backward()
    np.testing.assert_allclose(out.data, h.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=0, atol=1e-10)
    for k, layer in enumerate(theirs):
        for name, param in layer.named_parameters():
            ours_grad = ours._parameters[name.replace("_l0", f"_l{k}")].grad
            np.testing.assert_allclose(ours_grad, param.grad.numpy(), rtol=0, atol=1e-10)


def test_recurrent_dropout_is_the_identity_in_eval_mode_and_shown_in_repr():
    dropped = nn.GRU(3, 4, 2, dropout=0.5, generator=0, dtype=F64)
    plain = nn.GRU(3, 4, 2, generator=0, dtype=F64)
    x = np.random.default_rng(1).standard_normal((5, 2, 3))
    assert not np.array_equal(dropped(x)[0].data, plain(x)[0].data)
    dropped.eval()
    assert np.array_equal(dropped(x)[0].data, plain(x)[0].data)
    assert repr(dropped) == "GRU(3, 4, num_layers=2, dropout=0.5)"


def test_recurrent_dropout_is_checked_and_warned_about_as_torch():
    with pytest.raises(ValueError, match=r"^LSTM: dropout must be in \[0, 1\], got 1.5"):
        nn.LSTM(3, 4, 2, dropout=1.5)
    with pytest.raises(TypeError, match="^RNN: dropout must be a number"):
        nn.RNN(3, 4, 2, dropout=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.RNN(3, 4, dropout=0.2)
    assert "with num_layers=1 it does nothing" in str(caught[0].message)
    assert caught[0].filename == __file__


def test_recurrent_arguments_after_bidirectional_are_keywords():
    """torch.nn.GRU's positional arguments end at bidirectional: one more is refused, not
    taken as one of ours (retain_hidden_grads)."""
    with pytest.raises(TypeError, match="positional"):
        nn.GRU(3, 4, 2, True, True, 0.2, True, 0)
