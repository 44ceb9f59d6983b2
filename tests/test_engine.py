"""Known answers for the classic engine bugs, and the backward contract.

Repeated use of a tensor, diamonds, broadcasting, repeated indices,
accumulation across calls, grad modes, detach, retain_grad, backward errors,
freeing of graphs (no reference cycles), very deep graphs, scope labels.
"""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import Function, ShapeError, cross_entropy, is_grad_enabled, scope


def _leaf(data: object, dtype: object = np.float64) -> rg.Tensor:
    return rg.tensor(data, dtype=dtype, requires_grad=True)


# ----- known answers -----
def test_add_self_twice_gradient_is_four() -> None:
    a = _leaf([1.0, -2.0])
    b = a + a
    c = b + b
    c.sum().backward()
    np.testing.assert_array_equal(a.grad, [4.0, 4.0])


def test_mul_self_gradient_is_two_x() -> None:
    x = _leaf([3.0, -1.5])
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [6.0, -3.0])


def test_diamond_gradient_sums_both_branches() -> None:
    a = _leaf([0.5, 2.0])
    left = a * 3.0
    right = a.exp()
    (left * right).sum().backward()
    expected = 3.0 * np.exp(a.data) + 3.0 * a.data * np.exp(a.data)
    np.testing.assert_allclose(a.grad, expected, rtol=1e-14)


def test_diamond_through_shared_non_leaf_gradient() -> None:
    a = _leaf(2.0)
    b = a * a  # b is used by both branches, which join again
    ((b + 1.0) * (b * 2.0)).backward()
    # d/da [2 (a^2 + 1) a^2] = 8 a^3 + 4 a
    assert a.grad == pytest.approx(8 * 8 + 4 * 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_broadcast_add_gradients_have_input_shapes_and_dtypes(dtype: type) -> None:
    a = _leaf(np.ones((3, 1)), dtype)
    b = _leaf(np.ones((1, 4)), dtype)
    (a + b).sum().backward()
    assert a.grad.shape == (3, 1) and a.grad.dtype == dtype
    assert b.grad.shape == (1, 4) and b.grad.dtype == dtype
    np.testing.assert_array_equal(a.grad, np.full((3, 1), 4.0))
    np.testing.assert_array_equal(b.grad, np.full((1, 4), 3.0))


def test_getitem_repeated_indices_accumulate_like_add_at() -> None:
    x = _leaf(np.arange(5.0))
    index = np.array([0, 3, 0, 0, 4, 3])
    upstream = np.arange(1.0, 7.0)
    x[index].backward(upstream)
    expected = np.zeros(5)
    np.add.at(expected, index, upstream)
    np.testing.assert_array_equal(x.grad, expected)


def test_getitem_repeated_index_pairs_accumulate() -> None:
    x = _leaf(np.zeros((2, 3)))
    x[[1, 1, 0], [2, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])


def test_take_repeated_rows_accumulate() -> None:
    weight = _leaf(np.zeros((4, 2)))
    rows = np.array([[2, 0], [2, 2]])
    rg.take(weight, rows).sum().backward()
    np.testing.assert_array_equal(weight.grad, [[1, 1], [0, 0], [3, 3], [0, 0]])


def test_take_empty_indices_gives_zero_gradient() -> None:
    weight = _leaf(np.ones((4, 2)))
    out = rg.take(weight, np.zeros((0,), dtype=np.int64))
    assert out.shape == (0, 2)
    (out.sum() + weight.sum()).backward()
    np.testing.assert_array_equal(weight.grad, np.ones((4, 2)))


def test_leaf_gradient_accumulates_across_backward_calls() -> None:
    x = _leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0 + 2.0, 3.0 + 4.0])
    x.zero_grad()
    assert x.grad is None


def test_unbind_gradient_is_zero_for_unused_pieces() -> None:
    x = _leaf(np.ones((3, 2)))
    first, _, last = x.unbind()
    (first * 2.0 + last).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])


def test_split_gradient_is_zero_for_unused_pieces() -> None:
    x = _leaf(np.ones((2, 5)))
    pieces = x.split(2, axis=1)
    assert [p.shape for p in pieces] == [(2, 2), (2, 2), (2, 1)]
    pieces[1].sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 1, 1, 0]] * 2)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_unbind_then_stack_gradient_routes_every_piece_back(axis: int) -> None:
    x = _leaf(np.arange(24.0).reshape(2, 3, 4))
    pieces = x.unbind(axis)
    weights = np.arange(1.0, len(pieces) + 1.0)
    joined = rg.stack([p * w for p, w in zip(pieces, weights)], axis=axis)
    joined.sum().backward()
    shape = [1, 1, 1]
    shape[axis] = len(pieces)
    np.testing.assert_array_equal(x.grad, np.broadcast_to(weights.reshape(shape), x.shape))


def test_permute_with_negative_axes_gradient_is_the_inverse_permutation() -> None:
    x = _leaf(np.arange(24.0).reshape(2, 3, 4))
    weights = np.arange(24.0).reshape(4, 2, 3)
    (x.permute(-1, 0, -2) * weights).sum().backward()
    np.testing.assert_array_equal(x.grad, weights.transpose(1, 2, 0))


# ----- grad modes, detach, requires_grad_, retain_grad -----
@pytest.mark.parametrize(
    ("op", "uses"),
    [
        (lambda ts: ts[0].tanh(), 1),
        (lambda ts: ts[0] * ts[1], 2),
        # The op's inputs are (condition, x, y): ts[1] is its third.
        (lambda ts: rg.where(np.array([True, False]), ts[0], ts[1]), 2),
        (lambda ts: rg.stack(ts), 4),
    ],
    ids=["one input", "two inputs", "three inputs", "four inputs"],
)
@pytest.mark.parametrize("position", range(4))
def test_any_single_input_that_needs_a_gradient_records_the_op(op, uses, position) -> None:
    tensors = [rg.tensor(np.array([0.25, 0.75])) for _ in range(4)]
    tensors[position].requires_grad = True
    out = op(tensors)
    assert out.requires_grad == (position < uses)
    if out.requires_grad:
        out.sum().backward()
        assert tensors[position].grad is not None


def test_no_grad_context_records_no_graph() -> None:
    x = _leaf([1.0, 2.0])
    with rg.no_grad():
        assert not is_grad_enabled()
        y = (x * 2.0).exp()
    assert is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad


def test_no_grad_decorator_records_no_graph() -> None:
    @rg.no_grad()
    def double(t: rg.Tensor) -> rg.Tensor:
        assert not is_grad_enabled()
        return t * 2.0

    y = double(_leaf([1.0]))
    assert is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad


def test_no_grad_restores_mode_when_exception_escapes() -> None:
    with pytest.raises(KeyError), rg.no_grad():
        raise KeyError("inside")
    assert is_grad_enabled()

    @rg.no_grad()
    def fail() -> None:
        raise KeyError("inside")

    with pytest.raises(KeyError):
        fail()
    assert is_grad_enabled()


def test_no_grad_decorator_holds_around_each_resume_of_a_generator() -> None:
    @rg.no_grad()
    def doubles(t: rg.Tensor):
        received = yield t * 2.0  # the body runs only when the generator is resumed
        while received is not None:
            try:
                received = yield received * 2.0
            except KeyError:
                received = yield t * 3.0
        return "done"

    x = _leaf([1.0])
    steps = doubles(x)
    first = next(steps)
    assert is_grad_enabled()  # not between resumes
    sent = steps.send(x)
    thrown = steps.throw(KeyError("in"))
    with pytest.raises(StopIteration) as stop:
        steps.send(None)
    assert stop.value.value == "done"
    assert not any(t.requires_grad for t in (first, sent, thrown))
    assert thrown.tolist() == [3.0] and is_grad_enabled()


def test_no_grad_object_entered_inside_itself_restores_each_level() -> None:
    # Each outer block restores the mode on its way out, whatever happens inside it.
    for outer, again in ((rg.enable_grad(), rg.no_grad()), (rg.no_grad(), rg.enable_grad())):
        with outer:
            with again:
                with again:
                    pass
                assert is_grad_enabled() is again._enable
            assert is_grad_enabled() is outer._enable


def test_enable_grad_inside_no_grad_records() -> None:
    x = _leaf([1.0, 2.0])
    with rg.no_grad():
        with rg.enable_grad():
            y = x * x
        z = x * x
        assert not is_grad_enabled()
    assert y.grad_fn is not None and y.requires_grad
    assert z.grad_fn is None
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


def test_detach_shares_data_and_cuts_graph() -> None:
    x = _leaf([1.0, 2.0])
    y = x * 2.0
    d = y.detach()
    assert d.data is y.data
    assert d.grad_fn is None and not d.requires_grad and d.is_leaf
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])  # only the direct path, not via y


def test_requires_grad_marks_a_leaf() -> None:
    x = rg.tensor([1.0, 2.0])
    assert x.requires_grad_() is x and x.requires_grad
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    x.requires_grad_(False)
    assert (x * x).grad_fn is None


def test_requires_grad_false_on_non_leaf_raises() -> None:
    y = _leaf([1.0]) * 2.0
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_retain_grad_keeps_non_leaf_gradient() -> None:
    x = _leaf([1.0, 2.0])
    hidden = x * 3.0
    kept = hidden.retain_grad()
    other = x * 2.0
    (kept * kept + other).sum().backward()
    assert kept is hidden
    np.testing.assert_array_equal(hidden.grad, 2 * hidden.data)
    assert other.grad is None


# ----- backward errors -----
def test_backward_on_non_scalar_without_gradient_raises() -> None:
    y = _leaf([1.0, 2.0]) * 2.0
    with pytest.raises(RuntimeError, match=r"scalar.*\(2,\)"):
        y.backward()


def test_backward_on_tensor_without_grad_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        (rg.tensor([1.0, 2.0]) * 2.0).sum().backward()


def test_second_backward_through_freed_graph_raises() -> None:
    x = _leaf([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_second_backward() -> None:
    x = _leaf([1.0, 2.0])
    loss = (x.exp() * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first, rtol=1e-15)


def test_backward_with_explicit_gradient_of_wrong_shape_raises() -> None:
    y = _leaf(np.ones((2, 3))) * 2.0
    with pytest.raises(ShapeError, match=r"\(3, 2\).*\(2, 3\)"):
        y.backward(np.ones((3, 2)))


def test_backward_with_explicit_gradient_weights_outputs() -> None:
    x = _leaf([1.0, 2.0, 3.0])
    (x * x).backward(rg.tensor([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, -6.0])


# ----- memory -----
@pytest.fixture
def no_gc() -> Iterator[None]:
    """Run with the cycle collector off: only reference counting may free the graph."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    yield
    if was_enabled:
        gc.enable()


def test_tensor_supports_weakref() -> None:
    x = rg.tensor([1.0])
    ref = weakref.ref(x)
    assert ref() is x
    del x
    assert ref() is None


def _small_graph(x: rg.Tensor) -> tuple[rg.Tensor, list[weakref.ref]]:
    """A loss over a few ops; weakrefs to its intermediates and saved arrays."""
    hidden = (x * 2.0).tanh()
    logits = hidden @ rg.tensor(np.ones((3, 4)))
    loss = cross_entropy(logits, np.array([0, 3]))
    refs = [weakref.ref(t) for t in (hidden, logits)]
    refs.append(weakref.ref(hidden.grad_fn.saved))  # tanh keeps its output
    refs.append(weakref.ref(loss.grad_fn.saved[0]))  # cross_entropy keeps softmax
    return loss, refs


def test_graph_freed_on_del_without_cycles(no_gc: None) -> None:
    x = _leaf(np.ones((2, 3)))
    loss, refs = _small_graph(x)
    assert all(r() is not None for r in refs)
    del loss
    assert all(r() is None for r in refs)


def test_graph_freed_on_del_after_backward(no_gc: None) -> None:
    x = _leaf(np.ones((2, 3)))
    loss, refs = _small_graph(x)
    loss.backward()
    assert refs[-1]() is None  # backward released the saved arrays already
    del loss
    assert all(r() is None for r in refs)
    assert x.grad is not None


# ----- depth -----
@pytest.fixture
def default_recursion_limit() -> Iterator[None]:
    """Run at CPython's default recursion limit; fail if the engine changes it."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    assert sys.getrecursionlimit() == 1000, "the engine changed the recursion limit"
    sys.setrecursionlimit(previous)


def test_chain_of_100k_ops_backprops(default_recursion_limit: None) -> None:
    x = _leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**100_000, rel=1e-9)


def test_tanh_recurrence_of_10k_steps_backprops(default_recursion_limit: None) -> None:
    rng = np.random.default_rng(0)
    steps, hidden = 10_000, 8
    inputs = _leaf(rng.standard_normal((steps, hidden)))
    weight = _leaf(rng.standard_normal((hidden, hidden)) * 0.3)
    h = rg.zeros(hidden, dtype=np.float64)
    for x_t in inputs.unbind(0):
        h = (h @ weight + x_t).tanh()
    h.sum().backward()
    assert inputs.grad.shape == (steps, hidden) and weight.grad.shape == (hidden, hidden)
    assert np.isfinite(inputs.grad).all() and np.isfinite(weight.grad).all()
    # The last input reaches the loss through one tanh only.
    np.testing.assert_allclose(inputs.grad[-1], 1 - h.data**2, rtol=1e-14)


# ----- graph records: scope labels and parents -----
def test_scope_labels_recorded_nodes() -> None:
    x = _leaf([1.0])
    with scope("t=3"):
        y = x * 2.0
    assert y.grad_fn.scope == "t=3"
    assert (x * 2.0).grad_fn.scope is None


def test_nested_scopes_join_with_slash() -> None:
    x = _leaf([1.0])
    with scope("rnn"), scope("t=0"):
        y = x.tanh()
    assert y.grad_fn.scope == "rnn/t=0"


def test_scope_object_entered_inside_itself_restores_each_level() -> None:
    x = _leaf([1.0])
    step = scope("step")
    with scope("outer"):  # restores the scope on its way out, whatever happens inside
        with step:
            with step:
                inner = x * 2.0
            middle = x * 2.0
        outer = x * 2.0
    assert [t.grad_fn.scope for t in (inner, middle, outer)] == [
        "outer/step/step",
        "outer/step",
        "outer",
    ]


def test_scope_restored_after_exception() -> None:
    x = _leaf([1.0])
    with scope("outer"):
        with pytest.raises(KeyError), scope("inner"):
            raise KeyError("inside")
        y = x * 2.0
    assert y.grad_fn.scope == "outer"
    assert (x * 2.0).grad_fn.scope is None


def test_backward_visits_no_node_that_receives_no_gradient(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(ctx: object, grad: np.ndarray) -> tuple:
        raise AssertionError("backward of a node that received no gradient")

    def first_only(ctx: object, grad: np.ndarray) -> tuple:
        return grad, None

    monkeypatch.setattr(Function.registry["exp"], "backward", staticmethod(never))
    monkeypatch.setattr(Function.registry["sub"], "backward", staticmethod(first_only))
    x = _leaf([1.0, 2.0])
    (x - x.exp()).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_params_of_an_op_without_parameters_are_empty_and_read_only() -> None:
    params = (_leaf([1.0]) + 1.0).grad_fn.params
    assert dict(params) == {}
    with pytest.raises(TypeError):
        params["axis"] = 0  # shared by every such node: a write would reach them all
    assert (_leaf([[1.0]]).sum(axis=0)).grad_fn.params == {"axis": (0,), "keepdims": False}


def test_node_parents_are_ordered_and_keep_duplicates() -> None:
    x = _leaf([1.0])
    w = _leaf([2.0])
    square = (x * x).grad_fn.parents
    assert len(square) == 2 and square[0] is x and square[1] is x
    difference = (w - x).grad_fn.parents
    assert difference[0] is w and difference[1] is x
