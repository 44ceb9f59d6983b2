"""gradcheck and retrograd.testing used as docs/testing-gradients.md tells users to: a module's
forward, functions with random parts, wrong backwards of several kinds, strategies in their own
hypothesis tests."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import Function, GradcheckError, gradcheck
from retrograd.testing import tensors


def _module_and_input() -> tuple[nn.Linear, rg.Tensor]:
    layer = nn.Linear(3, 2, generator=0).double()
    x = rg.tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    return layer, x


@pytest.mark.parametrize("limit", [20_000, 0], ids=["full", "projected"])
def test_gradcheck_leaves_the_gradients_it_does_not_check_untouched(limit):
    torch = pytest.importorskip("torch")
    layer, x = _module_and_input()
    before = np.ones((2, 3))
    layer.weight.grad = before
    assert gradcheck(lambda x: layer(x).tanh(), [x], full_jacobian_limit=limit)
    assert layer.weight.grad is before and layer.bias.grad is None
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: layer(x * x.detach()), [x], full_jacobian_limit=limit)
    assert layer.weight.grad is before and layer.bias.grad is None
    # As torch's: its gradcheck does not write into a module's parameters either.
    torch_layer = torch.nn.Linear(3, 2).double()
    assert torch.autograd.gradcheck(torch_layer, (torch.tensor(x.data, requires_grad=True),))
    assert torch_layer.weight.grad is None


def test_gradcheck_names_a_fn_that_is_not_deterministic():
    dropout = nn.Dropout(0.5)
    x = rg.tensor(np.linspace(0.5, 2.0, 8), requires_grad=True)
    # Before, a "wrong gradient" with a numeric value of 1e6 sent users to their backward.
    with pytest.raises(RuntimeError, match=r"fn is not deterministic: .* module\.eval\(\)"):
        gradcheck(lambda x: dropout(x.tanh()), [x])
    assert gradcheck(lambda x: dropout.eval()(x.tanh()), [x])


def _matmul_with_backward(name: str, wrong) -> type[Function]:
    """A matmul op whose backward for `a` is `wrong(a's true gradient)`."""

    def forward(ctx, a, b):
        ctx.saved = (a, b)
        return a @ b

    def backward(ctx, grad):
        a, b = ctx.saved
        return wrong(grad @ b.T), a.T @ grad

    op = type(name, (Function,), {"forward": staticmethod(forward)})
    op.backward = staticmethod(backward)
    return op


def _one_element_off(grad: np.ndarray) -> np.ndarray:
    grad = grad.copy()
    grad.flat[-1] *= 1.01
    return grad


@pytest.mark.parametrize("n", [3, 30], ids=["full", "projected"])
@pytest.mark.parametrize(
    "wrong",
    [lambda g: 1.01 * g, lambda g: g.T.copy(), _one_element_off],
    ids=["factor_1.01", "transposed", "one_element_1.01"],
)
def test_gradcheck_catches_a_wrong_backward(n, wrong, request):
    name = "fresh_review_" + request.node.callspec.id.replace(".", "_").replace("-", "_")
    op = _matmul_with_backward(name, wrong)
    try:
        rng = np.random.default_rng(n)
        a, b = (rg.tensor(rng.standard_normal((n, n)), requires_grad=True) for _ in range(2))
        right = _matmul_with_backward(name + "_right", lambda g: g)
        assert gradcheck(lambda a, b: right.apply(a, b), [a, b])
        # A 30 x 30 matmul is projected; one element 1% off passed when 8 were sampled.
        with pytest.raises(GradcheckError, match=r"wrong gradient for input 0 of shape"):
            gradcheck(lambda a, b: op.apply(a, b), [a, b])
    finally:
        Function.registry.pop(name, None)
        Function.registry.pop(name + "_right", None)


def test_tensors_falsifying_example_can_be_pasted_back():
    from hypothesis import given, settings

    @settings(database=None, max_examples=50)
    @given(x=tensors(shape=(3, 4)))
    def check(x):
        gradcheck(lambda x: x.max(axis=1), [x])  # fails at ties

    with pytest.raises(GradcheckError) as caught:
        check()
    notes = "".join(getattr(caught.value, "__notes__", []))
    # It read `Tensor(array(...), requires_grad=requires_grad)`: a NameError when pasted.
    assert "x=tensor([[0., 0., 0., 0.]," in notes and "requires_grad=True)" in notes
