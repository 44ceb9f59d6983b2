"""Known-answer cases for the fused `linear` op and the engine's deferred leaf gradients."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import linear


def _operands() -> tuple[rg.Tensor, rg.Tensor, rg.Tensor, rg.Tensor]:
    rng = np.random.default_rng(0)
    x, w, b, r = (
        rg.tensor(rng.standard_normal(shape), requires_grad=True)
        for shape in ((2, 3), (3, 3), (3,), (2, 3))
    )
    return x * 1.0, w, b, r * 1.0


@pytest.mark.parametrize("aliased", ["input", "weight", "residual"])
def test_linear_out_sharing_memory_with_an_operand_is_refused(aliased: str) -> None:
    # Written over, x would corrupt dw = dz^T x (and a residual, the forward itself).
    x, w, b, r = _operands()
    out = {"input": x.data, "weight": w.data[:2], "residual": r.data}[aliased]
    before = out.copy()
    with pytest.raises(ValueError, match=rf"linear\(\): out shares memory with the {aliased}"):
        linear(x, w, b, residual=r, activation="tanh", out=out)
    np.testing.assert_array_equal(out, before)  # refused before anything was written


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_with_retained_hidden_grads_runs_under_no_grad(kind: str) -> None:
    module = getattr(rg.nn, kind)(3, 4, num_layers=2, generator=0, retain_hidden_grads=True)
    x = rg.randn(5, 2, 3, generator=1)
    with rg.no_grad():
        out, _ = module(x)
    assert not out.requires_grad
    assert [len(steps) for steps in module.hidden_states] == [5, 5]
    out, _ = module(x)
    out.sum().backward()
    assert all(h.grad is not None for steps in module.hidden_states for h in steps)
