"""Differential tests against PyTorch: values and gradients of every op, in float64.

Each row of `CASES` applies one op the same way in both libraries to the same
random inputs; values and the gradients of a random weighted sum of the
outputs must agree to ~1e-10. Adding an op is adding one line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import Function, cross_entropy, topological_order

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL = 1e-10
ATOL = 1e-12

# Fixed non-differentiable operands (indices, masks, targets) shared by both sides.
ROWS = np.array([0, 2, 2, 0, 0])
ROWS_2D = np.array([[1, 1, 3], [0, 3, 3]])
PAIR = (np.array([0, 0, 2, 2]), np.array([1, 1, 3, 0]))
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
COND = np.array([[True, False, False, True], [False, True, True, True], [True, False, True, False]])
TARGET = np.array([2, 0, 3, 3, 1])
TARGET_IGNORED = np.array([2, -100, 3, -100, 1])
TARGET_3D = np.array([[0, 3, 2, 2, 1], [3, 3, 0, 1, 2], [1, 0, -100, 2, 3]])
ROWS_PER_COLUMN = np.array([[0, 2, 1, 0], [2, 1, 0, 1]])  # no place named twice
COLUMNS_REPEATED = np.array([[3, 0, 3], [1, 1, 2], [0, 0, 0]])
NONFINITE = np.array([[0.0, np.nan, 0.0, np.inf], [-np.inf, 0.0, np.nan, 0.0], [0.0] * 4])


def _torch_index(index: Any) -> Any:
    """The same index for torch: arrays become tensors, tuples are converted item by item."""
    if isinstance(index, tuple):
        return tuple(_torch_index(i) for i in index)
    if isinstance(index, np.ndarray):
        return torch.as_tensor(index)
    return index


@dataclass(frozen=True)
class Case:
    """One op applied to inputs of `shapes`; `theirs` defaults to `ours` when spelled alike.

    `domain` picks the input values: "real" (standard normal), "positive" (for
    log, sqrt, division and pow bases) or "ties" (values in {-0.5, 0, 0.5}, so
    max/min/maximum/clip meet equal values and boundaries). `infinite` marks a
    case whose values include infinities (0 to a negative power): NumPy's divide
    and invalid-value warnings are then expected and silenced.
    """

    name: str
    shapes: tuple[tuple[int, ...], ...]
    ours: Callable[..., Any]
    theirs: Callable[..., Any] | None = None
    domain: str = "real"
    infinite: bool = False

    def numerics(self) -> contextlib.AbstractContextManager:
        """NumPy's floating-point warnings as this case expects them."""
        if self.infinite:
            return np.errstate(divide="ignore", invalid="ignore")
        return contextlib.nullcontext()


def index_case(name: str, shape: tuple[int, ...], index: Any) -> Case:
    """A `__getitem__` case: the same index on both sides."""
    return Case(name, (shape,), lambda x: x[index], lambda x: x[_torch_index(index)])


CASES = [
    # arithmetic, with broadcasting and Python scalars on either side
    Case("add", ((3, 4), (3, 4)), lambda a, b: a + b),
    Case("add_broadcast", ((3, 1), (1, 4)), lambda a, b: a + b),
    Case("add_self", ((3,),), lambda a: a + a),
    Case("add_scalar", ((3, 4),), lambda a: 2.5 + a),
    Case("sub_broadcast", ((2, 3, 4), (4,)), lambda a, b: a - b),
    Case("rsub_scalar", ((3, 4),), lambda a: 2.0 - a),
    Case("mul_broadcast", ((3, 1), (2, 1, 4)), lambda a, b: a * b),
    Case("mul_self", ((3, 4),), lambda a: a * a),
    Case("div", ((3, 4), (4,)), lambda a, b: a / b, domain="positive"),
    Case("div_scalar", ((3, 4),), lambda a: a / 3),
    Case("rdiv_scalar", ((3, 4),), lambda a: 1 / a, domain="positive"),
    Case("neg", ((3, 4),), lambda a: -a),
    Case("pow_tensor", ((3, 4), (3, 4)), lambda a, b: a**b, domain="positive"),
    Case("pow_broadcast", ((3, 4), (1, 4)), lambda a, b: a**b, domain="positive"),
    Case("pow_int", ((3, 4),), lambda a: a**3),
    Case("pow_negative", ((3, 4),), lambda a: a**-1.5, domain="positive"),
    Case("rpow_scalar", ((3, 4),), lambda a: 2.0**a),
    # "ties" draws zeros: x**0, |x|**x and 0**x at 0 (and 0**-0.5 = inf) take PyTorch's limits
    Case("pow_zero_exponent", ((3, 4),), lambda a: a**0, domain="ties"),
    Case("pow_self_at_zero", ((3, 4),), lambda a: a.abs() ** a, domain="ties"),
    Case("rpow_zero_base", ((3, 4),), lambda a: 0.0**a, domain="ties", infinite=True),
    # elementwise functions
    Case("exp", ((3, 4),), lambda a: a.exp()),
    Case("log", ((3, 4),), lambda a: a.log(), domain="positive"),
    Case("sqrt", ((3, 4),), lambda a: a.sqrt(), domain="positive"),
    Case("tanh", ((3, 4),), lambda a: a.tanh()),
    Case("sigmoid", ((3, 4),), lambda a: a.sigmoid()),
    Case("sigmoid_large", ((3, 4),), lambda a: (a * 30).sigmoid()),
    Case("relu", ((3, 4),), lambda a: a.relu(), domain="ties"),
    Case("abs", ((3, 4),), lambda a: a.abs(), domain="ties"),
    Case("clip", ((3, 4),), lambda a: a.clamp(min=-0.5, max=0.25), domain="ties"),
    Case("clip_min", ((3, 4),), lambda a: a.clip(min=0.0), lambda a: a.clamp(min=0.0), "ties"),
    Case("clip_max", ((3, 4),), lambda a: a.clip(max=0.0), lambda a: a.clamp(max=0.0), "ties"),
    Case("maximum", ((3, 4), (3, 4)), rg.maximum, torch.maximum, "ties"),
    Case("minimum", ((3, 4), (4,)), rg.minimum, torch.minimum, "ties"),
    Case("maximum_scalar", ((3, 4),), lambda a: rg.maximum(a, 0.0),
         lambda a: torch.maximum(a, torch.zeros((), dtype=a.dtype)), "ties"),
    Case("sin", ((3, 4),), lambda a: a.sin()),
    Case("cos", ((3, 4),), lambda a: a.cos()),
    Case("tan", ((3, 4),), lambda a: a.tanh().tan()),
    Case("asin", ((3, 4),), lambda a: a.tanh().asin()),
    Case("acos", ((3, 4),), lambda a: a.tanh().acos()),
    Case("atan", ((3, 4),), lambda a: a.atan()),
    Case("sinh", ((3, 4),), lambda a: a.sinh()),
    Case("cosh", ((3, 4),), lambda a: a.cosh()),
    Case("log1p", ((3, 4),), lambda a: a.sigmoid().log1p()),
    Case("expm1", ((3, 4),), lambda a: a.expm1()),
    Case("log2", ((3, 4),), lambda a: a.log2(), domain="positive"),
    Case("log10", ((3, 4),), lambda a: a.log10(), domain="positive"),
    Case("erf", ((3, 4),), lambda a: a.erf()),
    Case("atan2", ((3, 4), (4,)), lambda a, b: a.atan2(b)),
    Case("hypot", ((3, 1), (3, 4)), lambda a, b: a.hypot(b)),
    # finite replacements: the default ones (the dtype's extremes) overflow the weighted sum
    Case("nan_to_num", ((3, 4),),
         lambda a: (a + rg.tensor(NONFINITE)).nan_to_num(0.5, posinf=2.0, neginf=-3.0),
         lambda a: (a + torch.as_tensor(NONFINITE)).nan_to_num(0.5, posinf=2.0, neginf=-3.0)),
    Case("where", ((3, 4), (3, 1)), lambda a, b: rg.where(COND, a, b),
         lambda a, b: torch.where(torch.as_tensor(COND), a, b)),
    Case("where_scalar", ((3, 4),), lambda a: rg.where(COND, a, 0.0),
         lambda a: torch.where(torch.as_tensor(COND), a, 0.0)),
    # reductions (max/min ties share the gradient evenly, as torch.amax/amin)
    Case("sum", ((2, 3, 4),), lambda a: a.sum()),
    Case("sum_axis", ((2, 3, 4),), lambda a: a.sum(1)),
    Case("sum_axes_keepdims", ((2, 3, 4),), lambda a: a.sum((0, 2), True)),
    Case("mean", ((2, 3, 4),), lambda a: a.mean()),
    Case("mean_axis_keepdims", ((2, 3, 4),), lambda a: a.mean(-1, True)),
    Case("max", ((3, 4),), lambda a: a.max(), torch.amax, "ties"),
    Case("max_axis", ((3, 4),), lambda a: a.max(1), lambda a: torch.amax(a, 1), "ties"),
    Case("max_axis_keepdims", ((3, 4),), lambda a: a.max(0, keepdims=True),
         lambda a: torch.amax(a, 0, keepdim=True), "ties"),
    Case("max_axes", ((2, 3, 4),), lambda a: a.max((0, 2)),
         lambda a: torch.amax(a, (0, 2)), "ties"),
    Case("min", ((3, 4),), lambda a: a.min(), torch.amin, "ties"),
    Case("min_axis", ((3, 4),), lambda a: a.min(1), lambda a: torch.amin(a, 1), "ties"),
    Case("prod_ties", ((3, 4),), lambda a: a.prod(1), lambda a: a.prod(1), "ties"),
    Case("var_unbiased", ((3, 5),), lambda a: a.var(1, ddof=1), lambda a: a.var(1, correction=1)),
    Case("var_biased", ((3, 5),), lambda a: a.var(), lambda a: a.var(correction=0)),
    Case("var_keepdims", ((3, 5),), lambda a: a.var(0, keepdims=True, ddof=1),
         lambda a: a.var(0, keepdim=True, correction=1)),
    Case("logsumexp", ((3, 4),), lambda a: a.logsumexp(-1), lambda a: torch.logsumexp(a, -1)),
    Case("logsumexp_axes", ((2, 3, 4),), lambda a: a.logsumexp((0, 2), keepdims=True),
         lambda a: torch.logsumexp(a, (0, 2), keepdim=True)),
    Case("logsumexp_large", ((3, 4),), lambda a: (a * 500).logsumexp(1),
         lambda a: torch.logsumexp(a * 500, 1)),
    Case("softmax", ((3, 4),), lambda a: a.softmax(-1)),
    Case("softmax_axis0", ((3, 4),), lambda a: a.softmax(0)),
    Case("log_softmax", ((3, 4),), lambda a: a.log_softmax(-1)),
    # a 0-d tensor takes axis 0 or -1, meaning its one value
    Case("sum_0d", ((),), lambda a: a.sum(0)),
    Case("mean_0d_keepdims", ((),), lambda a: a.mean(-1, keepdims=True),
         lambda a: a.mean(-1, keepdim=True)),
    Case("var_0d", ((),), lambda a: a.var(0), lambda a: a.var(0, correction=0)),
    Case("max_0d", ((),), lambda a: a.max(0), lambda a: torch.amax(a, 0)),
    Case("min_0d", ((),), lambda a: a.min(-1), lambda a: torch.amin(a, -1)),
    Case("logsumexp_0d", ((),), lambda a: a.logsumexp(0), lambda a: torch.logsumexp(a, 0)),
    Case("softmax_0d", ((),), lambda a: a.softmax(), lambda a: a.softmax(-1)),
    Case("log_softmax_0d", ((),), lambda a: a.log_softmax(0)),
    Case("squeeze_0d", ((),), lambda a: a.squeeze(0)),
    Case("transpose_0d", ((),), lambda a: a.transpose(0, -1)),
    # shapes
    Case("reshape", ((2, 3, 4),), lambda a: a.reshape(6, 4)),
    Case("reshape_infer", ((2, 3, 4),), lambda a: a.reshape(-1, 3)),
    Case("flatten", ((2, 3, 4),), lambda a: a.flatten()),
    Case("unsqueeze", ((3, 4),), lambda a: a.unsqueeze(1)),
    Case("squeeze", ((3, 1, 4),), lambda a: a.squeeze(1)),
    Case("squeeze_axes", ((1, 3, 1),), lambda a: a.squeeze((0, -1))),
    Case("permute", ((2, 3, 4),), lambda a: a.permute(2, 0, 1)),
    Case("permute_negative", ((2, 3, 4),), lambda a: a.permute(-1, 0, 1)),
    Case("transpose", ((2, 3, 4),), lambda a: a.transpose(-2, -1)),
    Case("transpose_T", ((3, 4),), lambda a: a.T),
    Case("expand", ((3, 1),), lambda a: a.expand(2, 3, 4)),
    Case("expand_keep", ((3, 1),), lambda a: a.expand(-1, 5)),
    index_case("getitem_int", (3, 4), 1),
    index_case("getitem_slices", (3, 4), (slice(1, None), slice(None, None, 2))),
    index_case("getitem_ellipsis", (2, 3, 4), (Ellipsis, 0)),
    index_case("getitem_negative", (3, 4), (-1, slice(None, -1))),
    index_case("getitem_int_array_repeats", (3, 4), ROWS),
    index_case("getitem_pair_repeats", (3, 4), PAIR),
    index_case("getitem_array_and_slice", (3, 4), (ROWS, slice(1, 3))),
    index_case("getitem_bool_mask", (3, 4), MASK),
    Case("gather", ((3, 4),), lambda a: a.gather(1, COLUMNS_REPEATED),
         lambda a: a.gather(1, torch.as_tensor(COLUMNS_REPEATED))),
    Case("gather_negative_dim", ((2, 4),), lambda a: a.gather(-2, ROWS_PER_COLUMN % 2),
         lambda a: a.gather(-2, torch.as_tensor(ROWS_PER_COLUMN % 2))),
    Case("scatter", ((3, 4), (2, 4)), lambda a, b: a.scatter(0, ROWS_PER_COLUMN, b),
         lambda a, b: a.scatter(0, torch.as_tensor(ROWS_PER_COLUMN), b)),
    Case("scatter_value", ((3, 4),), lambda a: a.scatter(0, ROWS_PER_COLUMN, value=1.5),
         lambda a: a.scatter(0, torch.as_tensor(ROWS_PER_COLUMN), value=1.5)),
    Case("scatter_add", ((4, 3), (3, 3)), lambda a, b: a.scatter_add(0, COLUMNS_REPEATED, b),
         lambda a, b: a.scatter_add(0, torch.as_tensor(COLUMNS_REPEATED), b)),
    Case("cumsum", ((3, 4),), lambda a: a.cumsum(1)),
    Case("cumprod", ((3, 4),), lambda a: a.cumprod(1)),
    Case("cumsum_negative_dim", ((2, 3, 4),), lambda a: a.cumsum(-3)),
    Case("take_embedding", ((4, 3),), lambda w: rg.take(w, ROWS_2D),
         lambda w: F.embedding(torch.as_tensor(ROWS_2D), w)),
    Case("take_index_select", ((3, 2),), lambda w: rg.take(w, ROWS),
         lambda w: torch.index_select(w, 0, torch.as_tensor(ROWS))),
    Case("one_hot_linear", ((5, 4), (5,)), lambda w, b: rg.one_hot_linear(ROWS_2D, w, b),
         lambda w, b: F.linear(F.one_hot(torch.as_tensor(ROWS_2D), 4).to(w.dtype), w, b)),
    Case("concat", ((2, 3), (1, 3)), lambda a, b: rg.concat([a, b]),
         lambda a, b: torch.cat([a, b])),
    Case("concat_last", ((2, 3), (2, 1), (2, 2)), lambda *xs: rg.cat(xs, axis=-1),
         lambda *xs: torch.cat(xs, dim=-1)),
    Case("stack", ((2, 3), (2, 3)), lambda a, b: rg.stack([a, b]),
         lambda a, b: torch.stack([a, b])),
    Case("stack_last", ((2, 3), (2, 3)), lambda a, b: rg.stack([a, b], axis=-1),
         lambda a, b: torch.stack([a, b], dim=-1)),
    Case("unbind", ((3, 4),), lambda a: a.unbind()),
    Case("unbind_axis", ((3, 4),), lambda a: a.unbind(1)),
    Case("split", ((5, 2),), lambda a: a.split(2)),
    Case("split_sizes", ((2, 4),), lambda a: a.split([1, 3], 1)),
    # matrix products
    Case("matmul", ((3, 4), (4, 2)), lambda a, b: a @ b),
    Case("matmul_vector_matrix", ((4,), (4, 2)), lambda a, b: a @ b),
    Case("matmul_matrix_vector", ((3, 4), (4,)), lambda a, b: a @ b),
    Case("matmul_vector_vector", ((4,), (4,)), lambda a, b: a @ b),
    Case("matmul_vector_batch", ((4,), (2, 4, 3)), lambda a, b: a @ b),
    Case("matmul_batched_broadcast", ((2, 1, 3, 4), (5, 4, 2)), lambda a, b: a @ b),
    Case("matmul_function", ((2, 3, 4), (4, 2)), rg.matmul, torch.matmul),
    Case("einsum", ((3, 4), (4, 2)), lambda a, b: rg.einsum("ij,jk->ik", a, b),
         lambda a, b: torch.einsum("ij,jk->ik", a, b)),
    Case("einsum_diagonal_implicit", ((3, 3), (3,)), lambda a, b: rg.einsum("ii,i", a, b),
         lambda a, b: torch.einsum("ii,i", a, b)),
    Case("einsum_ellipsis_broadcast", ((2, 1, 3), (4, 3)),
         lambda a, b: rg.einsum("...j,kj->...k", a, b),
         lambda a, b: torch.einsum("...j,kj->...k", a, b)),
    Case("linear", ((5, 4), (3, 4), (3,)), rg.linear, F.linear),
    Case("linear_no_bias", ((5, 4), (3, 4)), rg.linear, F.linear),
    Case("linear_residual", ((5, 4), (3, 4), (3,), (5, 3)),
         lambda x, w, b, r: rg.linear(x, w, b, residual=r),
         lambda x, w, b, r: F.linear(x, w, b) + r),
    Case("linear_residual_tanh", ((5, 4), (3, 4), (3,), (5, 3)),
         lambda x, w, b, r: rg.linear(x, w, b, residual=r, activation="tanh"),
         lambda x, w, b, r: torch.tanh(F.linear(x, w, b) + r)),
    Case("linear_relu", ((2, 5, 4), (3, 4), (3,)),
         lambda x, w, b: rg.linear(x, w, b, activation="relu"),
         lambda x, w, b: torch.relu(F.linear(x, w, b))),
    Case("linear_no_bias_residual_tanh", ((5, 4), (3, 4), (5, 3)),
         lambda x, w, r: rg.linear(x, w, residual=r, activation="tanh"),
         lambda x, w, r: torch.tanh(F.linear(x, w) + r)),
    Case("linear_batched", ((2, 5, 4), (3, 4), (3,)), rg.linear, F.linear),
    Case("linear_vector", ((4,), (3, 4), (3,)), rg.linear, F.linear),
    # losses
    *[Case(f"cross_entropy_{r}", ((5, 4),), lambda z, r=r: cross_entropy(z, TARGET, reduction=r),
           lambda z, r=r: F.cross_entropy(z, torch.as_tensor(TARGET), reduction=r))
      for r in ("mean", "sum", "none")],
    *[Case(f"cross_entropy_ignored_{r}", ((5, 4),),
           lambda z, r=r: cross_entropy(z, TARGET_IGNORED, reduction=r),
           lambda z, r=r: F.cross_entropy(z, torch.as_tensor(TARGET_IGNORED), reduction=r))
      for r in ("mean", "sum", "none")],
    Case("cross_entropy_ignore_index", ((5, 4),),
         lambda z: cross_entropy(z, TARGET, ignore_index=3),
         lambda z: F.cross_entropy(z, torch.as_tensor(TARGET), ignore_index=3)),
    *[Case(f"cross_entropy_spatial_{r}", ((3, 4, 5),),
           lambda z, r=r: cross_entropy(z, TARGET_3D, reduction=r),
           lambda z, r=r: F.cross_entropy(z, torch.as_tensor(TARGET_3D), reduction=r))
      for r in ("mean", "sum", "none")],
    Case("cross_entropy_large_logits", ((5, 4),), lambda z: cross_entropy(z * 1000, TARGET),
         lambda z: F.cross_entropy(z * 1000, torch.as_tensor(TARGET))),
]  # fmt: skip

# Registered ops that PyTorch comparison does not cover, and why.
NOT_COMPARED = {"cast": "changes dtype; float64 parity cannot exercise it (see test_tensor.py)"}


def _inputs(case: Case, rng: np.random.Generator) -> list[np.ndarray]:
    if case.domain == "positive":
        return [rng.uniform(0.5, 2.0, shape) for shape in case.shapes]
    if case.domain == "ties":
        return [rng.integers(-1, 2, shape) / 2.0 for shape in case.shapes]
    return [rng.standard_normal(shape) for shape in case.shapes]


def _as_tuple(out: Any) -> tuple:
    return tuple(out) if isinstance(out, tuple | list) else (out,)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_op_matches_torch_values_and_gradients(case: Case) -> None:
    with case.numerics():
        _check_parity(case)


def _check_parity(case: Case) -> None:
    rng = np.random.default_rng(20240611)
    arrays = _inputs(case, rng)
    if case.domain == "ties":
        assert any(np.unique(a).size < a.size for a in arrays), "ties domain drew no ties"
    ours_in = [rg.tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = _as_tuple(case.ours(*ours_in))
    theirs = _as_tuple((case.theirs or case.ours)(*theirs_in))

    assert len(ours) == len(theirs)
    weights = []
    for o, t in zip(ours, theirs):
        assert o.dtype == np.float64
        assert o.shape == tuple(t.shape)
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=RTOL, atol=ATOL)
        weights.append(rng.standard_normal(o.shape))

    sum(((o * rg.tensor(w)).sum() for o, w in zip(ours, weights)), rg.tensor(0.0)).backward()
    sum((t * torch.as_tensor(w)).sum() for t, w in zip(theirs, weights)).backward()
    for i, (o, t) in enumerate(zip(ours_in, theirs_in)):
        expected = np.zeros(o.shape) if t.grad is None else t.grad.numpy()
        assert o.grad is not None, f"input {i} got no gradient"
        assert o.grad.shape == o.shape and o.grad.dtype == np.float64
        np.testing.assert_allclose(o.grad, expected, rtol=RTOL, atol=ATOL, err_msg=f"input {i}")


def test_parity_table_covers_every_registered_op() -> None:
    rng = np.random.default_rng(0)
    covered = set()
    for case in CASES:
        with case.numerics():
            outputs = _as_tuple(
                case.ours(*[rg.tensor(a, requires_grad=True) for a in _inputs(case, rng)])
            )
        covered |= {node.op.name for node in topological_order(outputs)}
    engine_ops = {
        name
        for name, op in Function.registry.items()
        if op.__module__.startswith("retrograd.autograd.ops")
    }
    missing = engine_ops - covered - set(NOT_COMPARED)
    assert not missing, f"ops without a PyTorch parity case: {sorted(missing)}"
