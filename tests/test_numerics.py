"""Numerics at the edges: huge logits, saturated activations, float32 against float64.

Every check runs with warnings turned into errors and NumPy raising on
overflow, division by zero and invalid operations. Underflow is left alone:
exp(-1e4) rounding to 0 is the correctly rounded result (a softmax
probability of exactly 0), not an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import retrograd as rg
from retrograd.models.language_model import RNNLanguageModel
from retrograd.nn import functional as F

# Largest logits each dtype must handle: exp(80) is near float32's limit, exp(1e4) far past
# float64's; only shifted (logsumexp-style) formulas survive both.
EXTREMES = {np.float64: 1e4, np.float32: 80.0}
TARGETS = np.array([1, 0, 3])


@pytest.fixture(autouse=True)
def strict() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            yield


def extreme_logits(dtype: type) -> np.ndarray:
    big = EXTREMES[dtype]
    rows = [[big, -big, 0.0, big / 2], [-big, -big, -big, big], [big, big, -big, -big]]
    return np.array(rows, dtype=dtype)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """Float64 reference, shifted by the row maximum."""
    z = z.astype(np.float64)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# name -> (loss of the logits tensor, float64 reference value, reference gradient)
WEIGHTS = np.array([[0.5, -1.0, 2.0, 1.0], [1.0, 0.0, -2.0, 3.0], [0.0, 1.0, 1.0, -1.0]])
LOSSES: dict[str, tuple[Callable, Callable, Callable]] = {
    "cross_entropy": (
        lambda x: F.cross_entropy(x, TARGETS),
        lambda z: -_log_softmax(z)[np.arange(3), TARGETS].mean(),
        lambda z: (np.exp(_log_softmax(z)) - np.eye(4)[TARGETS]) / 3,
    ),
    "log_softmax": (
        lambda x: (x.log_softmax(-1) * WEIGHTS.astype(x.dtype)).sum(),
        lambda z: (_log_softmax(z) * WEIGHTS).sum(),
        lambda z: WEIGHTS - np.exp(_log_softmax(z)) * WEIGHTS.sum(-1, keepdims=True),
    ),
    "softmax": (
        lambda x: (F.softmax(x, -1) * WEIGHTS.astype(x.dtype)).sum(),
        lambda z: (np.exp(_log_softmax(z)) * WEIGHTS).sum(),
        lambda z: (p := np.exp(_log_softmax(z))) * (WEIGHTS - (p * WEIGHTS).sum(-1, keepdims=True)),
    ),
    "logsumexp": (
        lambda x: x.logsumexp(-1).sum(),
        lambda z: (z.astype(np.float64) - _log_softmax(z))[:, 0].sum(),
        lambda z: np.exp(_log_softmax(z)),
    ),
    "bce_with_logits": (
        lambda x: F.binary_cross_entropy_with_logits(x, np.eye(3, 4, dtype=x.dtype)),
        lambda z: np.mean(np.logaddexp(0, z) - z * np.eye(3, 4)),
        lambda z: (0.5 * (1 + np.tanh(z / 2)) - np.eye(3, 4)) / z.size,
    ),
}  # fmt: skip


@pytest.mark.parametrize("dtype", list(EXTREMES), ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_extreme_logits_give_finite_exact_losses_and_gradients(name: str, dtype: type) -> None:
    loss_fn, reference, reference_grad = LOSSES[name]
    z = extreme_logits(dtype)
    x = rg.tensor(z, requires_grad=True)
    loss = loss_fn(x)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad).all()
    assert loss.dtype == dtype and x.grad.dtype == dtype
    # Values near 1e4 (float64) or 240 (float32) round to a few units in the last place.
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(loss.item(), reference(z), rtol=rtol)
    np.testing.assert_allclose(x.grad, reference_grad(z), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", list(EXTREMES), ids=lambda d: d.__name__)
def test_cross_entropy_ignores_padding_even_at_extreme_logits(dtype: type) -> None:
    x = rg.tensor(extreme_logits(dtype), requires_grad=True)
    loss = F.cross_entropy(x, np.array([-100, 0, -100]))
    loss.backward()
    assert loss.item() == 2 * EXTREMES[dtype]  # row 1: logsumexp = big, target logit = -big
    assert not x.grad[[0, 2]].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_saturated_activations_are_exact_with_zero_gradient(name: str, dtype: type) -> None:
    x = rg.tensor(np.array([-1e4, 1e4, -1e3, 1e3], dtype=dtype), requires_grad=True)
    y = getattr(x, name)()
    y.sum().backward()
    low = -1.0 if name == "tanh" else 0.0
    np.testing.assert_array_equal(y.data, np.array([low, 1.0, low, 1.0], dtype=dtype))
    np.testing.assert_array_equal(x.grad, np.zeros(4, dtype=dtype))
    assert y.dtype == dtype and x.grad.dtype == dtype


def test_sigmoid_keeps_relative_accuracy_in_the_far_tail() -> None:
    x = rg.tensor(np.array([-700.0, -40.0, 40.0]), requires_grad=True)
    y = x.sigmoid()
    y.sum().backward()
    np.testing.assert_allclose(y.data[:2], np.exp([-700.0, -40.0]), rtol=1e-12)
    np.testing.assert_allclose(x.grad[:2], np.exp([-700.0, -40.0]), rtol=1e-12)
    assert y.data[2] == 1.0
    # float32, down to the smallest normal results (exp(87) is near float32's largest).
    x32 = rg.tensor(np.array([-87.0, -40.0, -10.0], dtype=np.float32))
    expected = 1 / (1 + np.exp(-x32.data.astype(np.float64)))
    np.testing.assert_allclose(x32.sigmoid().data, expected, rtol=1e-6)


def _model_gradients(model: RNNLanguageModel, tokens: np.ndarray) -> tuple[float, dict]:
    logits, _ = model(tokens[:, :-1])
    loss = model.loss(logits, tokens[:, 1:])
    loss.backward()
    return loss.item(), {name: p.grad for name, p in model.named_parameters()}


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_float32_model_gradients_match_float64_twin(cell: str) -> None:
    single = RNNLanguageModel(20, 32, cell, embedding_dim=8, generator=0, dtype=np.float32)
    double = RNNLanguageModel(20, 32, cell, embedding_dim=8, generator=0, dtype=np.float64)
    double.load_state_dict({k: v.astype(np.float64) for k, v in single.state_dict().items()})
    tokens = np.random.default_rng(1).integers(0, 20, size=(4, 13))
    loss32, grads32 = _model_gradients(single, tokens)
    loss64, grads64 = _model_gradients(double, tokens)
    np.testing.assert_allclose(loss32, loss64, rtol=1e-6)
    for name, g64 in grads64.items():
        g32 = grads32[name]
        assert g32.dtype == np.float32, name
        error = np.linalg.norm(g32 - g64) / np.linalg.norm(g64)
        assert error < 1e-4, f"{name}: relative error {error:.2e}"
