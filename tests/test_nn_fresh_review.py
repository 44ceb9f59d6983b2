"""retrograd.nn against torch.nn on unusual but legal inputs: tied weights in
`functional_call`, the layout of `repr`, loss targets of other dtypes, and dropout
between the layers of a recurrent stack."""

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
