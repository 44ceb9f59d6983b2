"""Backward after an in-place change refuses only where PyTorch does: where the gradient
needs the changed values.

An op whose backward reads no input values (`Function.reads_inputs` False: add,
sum, reshape...) backpropagates with PyTorch's gradients after an input changed in
place; one that reads them (mul, matmul, log...) is refused, as in PyTorch. A
rebinding of `data` to another shape or dtype is refused for every op. Every op
declared not to read its inputs is checked over the op table: its backward must give
the same gradients when the inputs' values are replaced by garbage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import retrograd as rg
from retrograd.autograd import Function
from retrograd.autograd.engine import PendingSum
from retrograd.autograd.graph import Node
from retrograd.autograd.ops import Div, Linear, Log, Matmul, Max, Mul, Take, Where
from tests.op_table import EXTRA_CASES, OPS, OpCase, first_example

STALE = "modified in place after being saved for backward"
W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
X = np.array([[3.0, 4.0, -1.0], [0.5, -2.0, 1.0]])

# Ops of a weight w (requires grad) and a constant x of W's shape: (retrograd, torch).
WITH_CONSTANT: dict[str, tuple[Callable, Callable]] = {
    "add": (lambda w, x: w + x, lambda w, x, t: w + x),
    "sub": (lambda w, x: x - w, lambda w, x, t: x - w),
    "concat": (lambda w, x: rg.concat([x, w], axis=1), lambda w, x, t: t.cat([x, w], dim=1)),
    "stack": (lambda w, x: rg.stack([w, x], axis=-1), lambda w, x, t: t.stack([w, x], dim=-1)),
}

# Ops of the weight alone, which is modified itself (under no_grad): (retrograd, torch).
OF_WEIGHT: dict[str, tuple[Callable, Callable]] = {
    "neg": (lambda w: -w, lambda w, t: -w),
    "exp": (lambda w: w.exp(), lambda w, t: w.exp()),
    "tanh": (lambda w: w.tanh(), lambda w, t: w.tanh()),
    "tan": (lambda w: w.tan(), lambda w, t: w.tan()),
    "expm1": (lambda w: w.expm1(), lambda w, t: w.expm1()),
    "sigmoid": (lambda w: w.sigmoid(), lambda w, t: w.sigmoid()),
    "relu": (lambda w: w.relu(), lambda w, t: w.relu()),
    "cast": (lambda w: w.astype(np.float32), lambda w, t: w.to(t.float32)),
    "sum": (lambda w: w.sum(axis=1), lambda w, t: w.sum(dim=1)),
    "mean": (lambda w: w.mean(axis=0), lambda w, t: w.mean(dim=0)),
    "reshape": (lambda w: w.reshape(-1), lambda w, t: w.reshape(-1)),
    "permute": (lambda w: w.T, lambda w, t: w.T),
    "expand": (lambda w: w.expand(3, 2, 3), lambda w, t: w.expand(3, 2, 3)),
    "getitem": (lambda w: w[1:, ::2], lambda w, t: w[1:, ::2]),
    "getitem_fancy": (lambda w: w[np.array([1, 0, 1])], lambda w, t: w[t.tensor([1, 0, 1])]),
    "split": (
        lambda w: rg.concat(w.split([1, 2], axis=1)[::-1], axis=1),
        lambda w, t: t.cat(w.split([1, 2], dim=1)[::-1], dim=1),
    ),
    "unbind": (lambda w: w.unbind(0)[1], lambda w, t: w.unbind(0)[1]),
}

# Ops whose backward reads the changed values: refused here and by PyTorch. The weight
# (changed under no_grad) or the constant x (changed directly) is modified.
READING: dict[str, tuple[Callable, Callable, str]] = {
    "mul": (lambda w, x: w * x, lambda w, x, t: w * x, "x"),
    "div": (lambda w, x: w / x, lambda w, x, t: w / x, "x"),
    "div_by_weight": (lambda w, x: x / w, lambda w, x, t: x / w, "w"),
    "pow": (lambda w, x: x.abs() ** w, lambda w, x, t: x.abs() ** w, "w"),
    "maximum": (rg.maximum, lambda w, x, t: t.maximum(w, x), "x"),
    "matmul": (lambda w, x: w @ x.T, lambda w, x, t: w @ x.T, "x"),
    "linear": (rg.linear, lambda w, x, t: t.nn.functional.linear(w, x), "x"),
    "log": (lambda w, x: w.abs().log() + x, lambda w, x, t: w.abs().log() + x, "w"),
    "abs": (lambda w, x: w.abs() + x, lambda w, x, t: w.abs() + x, "w"),
    "max": (lambda w, x: w.max(axis=0) + x, lambda w, x, t: w.amax(dim=0) + x, "w"),
    "prod": (lambda w, x: w.prod(axis=0), lambda w, x, t: w.prod(dim=0), "w"),
    "logsumexp": (
        lambda w, x: w.logsumexp(axis=1),
        lambda w, x, t: w.logsumexp(dim=1),
        "w",
    ),
    "view_then_mul": (
        lambda w, x: w.reshape(-1) * w.reshape(-1),
        lambda w, x, t: w.reshape(-1) * w.reshape(-1),
        "w",
    ),
}


def _setitem(t: Any) -> None:
    t[0] = 5.0


def _add_(t: Any) -> None:
    t.add_(1.0)


def _data_sub(t: Any) -> None:
    t.data -= 1.5  # the same array, written in place


def _rebind_same_layout(t: Any) -> None:
    t.data = t.data * 2.0 + 1.0  # a new array of the same shape and dtype


MODIFY: dict[str, Callable[[Any], None]] = {
    "setitem": _setitem,
    "add_": _add_,
    "data_sub": _data_sub,
    "rebind_same_layout": _rebind_same_layout,
}


def _repeats(size: int) -> np.ndarray:
    """Each position i of a flat array i + 1 times: summed, a weighted sum whose gradient
    differs at every position, made of ops that read no input values (reshape, indexing,
    sum), so that the loss itself refuses no in-place change."""
    return np.repeat(np.arange(size), np.arange(1, size + 1))


def _loss(out: Any, index: Callable = np.asarray) -> Any:
    flat = out.reshape(-1)
    return flat[index(_repeats(flat.shape[0]))].sum()


def _torch_grad(
    torch: Any, fn: Callable, modify: Callable, target: str, with_x: bool = True
) -> np.ndarray:
    """w.grad from PyTorch for loss = _loss(fn(w, x)) with `target` modified after forward."""
    w = torch.tensor(W, requires_grad=True)
    x = torch.tensor(X)
    out = fn(w, x, torch) if with_x else fn(w, torch)
    loss = _loss(out, torch.as_tensor)
    with torch.no_grad():
        modify(w if target == "w" else x)
    loss.backward()
    return w.grad.numpy()


@pytest.mark.parametrize("modify", sorted(MODIFY))
@pytest.mark.parametrize("name", sorted(WITH_CONSTANT))
def test_constant_modified_after_forward_gives_torchs_gradient(name: str, modify: str) -> None:
    torch = pytest.importorskip("torch")
    w = rg.tensor(W, requires_grad=True)
    x = rg.tensor(X)
    loss = _loss(WITH_CONSTANT[name][0](w, x))
    MODIFY[modify](x)
    loss.backward()
    expected = _torch_grad(torch, WITH_CONSTANT[name][1], MODIFY[modify], "x")
    np.testing.assert_allclose(w.grad, expected, rtol=1e-12)


@pytest.mark.parametrize("modify", ["setitem", "add_", "rebind_same_layout"])
@pytest.mark.parametrize("name", sorted(OF_WEIGHT))
def test_weight_modified_after_forward_gives_torchs_gradient(name: str, modify: str) -> None:
    torch = pytest.importorskip("torch")
    w = rg.tensor(W, requires_grad=True)
    loss = _loss(OF_WEIGHT[name][0](w))
    with rg.no_grad():
        MODIFY[modify](w)
    loss.backward()
    expected = _torch_grad(torch, OF_WEIGHT[name][1], MODIFY[modify], "w", with_x=False)
    np.testing.assert_allclose(w.grad, expected, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(READING))
def test_ops_reading_the_changed_values_stay_refused_as_in_torch(name: str) -> None:
    torch = pytest.importorskip("torch")
    fn, torch_fn, target = READING[name]
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        _torch_grad(torch, torch_fn, _add_, target)
    w = rg.tensor(W, requires_grad=True)
    x = rg.tensor(X)
    loss = _loss(fn(w, x))
    with rg.no_grad():
        _add_(w if target == "w" else x)
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()
    assert w.grad is None


def test_take_refuses_indices_changed_after_forward_as_torch() -> None:
    torch = pytest.importorskip("torch")
    t_weight, t_rows = torch.tensor(W.T, requires_grad=True), torch.tensor([0, 2, 2])
    t_loss = t_weight[t_rows].sum()
    t_rows.add_(0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        t_loss.backward()
    weight, rows = rg.tensor(W.T, requires_grad=True), rg.tensor([0, 2, 2])
    loss = rg.take(weight, rows).sum()
    rows.add_(0)
    with pytest.raises(RuntimeError, match=rf"input 1 of op 'take' .*{STALE}"):
        loss.backward()


REBIND: dict[str, Callable[[rg.Tensor], None]] = {
    "broadcastable_shape": lambda t: setattr(t, "data", np.ones((1, 3))),
    "flat_shape": lambda t: setattr(t, "data", t.data.reshape(-1)),
    "dtype": lambda t: setattr(t, "data", t.data.astype(np.float32)),
}


@pytest.mark.parametrize("target", ["w", "x"])
@pytest.mark.parametrize("rebind", sorted(REBIND))
@pytest.mark.parametrize("name", ["add", "concat"])
def test_rebinding_to_another_shape_or_dtype_is_refused(name: str, rebind: str, target: str):
    w = rg.tensor(W, requires_grad=True)
    x = rg.tensor(X)
    w.name, x.name = "w", "x"
    loss = _loss(WITH_CONSTANT[name][0](w, x))
    with rg.no_grad():
        REBIND[rebind](w if target == "w" else x)
    with pytest.raises(RuntimeError, match=rf"op '{name}' \(tensor '{target}' .*{STALE}"):
        loss.backward()
    assert w.grad is None


@pytest.mark.parametrize("name", ["sum", "reshape", "cast", "split"])
def test_rebinding_a_weight_to_another_shape_and_back_is_refused(name: str) -> None:
    w = rg.tensor(W, requires_grad=True)
    loss = _loss(OF_WEIGHT[name][0](w))
    original = w.data
    with rg.no_grad():
        w.data = original.reshape(3, 2)
        w.data = original.copy()
    with pytest.raises(RuntimeError, match=STALE):
        loss.backward()


def test_saved_output_written_through_an_alias_stays_refused_for_an_op_not_reading_inputs():
    w = rg.tensor(W, requires_grad=True)
    y = w.tanh()  # tanh saves its output
    loss = y.sum()
    y.detach()[0] = 0.0
    with pytest.raises(RuntimeError, match=rf"saved by op 'tanh' .*{STALE}"):
        loss.backward()


def _run_with_optimizer_step(make_loss: Callable, optimizer: Any) -> None:
    """One iteration's backward and a second iteration's forward, then the step (with the
    first gradients) between that forward and its backward."""
    make_loss().backward()
    loss = make_loss()
    optimizer.step()
    loss.backward()


MODELS: dict[str, Callable] = {
    "add_only": lambda w, b, x: ((w + b) - x).sum(1),
    "mul": lambda w, b, x: (w * b).sum(1) + x.sum(1),
}


@pytest.mark.parametrize("model", sorted(MODELS))
def test_optimizer_step_between_forward_and_backward_behaves_as_torch(model: str) -> None:
    torch = pytest.importorskip("torch")
    fn = MODELS[model]
    b0 = np.array([0.5, -0.5, 2.0])
    t_w, t_b = torch.tensor(W, requires_grad=True), torch.tensor(b0, requires_grad=True)
    t_x = torch.tensor(X)
    t_opt = torch.optim.SGD([t_w, t_b], lr=0.1, momentum=0.9)
    w, b = rg.tensor(W, requires_grad=True), rg.tensor(b0, requires_grad=True)
    x = rg.tensor(X)
    opt = rg.optim.SGD([w, b], lr=0.1, momentum=0.9)

    try:
        _run_with_optimizer_step(lambda: _loss(fn(t_w, t_b, t_x), torch.as_tensor), t_opt)
    except RuntimeError as err:
        assert "modified by an inplace operation" in str(err)
        with pytest.raises(RuntimeError, match=STALE):
            _run_with_optimizer_step(lambda: _loss(fn(w, b, x)), opt)
        assert model == "mul"
        return
    _run_with_optimizer_step(lambda: _loss(fn(w, b, x)), opt)
    assert model == "add_only"
    for mine, theirs in ((w, t_w), (b, t_b)):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(mine.data, theirs.detach().numpy(), rtol=1e-12)


# ----- every op declared not to read its inputs, checked with garbage inputs -----

CASES: dict[str, OpCase] = {**OPS, **EXTRA_CASES}
NOT_READING = sorted(
    name for name, op in Function.registry.items() if op.differentiable and not op.reads_inputs
)


def _garbage(values: np.ndarray) -> np.ndarray:
    """Values of the same shape and dtype, each different from the one it replaces."""
    if values.dtype == bool:
        return ~values
    return values + 1 + np.abs(values)


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


def _snapshot(value: Any) -> Any:
    """A copy of a gradient or a list of them (None kept, a pending sum combined)."""
    if isinstance(value, list | tuple):
        return [None if g is None else _snapshot(g) for g in value]
    return value.value() if isinstance(value, PendingSum) else np.array(value)


def _backward_with_garbage_inputs(op: type[Function], node: Node, grad: Any) -> Any:
    """`op`'s backward at `node` with every input's values replaced by garbage (in the input's
    own memory, so arrays saved from it change too; a read-only input is rebound), then
    the inputs restored. An error counts as a changed gradient: None is returned."""
    originals = [p._data for p in node.parents]
    copies = [np.array(a) for a in originals]
    for parent, array in zip(node.parents, originals):
        if array.flags.writeable:
            np.copyto(array, _garbage(array))
        else:
            parent._data = _garbage(array)
    try:
        with np.errstate(all="ignore"):
            return _snapshot(op.__dict__["backward"].__func__(node, grad))
    except (ArithmeticError, ValueError, IndexError):
        return None
    finally:
        for parent, array, copy in zip(node.parents, originals, copies):
            if array.flags.writeable:
                np.copyto(array, copy)
            parent._data = array


def _check_with_garbage(case: OpCase, arrays: tuple) -> tuple[set[str], set[str]]:
    """Run `case` on `arrays` and backward; return (the ops declared not to read their inputs
    whose backward ran, those among them whose gradients changed when the inputs held
    garbage)."""
    calls: list[tuple[type[Function], Node, Any, Any]] = []

    def recorder(op: type[Function]) -> Callable:
        backward = op.__dict__["backward"].__func__

        def record(ctx: Node, grad: Any) -> Any:
            result = backward(ctx, grad)
            calls.append((op, ctx, _snapshot(grad), _snapshot(result)))
            return result

        return staticmethod(record)

    inputs = [rg.tensor(a, requires_grad=True) for a in arrays]
    with pytest.MonkeyPatch.context() as patch:
        for op in Function.registry.values():
            if not op.reads_inputs:
                patch.setattr(op, "backward", recorder(op))
        out = case.fn(*inputs)
        upstream = np.random.default_rng(0).uniform(1.0, 2.0, out.shape).astype(out.dtype)
        out.backward(upstream, retain_graph=True)
    changed = set()
    for op, node, grad, result in calls:
        again = _backward_with_garbage_inputs(op, node, grad)
        if again is None or not all(_same(a, b) for a, b in zip(result, again, strict=True)):
            changed.add(op.name)
    return {op.name for op, *_ in calls}, changed


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_ops_declared_not_reading_inputs_ignore_garbage_inputs(name: str, data) -> None:
    _, changed = _check_with_garbage(CASES[name], data.draw(CASES[name].inputs))
    assert not changed, f"{sorted(changed)} read their inputs' values: set reads_inputs = True"


def test_every_op_declared_not_reading_inputs_is_checked_with_garbage() -> None:
    checked = set().union(
        *(_check_with_garbage(case, first_example(case))[0] for case in CASES.values())
    )
    assert set(NOT_READING) <= checked
    assert {"add", "sub", "neg", "sum", "reshape", "getitem", "concat", "split"} <= checked


@pytest.mark.parametrize(
    ("case", "op"),
    [
        ("mul", Mul),
        ("div", Div),
        ("log", Log),
        ("nll_loss_weight", Where),
        ("max", Max),
        ("matmul", Matmul),
        ("linear", Linear),
        ("take", Take),
    ],
)
def test_garbage_check_catches_an_op_wrongly_declared_not_reading_inputs(case, op) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(op, "reads_inputs", False)
        _, changed = _check_with_garbage(CASES[case], first_example(CASES[case]))
    assert op.name in changed
