"""Drawing and rendering at their edges: advice that works, odd names and paths, no lost files."""

from __future__ import annotations

import numpy as np
import pytest

from retrograd.autograd import Tensor, scope, to_dot


def _steps_with_a_big_prelude(prelude: int, steps: int) -> Tensor:
    """An RNN-like loop whose every step uses a tensor made by `prelude` ops outside the steps."""
    x = Tensor(np.ones(2), requires_grad=True, name="x")
    for _ in range(prelude):
        x = x * 1.0
    w = Tensor(np.eye(2) * 0.5, requires_grad=True, name="w")
    h = Tensor(np.ones((1, 2)))
    for t in range(steps):
        with scope(f"t={t}"):
            h = (h @ w).tanh() * x
    return h.sum()


def test_to_dot_too_many_nodes_suggests_steps_only_when_they_would_fit():
    loss = _steps_with_a_big_prelude(600, 5)
    fewest = to_dot(loss, steps=(1, 1), max_nodes=None)
    for kwargs in ({}, {"steps": (1, 1)}):
        with pytest.raises(ValueError) as info:
            to_dot(loss, **kwargs)
        message = str(info.value)
        assert f"steps=(1, 1) would draw {fewest.n_ops + fewest.n_tensors:,} nodes" in message
        assert "intermediate tensor" in message
        assert "Draw the first and last time steps only" not in message


def test_to_dot_too_many_nodes_suggests_the_most_steps_that_fit():
    loss = _steps_with_a_big_prelude(0, 400)
    sizes = {}
    for k in (1, 2, 3):
        graph = to_dot(loss, steps=(k, k))
        sizes[k] = graph.n_ops + graph.n_tensors
    for k in (1, 2, 3):
        with pytest.raises(ValueError, match=rf"steps=\({k}, {k}\)"):
            to_dot(loss, max_nodes=sizes[k])
        assert to_dot(loss, max_nodes=sizes[k], steps=(k, k)).n_ops > 0
    with pytest.raises(ValueError, match=r"steps=\(1, 1\) would draw"):
        to_dot(loss, max_nodes=sizes[1] - 1)
