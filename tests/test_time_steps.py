"""`time_steps`: a loop whose step t records its nodes under the scope `t=<t>`."""

from __future__ import annotations

import pytest

import retrograd as rg
from retrograd.autograd import scope, time_steps
from retrograd.autograd.graph import grad_mode


def _scopes(out: rg.Tensor) -> list[str | None]:
    return [node.scope for node in rg.autograd.topological_order([out])]


def test_each_step_records_under_its_own_label_inside_the_enclosing_scope() -> None:
    x = rg.randn(3, generator=0, requires_grad=True)
    h = x
    with scope("rnn"), time_steps(3) as steps:
        for _ in steps:
            h = (h * 2.0).tanh()
        assert grad_mode.scope == "rnn"
    assert grad_mode.scope is None
    assert _scopes(h) == [f"rnn/t={t}" for t in range(3) for _ in range(2)]


def test_the_enclosing_scope_comes_back_after_a_break_or_an_error() -> None:
    with time_steps(5) as steps:
        for t in steps:
            if t == 2:
                break
        assert grad_mode.scope == "t=2"
    assert grad_mode.scope is None
    with pytest.raises(ZeroDivisionError), scope("model"), time_steps(4) as steps:
        for t in steps:
            if t == 1:
                raise ZeroDivisionError
    assert grad_mode.scope is None


def test_rnn_layers_label_their_steps_and_leave_no_scope_behind() -> None:
    for cell in (rg.nn.RNN, rg.nn.LSTM, rg.nn.GRU):
        out, _ = cell(2, 3, generator=0)(rg.randn(4, 1, 2, generator=1))
        assert {f"t={t}" for t in range(4)} <= set(_scopes(out.sum()))
    assert grad_mode.scope is None


def test_iterating_outside_a_with_block_is_refused() -> None:
    with pytest.raises(RuntimeError, match="with time_steps"):
        list(time_steps(2))
    assert grad_mode.scope is None


def test_iterating_after_the_with_block_is_refused() -> None:
    with time_steps(2) as steps:
        pass
    with pytest.raises(RuntimeError, match="with time_steps"):
        next(iter(steps))
    assert grad_mode.scope is None
