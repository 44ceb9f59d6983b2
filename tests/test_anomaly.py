"""Anomaly mode: NaN/Inf in a forward result or a gradient is reported with op, tensor and line.

Every message must point at the line of this file that created the op, so
each test records the line number just before the op it expects to blame.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import AnomalyError, detect_anomaly
from retrograd.autograd.anomaly import user_frame


def _next_line() -> str:
    """'this file:N' for the line after the caller's."""
    return f"{__file__}:{sys._getframe(1).f_lineno + 1}"


def _leaf(values, name: str | None = None) -> rg.Tensor:
    t = rg.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)
    t.name = name
    return t


def test_anomaly_error_is_a_floating_point_error() -> None:
    assert issubclass(AnomalyError, FloatingPointError)


def test_anomaly_forward_nan_names_op_shape_and_line() -> None:
    x = _leaf([[1.0, -1.0, 2.0]])
    with detect_anomaly(), np.errstate(invalid="ignore"), pytest.raises(AnomalyError) as info:
        where = _next_line()
        x.log()
    message = str(info.value)
    assert "op 'log' produced NaN" in message
    assert "forward result of shape (1, 3)" in message and f"created at {where}" in message


def test_anomaly_forward_inf_from_overflow() -> None:
    x = _leaf([10.0, 1000.0])
    with detect_anomaly(), np.errstate(over="ignore"), pytest.raises(AnomalyError) as info:
        where = _next_line()
        (x * 2.0).exp()
    assert "op 'exp' produced Inf" in str(info.value) and where in str(info.value)


def test_anomaly_backward_inf_names_op_tensor_and_creating_line() -> None:
    x = _leaf([0.0, 1.0, 4.0], name="x")
    with detect_anomaly():
        where = _next_line()
        root = x**0.5  # finite forward; the derivative at 0 is infinite
        loss = root.sum()
        backward_line = _next_line()
        with np.errstate(divide="ignore"), pytest.raises(AnomalyError) as info:
            loss.backward()
    message = str(info.value)
    assert "backward of op 'pow' produced Inf in the gradient of its input 0" in message
    assert "tensor 'x' of shape (3,)" in message
    assert f"created at {where}" in message and backward_line not in message


def test_anomaly_blames_the_op_whose_backward_went_wrong_mid_graph() -> None:
    x = _leaf([[0.5, 2.0], [1.0, 3.0]])
    w = _leaf([[1.0, 0.0], [2.0, 1.0]])
    with detect_anomaly():
        hidden = x * w
        hidden.name = "hidden"
        where = _next_line()
        root = hidden**0.5  # hidden holds a zero: finite forward, infinite derivative
        loss = (root * 2.0).tanh().sum()
        with np.errstate(divide="ignore"), pytest.raises(AnomalyError) as info:
            loss.backward()
    message = str(info.value)
    assert "backward of op 'pow'" in message and "tensor 'hidden' of shape (2, 2)" in message
    assert f"created at {where}" in message


def test_anomaly_records_trace_only_when_on() -> None:
    x = _leaf([1.0, 2.0])
    off = (x * 2.0).grad_fn
    with detect_anomaly():
        where = _next_line()
        on = (x * 2.0).grad_fn
    assert not hasattr(off, "trace")
    assert on.trace == where


def test_anomaly_trace_skips_package_frames() -> None:
    layer = rg.nn.Linear(3, 2, generator=0, dtype=np.float64)
    x = _leaf(np.ones((4, 3)))
    with detect_anomaly():
        where = _next_line()
        out = layer(x).log_softmax(axis=-1)
    nodes = rg.autograd.topological_order([out])
    assert {node.trace for node in nodes} == {where}
    assert {node.op.name for node in nodes} >= {"linear", "logsumexp", "sub"}


def test_anomaly_names_the_output_of_a_multi_output_op() -> None:
    x = _leaf([[1.0, np.nan], [2.0, 3.0]])
    with detect_anomaly(), pytest.raises(AnomalyError, match=r"op 'split' output 1 produced NaN"):
        x.unbind(axis=1)


def test_anomaly_in_a_model_names_the_layer_op_and_the_calling_line() -> None:
    model = rg.nn.Sequential(
        rg.nn.Linear(3, 4, generator=0), rg.nn.Tanh(), rg.nn.Linear(4, 2, generator=1)
    )
    with rg.no_grad():
        model[2].weight.data[1, 2] = np.inf
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        where = _next_line()
        model(rg.ones(5, 3))
    assert "op 'linear' produced" in str(info.value) and where in str(info.value)


def test_anomaly_on_a_graph_recorded_outside_says_so() -> None:
    x = _leaf([0.0, 1.0])
    loss = (x**0.5).sum()
    with detect_anomaly(), np.errstate(divide="ignore"), pytest.raises(AnomalyError) as info:
        loss.backward()
    assert "<recorded outside detect_anomaly>" in str(info.value)


def test_anomaly_off_lets_non_finite_values_through() -> None:
    x = _leaf([0.0, -1.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        y = x.log()
        y.sum().backward()
    assert np.isneginf(y.data[0]) and np.isnan(y.data[1])
    assert np.isinf(x.grad[0])


def test_anomaly_mode_is_restored_after_an_error_and_when_nested() -> None:
    x = _leaf([np.inf])
    with detect_anomaly():
        with detect_anomaly():
            pass
        with pytest.raises(AnomalyError):  # still on after the inner block
            x * 1.0
    with pytest.raises(AnomalyError), detect_anomaly():
        x * 1.0
    y = x * 1.0  # off again after an error escaped
    assert np.isinf(y.data[0]) and not hasattr(y.grad_fn, "trace")


def test_anomaly_mode_leaves_finite_results_unchanged() -> None:
    values = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    grads = []
    for anomaly in (False, True):
        x = _leaf(values)
        if anomaly:
            with detect_anomaly():
                loss = (x.tanh() @ x.T).logsumexp(axis=0).sum()
                loss.backward()
        else:
            loss = (x.tanh() @ x.T).logsumexp(axis=0).sum()
            loss.backward()
        grads.append((loss.item(), x.grad))
    assert grads[0][0] == grads[1][0]
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def test_anomaly_names_user_code_in_a_directory_beside_the_package() -> None:
    # A script in `retrograd_scripts/`, next to the package, is user code: its path only
    # starts with the package's.
    package = Path(user_frame.__code__.co_filename).resolve().parent.parent
    script = f"{package}_scripts/train.py"
    code = compile("x = rg.tensor([0.0], requires_grad=True)\n\nx.log()\n", script, "exec")
    with detect_anomaly(), np.errstate(divide="ignore"), pytest.raises(AnomalyError) as info:
        exec(code, {"rg": rg})
    assert f"created at {script}:3" in str(info.value)
