"""PyTorch's elementwise vocabulary: the Tensor methods (sin, floor, lerp, nan_to_num...) and
the function forms of tensor methods (rg.exp(x), rg.sum(x, 1)...), each against torch in
float64, values and gradients, with their dtypes and errors."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import creation, free_functions, functional

RTOL = 1e-10
ATOL = 1e-12


def _pair(values, requires_grad=True):
    """The same float64 values as a retrograd tensor and a torch tensor."""
    torch = pytest.importorskip("torch")
    array = np.asarray(values, dtype=np.float64)
    return (
        rg.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


def _close(ours, theirs) -> None:
    """Values (and dtype kind) of a retrograd result equal torch's."""
    theirs = theirs.detach().numpy()
    ours = ours.data
    assert ours.shape == theirs.shape
    assert ours.dtype.kind == theirs.dtype.kind, (ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL)


def _check_grads(ours_out, theirs_out, ours_in, theirs_in) -> None:
    """The gradients of a fixed weighted sum of the outputs agree for every input."""
    weights = np.linspace(-1.5, 2.0, ours_out.size).reshape(ours_out.shape)
    (ours_out * rg.tensor(weights)).sum().backward()
    (theirs_out * theirs_out.new_tensor(weights)).sum().backward()
    for mine, torchs in zip(ours_in, theirs_in):
        expected = np.zeros(mine.shape) if torchs.grad is None else torchs.grad.numpy()
        got = np.zeros(mine.shape) if mine.grad is None else mine.grad
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)


# ----- function forms of methods -----
FUNCTION_CASES = [
    ("exp", (), {}),
    ("log", (), {}),
    ("sqrt", (), {}),
    ("tanh", (), {}),
    ("sigmoid", (), {}),
    ("relu", (), {}),
    ("abs", (), {}),
    ("sum", (1,), {}),
    ("sum", (), {}),
    ("mean", (0,), {}),
    ("prod", (-1,), {}),
    ("logsumexp", (1,), {}),
    ("softmax", (1,), {}),
    ("log_softmax", (0,), {}),
    ("flatten", (), {}),
    ("transpose", (0, 1), {}),
    ("permute", ((1, 0),), {}),
    ("reshape", ((6,),), {}),
    ("unsqueeze", (1,), {}),
    ("squeeze", (), {}),
    ("clamp", (0.5, 2.0), {}),
    ("clip", (0.5, 2.0), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), FUNCTION_CASES)
def test_function_form_matches_torch(name, args, kwargs):
    torch = pytest.importorskip("torch")
    values = np.array([[0.3, 1.7, 2.2], [1.1, 0.6, 2.9]])
    x, tx = _pair(values)
    ours = getattr(rg, name)(x, *args, **kwargs)
    theirs = getattr(torch, name)(tx, *args, **kwargs)
    _close(ours, theirs)
    _check_grads(ours, theirs, [x], [tx])


def test_function_forms_of_splits_match_torch():
    torch = pytest.importorskip("torch")
    x, tx = _pair(np.arange(12.0).reshape(3, 4))
    for name, args in [("split", (2, 1)), ("chunk", (2, 0)), ("unbind", (1,))]:
        ours, theirs = getattr(rg, name)(x, *args), getattr(torch, name)(tx, *args)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _close(a, b)


def test_function_forms_of_statistics_match_torch():
    torch = pytest.importorskip("torch")
    x, tx = _pair([[0.3, 1.7, 2.2], [1.1, 0.6, 2.9]])
    _close(rg.var(x, 1, ddof=1), torch.var(tx, 1))
    _close(rg.std(x, 0, ddof=1), torch.std(tx, 0))
    _close(rg.max(x), torch.max(tx))
    _close(rg.min(x), torch.min(tx))
    _close(rg.argmax(x, 1), torch.argmax(tx, 1))
    _close(rg.argmin(x), torch.argmin(tx))


def test_function_form_is_the_method_call():
    x = rg.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    for name in free_functions.NAMES:
        assert callable(getattr(rg.Tensor, name)), name
    assert rg.sum(x, axis=0, keepdims=True).shape == x.sum(axis=0, keepdims=True).shape
    assert rg.sum(x).grad_fn.op.name == "sum"
    np.testing.assert_array_equal(rg.sum(input=x, axis=1).data, x.sum(axis=1).data)


def test_function_form_takes_array_likes_as_constants():
    out = rg.exp([0.0, 1.0])
    assert out.dtype == np.float32 and not out.requires_grad  # Python floats: float32
    np.testing.assert_allclose(out.data, np.exp([0.0, 1.0]), rtol=1e-6)
    assert rg.sum(np.arange(4.0)).dtype == np.float64  # an array keeps its dtype
    assert rg.max(3).item() == 3


def test_function_form_refuses_non_numeric_input_naming_itself():
    with pytest.raises(TypeError, match=r"exp\(\): input must be a tensor"):
        rg.exp("a")
    with pytest.raises(TypeError, match=r"sum\(\): input must be a tensor"):
        rg.sum({"a": 1})


def test_function_form_metadata_comes_from_the_method():
    for name in free_functions.NAMES:
        function = getattr(rg, name)
        method = getattr(rg.Tensor, name)
        assert function.__name__ == function.__qualname__ == name
        assert function.__module__ == "retrograd.autograd.free_functions"
        assert function.__wrapped__ is method
        assert f"`Tensor.{name}`" in function.__doc__
        assert (inspect.getdoc(method) or "") in function.__doc__
        params = list(inspect.signature(function).parameters)
        assert params == ["input", *list(inspect.signature(method).parameters)[1:]]


def test_function_forms_are_exported_without_replacing_existing_functions():
    for name in free_functions.NAMES:
        assert getattr(rg, name) is free_functions.FUNCTIONS[name]
        assert getattr(rg.autograd, name) is free_functions.FUNCTIONS[name]
        assert name in rg.__all__ and name in rg.autograd.__all__
    own = {
        name
        for module in (functional, creation)
        for name, value in vars(module).items()
        if callable(value) and not name.startswith("_")
    }
    assert not own & set(free_functions.NAMES)
    assert rg.maximum is functional.maximum and rg.where is functional.where


def test_method_function_refuses_a_missing_method():
    with pytest.raises(AttributeError, match="Tensor has no method 'frobnicate'"):
        free_functions.method_function("frobnicate")
