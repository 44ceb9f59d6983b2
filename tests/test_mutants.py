"""The gradient checks have teeth: deliberately broken gradient rules are caught.

Each mutant patches one realistic bug into the engine or an op's backward
(monkeypatch restores it afterwards), then runs the op suite's own checks
(tests/op_table.py through gradcheck, plus the gradient shape and dtype
check) for the cases that exercise that code, and expects them to fail.
The same cases pass without the mutant, and the fuzzer of
tests/test_fuzz_programs.py must catch every mutant as well.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import Phase, given, settings

import retrograd as rg
from retrograd.autograd import Function, engine, gradcheck
from retrograd.autograd.engine import PendingSum
from retrograd.autograd.ops import reduce as reduce_ops
from tests.op_table import EXTRA_CASES, OPS
from tests.test_fuzz_programs import PROGRAMS, Program, programs, run

CASES = {**OPS, **EXTRA_CASES}
EXAMPLES = 50
# A wrong gradient (GradcheckError is an AssertionError), or a crash on its wrong shape.
FAILURES = (AssertionError, ValueError, IndexError)


def check_case(name: str, examples: int = EXAMPLES) -> None:
    """The op suite's checks of one op-table case over a few drawn examples."""
    case = CASES[name]

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        report_multiple_bugs=False,
    )
    @given(case.inputs)
    def check(arrays: tuple) -> None:
        inputs = [rg.tensor(a, requires_grad=True) for a in arrays]
        gradcheck(case.fn, inputs, **case.tolerance)
        case.fn(*inputs).sum().backward()
        for x in inputs:
            assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == x.dtype

    check()


def check_fuzzed_programs() -> None:
    """The fuzzer's central-difference check, stopping at the first failure (no shrinking).

    The two keepdims mutants need a reduction over non-leading axes: the fuzzer
    meets one in about 1 program of 300, so within its usual 600 programs it misses
    them in 1 to 3 runs out of 10, and hypothesis's derived seed is not the same in
    every process. Five times as many programs bring a miss down to about 1 run in
    20,000; a mutant caught stops the run at once. The op suite catches them every time.
    """

    @settings(max_examples=5 * PROGRAMS, derandomize=True, database=None, phases=[Phase.generate])
    @given(programs())
    def check(program: Program) -> None:
        leaves = [rg.tensor(a, requires_grad=True) for a in program.inputs]
        gradcheck(lambda *xs: run(program, list(xs)), leaves)

    check()


# ----- the mutants -----
def _patch_backward(monkeypatch: pytest.MonkeyPatch, op: str, backward: Callable) -> None:
    monkeypatch.setattr(Function.registry[op], "backward", staticmethod(backward))


def materialized(grad):
    """A gradient as an array (a leaf weight's or bias's gradient from `linear` comes in parts)."""
    return grad.value() if isinstance(grad, PendingSum) else grad


def scaled(op: str) -> Callable[[pytest.MonkeyPatch], None]:
    """The rule of `op`, every gradient scaled by 1.01."""

    def apply(monkeypatch: pytest.MonkeyPatch) -> None:
        honest = Function.registry[op].backward

        def backward(ctx, grad):
            grads = honest(ctx, grad)
            return tuple(None if g is None else materialized(g) * 1.01 for g in grads)

        _patch_backward(monkeypatch, op, backward)

    return apply


def matmul_without_transpose(monkeypatch: pytest.MonkeyPatch) -> None:
    def backward(ctx, grad):
        a, b = ctx.saved
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        grad = np.expand_dims(grad, -1) if b.ndim == 1 else grad
        grad = np.expand_dims(grad, -2) if a.ndim == 1 else grad
        grad_a = np.matmul(grad, b2)  # the bug: b2 should be transposed
        grad_b = np.matmul(np.swapaxes(a2, -1, -2), grad)
        return (grad_a[..., 0, :] if a.ndim == 1 else grad_a), (
            grad_b[..., 0] if b.ndim == 1 else grad_b
        )

    _patch_backward(monkeypatch, "matmul", backward)


def output_assigned_not_summed(monkeypatch: pytest.MonkeyPatch) -> None:
    """`=` instead of `+=` when a node's output is used twice: the last use wins."""
    honest = engine._add_output

    def add_output(grads, tensor, grad):
        if tensor._node.op.multiple_outputs:
            honest(grads, tensor, grad)
        else:
            grads[tensor._node] = grad

    monkeypatch.setattr(engine, "_add_output", add_output)


def piece_assigned_not_summed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same for one output of a multi-output op (a piece of split or unbind)."""
    honest = engine._add_output

    def add_output(grads, tensor, grad):
        node = tensor._node
        if node.op.multiple_outputs:
            grads.setdefault(node, [None] * node.n_outputs)[tensor._index] = grad
        else:
            honest(grads, tensor, grad)

    monkeypatch.setattr(engine, "_add_output", add_output)


def leaf_assigned_not_summed(monkeypatch: pytest.MonkeyPatch) -> None:
    """`=` instead of `+=` when a leaf is used twice."""
    monkeypatch.setattr(
        engine, "_add_leaf", lambda leaves, leaf, grad: leaves.update({id(leaf): [leaf, grad, 0]})
    )


def getitem_plain_add(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fancy-index `+=` instead of np.add.at: repeated indices count once."""

    def backward(ctx, grad):
        out = np.zeros(ctx.parents[0].data.shape, dtype=grad.dtype)
        out[ctx.params["index"]] += grad
        return (out,)

    _patch_backward(monkeypatch, "getitem", backward)


def take_plain_add(monkeypatch: pytest.MonkeyPatch) -> None:
    def backward(ctx, grad):
        weight, indices = (p.data for p in ctx.parents)
        out = np.zeros(weight.shape, dtype=grad.dtype)
        out[indices] += grad
        return out, None

    _patch_backward(monkeypatch, "take", backward)


def sum_forgets_keepdims(monkeypatch: pytest.MonkeyPatch) -> None:
    def backward(ctx, grad):
        return (np.broadcast_to(grad, ctx.parents[0].data.shape),)

    _patch_backward(monkeypatch, "sum", backward)


def max_forgets_keepdims(monkeypatch: pytest.MonkeyPatch) -> None:
    def backward(ctx, grad):
        a, out = ctx.saved
        grad = reduce_ops._keep_axes(grad, ctx.params["axis"], ctx.params["keepdims"])
        mask = (a == out).astype(grad.dtype)
        return (mask * (grad / mask.sum(axis=ctx.params["axis"])),)

    _patch_backward(monkeypatch, "max", backward)


def sum_to_forgets_keepdims(monkeypatch: pytest.MonkeyPatch) -> None:
    def sum_to(grad, shape, op=""):
        lead = grad.ndim - len(shape)
        ones = [lead + i for i, s in enumerate(shape) if s == 1 and grad.shape[lead + i] != 1]
        return grad.sum(axis=tuple(range(lead)) + tuple(ones))

    monkeypatch.setattr(engine, "sum_to", sum_to)


# Each mutant and the op-table cases that must catch it.
MUTANTS: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], tuple[str, ...]]] = {
    "matmul_without_transpose": (matmul_without_transpose, ("matmul",)),
    "output_assigned_not_summed": (output_assigned_not_summed, ("shared_intermediate",)),
    "piece_assigned_not_summed": (piece_assigned_not_summed, ("unbind",)),
    "leaf_assigned_not_summed": (leaf_assigned_not_summed, ("concat", "getitem", "stack")),
    "getitem_plain_add": (getitem_plain_add, ("getitem",)),
    "take_plain_add": (take_plain_add, ("take",)),
    "sum_forgets_keepdims": (sum_forgets_keepdims, ("sum",)),
    "max_forgets_keepdims": (max_forgets_keepdims, ("max_keepdims",)),
    "sum_to_forgets_keepdims": (sum_to_forgets_keepdims, ("add", "mul", "where")),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_rule_scaled_by_one_percent_is_caught(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    scaled(name)(monkeypatch)
    with pytest.raises(FAILURES):
        check_case(name)


@pytest.mark.parametrize(
    ("mutant", "case"), [(m, c) for m, (_, cases) in sorted(MUTANTS.items()) for c in cases]
)
def test_mutant_is_caught_by_the_op_suite(
    monkeypatch: pytest.MonkeyPatch, mutant: str, case: str
) -> None:
    MUTANTS[mutant][0](monkeypatch)
    with pytest.raises(FAILURES):
        check_case(case)


@pytest.mark.parametrize("mutant", [*sorted(MUTANTS), "tanh_scaled"])
def test_mutant_is_caught_by_the_fuzzer(monkeypatch: pytest.MonkeyPatch, mutant: str) -> None:
    apply = scaled("tanh") if mutant == "tanh_scaled" else MUTANTS[mutant][0]
    apply(monkeypatch)
    with pytest.raises(FAILURES):
        check_fuzzed_programs()


@pytest.mark.parametrize("case", sorted({c for _, cases in MUTANTS.values() for c in cases}))
def test_mutant_cases_pass_without_mutants(case: str) -> None:
    check_case(case)
