"""Fuzzed compositions: random programs of 2-8 ops checked against central differences and PyTorch.

Hypothesis builds a program over 1-3 broadcastable float64 inputs: each step
applies one op from `OPS` to earlier values (inputs or intermediates, so
values are reused), with reductions, reshapes, joins and indexing with
repeated indices among them. Values are kept well-conditioned while the
program is drawn: an op whose operands sit near a kink or a pole (abs at 0,
max with a near-tie, division by a small number) is not offered, and a step
whose result is large or non-finite becomes a tanh instead.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd as rg
from retrograd.autograd import cross_entropy, gradcheck

# At least 500 distinct programs per run (hypothesis repeats a few): the `thorough`
# profile (1,000 examples) runs 2,000.
PROGRAMS = max(600, 2 * settings.default.max_examples)
MARGIN = 0.05  # distance kept from kinks and ties, far beyond gradcheck's eps of 1e-6
LIMIT = 50.0  # largest magnitude a value may reach
MAX_SIZE = 64

Plan = tuple[tuple[int, ...], dict[str, Any]]


@dataclass
class Op:
    """One fuzzable op: `plan` picks operands and parameters (None when the op does not apply
    to the value at hand); `ours` computes it, and PyTorch too unless `THEIRS` says otherwise."""

    plan: Callable[[Any, list[np.ndarray], int], Plan | None]
    ours: Callable[..., Any]


@dataclass
class Step:
    op: str
    args: tuple[int, ...]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Program:
    """Inputs, then one step per new value; step arguments index the values so far (the
    inputs first), and the last value is the output."""

    inputs: list[np.ndarray]
    steps: list[Step]


# ----- plans: which operands and parameters an op can take here -----
def unary(condition: Callable[[np.ndarray], bool] = lambda a: True) -> Callable:
    return lambda draw, values, i: ((i,), {}) if condition(values[i]) else None


def partner(fits: Callable[[np.ndarray, np.ndarray], bool]) -> Callable:
    """A plan for a binary op: any earlier value (the first operand too) that `fits`."""

    def plan(draw, values, i):
        partners = [j for j, b in enumerate(values) if fits(values[i], b)]
        return ((i, draw(st.sampled_from(partners))), {}) if partners else None

    return plan


def binary(condition: Callable[[np.ndarray, np.ndarray], bool] = lambda a, b: True) -> Callable:
    return partner(lambda a, b: _broadcasts(a.shape, b.shape) and bool(condition(a, b)))


def _broadcasts(*shapes: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def _matmul_fits(a: np.ndarray, b: np.ndarray) -> bool:
    if a.ndim == 0 or b.ndim == 0 or b.shape[-2 if b.ndim > 1 else 0] != a.shape[-1]:
        return False
    return _broadcasts(a.shape[:-2], b.shape[:-2])


def _linear_fits(x: np.ndarray, w: np.ndarray) -> bool:
    return w.ndim == 2 and x.ndim > 0 and w.shape[1] == x.shape[-1]


def away(a: np.ndarray, points: tuple[float, ...] = (0.0,)) -> bool:
    return all(np.abs(a - p).min(initial=np.inf) >= MARGIN for p in points)


def draw_axes(draw, ndim: int) -> int | tuple[int, ...] | None:
    if ndim == 0:
        return None
    choice = draw(st.sampled_from(["some", "one", "all"]))
    if choice == "all":
        return None
    if choice == "one":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(sorted(draw(st.sets(st.integers(0, ndim - 1), min_size=1))))


def reduction(draw, values, i, needs_gap: bool = False, sign: float = 1.0) -> Plan | None:
    a = values[i]
    axes = draw_axes(draw, a.ndim)
    if needs_gap and _gap(sign * a, axes) < MARGIN:
        return None  # a near-tie for the maximum: the derivative jumps there
    return (i,), {"axis": axes, "keepdims": draw(st.booleans())}


def _gap(a: np.ndarray, axis) -> float:
    """Smallest distance between the largest and second-largest value of any reduced group."""
    axes = range(a.ndim) if axis is None else np.atleast_1d(axis) % max(a.ndim, 1)
    moved = np.moveaxis(a, list(axes), list(range(-len(axes), 0)) if len(axes) else [])
    groups = moved.reshape(*moved.shape[: a.ndim - len(axes)], -1)
    if groups.shape[-1] < 2:
        return np.inf
    top = np.sort(groups, axis=-1)
    return float((top[..., -1] - top[..., -2]).min())


def axis_plan(draw, values, i, min_length: int = 1) -> Plan | None:
    a = values[i]
    axes = [ax for ax in range(a.ndim) if a.shape[ax] >= min_length]
    if not axes:
        return None
    return (i,), {"axis": draw(st.sampled_from(axes))}


def reshape_plan(draw, values, i) -> Plan:
    shape = values[i].shape
    size = int(np.prod(shape))
    options = [(-1,), tuple(reversed(shape)), (1, *shape), (*shape, 1)]
    options += [(size // k, k) for k in range(2, size) if size % k == 0]
    return (i,), {"shape": draw(st.sampled_from(options))}


def permute_plan(draw, values, i) -> Plan | None:
    ndim = values[i].ndim
    return ((i,), {"axes": tuple(draw(st.permutations(range(ndim))))}) if ndim >= 2 else None


def index_plan(draw, values, i, kind: str) -> Plan | None:
    a = values[i]
    if a.ndim == 0 or (kind == "pair" and a.ndim < 2):
        return None
    rows = st.lists(st.integers(-a.shape[0], a.shape[0] - 1), min_size=1, max_size=5)
    if kind == "repeat":  # integer arrays that may repeat an index: np.add.at territory
        axis = draw(st.integers(0, a.ndim - 1))
        picks = st.lists(st.integers(0, a.shape[axis] - 1), min_size=1, max_size=5)
        return (i,), {"index": (slice(None),) * axis + (np.array(draw(picks)),)}
    if kind == "pair":
        n = draw(st.integers(1, 4))
        cols = st.lists(st.integers(0, a.shape[1] - 1), min_size=n, max_size=n)
        first = draw(st.lists(st.integers(0, a.shape[0] - 1), min_size=n, max_size=n))
        return (i,), {"index": (np.array(first), np.array(draw(cols)))}
    if kind == "mask":
        flags = draw(st.lists(st.booleans(), min_size=a.size, max_size=a.size))
        mask = np.array(flags).reshape(a.shape)
        mask.flat[0] = True
        return (i,), {"index": mask}
    if kind == "take":
        return (i,), {"rows": np.array(draw(rows)) % a.shape[0]}
    slices = []
    for n in a.shape[: draw(st.integers(1, min(a.ndim, 2)))]:
        start = draw(st.integers(0, n - 1))
        slices.append(slice(start, draw(st.integers(start + 1, n)), draw(st.sampled_from([1, 2]))))
    if draw(st.booleans()):
        slices[0] = slices[0].start  # an integer index drops the axis
    return (i,), {"index": tuple(slices)}


def join_plan(draw, values, i, kind: str) -> Plan | None:
    a = values[i]
    if a.ndim == 0 and kind == "concat":
        return None
    axis = draw(st.integers(-a.ndim - (kind == "stack"), a.ndim - 1 + (kind == "stack")))

    def fits(b: np.ndarray) -> bool:
        if kind == "stack":
            return b.shape == a.shape
        pos = axis % a.ndim
        return (
            b.ndim == a.ndim
            and b.shape[:pos] + b.shape[pos + 1 :] == a.shape[:pos] + a.shape[pos + 1 :]
        )

    partner = draw(st.sampled_from([j for j, b in enumerate(values) if fits(b)]))
    return (i, partner), {"axis": axis}


def split_plan(draw, values, i) -> Plan | None:
    plan = axis_plan(draw, values, i, min_length=2)
    if plan is None:
        return None
    length = values[i].shape[plan[1]["axis"]]
    cuts = sorted(draw(st.sets(st.integers(1, length - 1), min_size=1, max_size=2)))
    plan[1]["sizes"] = [b - a for a, b in itertools.pairwise([0, *cuts, length])]
    return plan


def cross_entropy_plan(draw, values, i) -> Plan | None:
    a = values[i]
    if a.ndim not in (2, 3) or a.shape[1] < 2:
        return None
    shape = (a.shape[0], *a.shape[2:])
    classes = st.integers(0, a.shape[1] - 1) | st.just(-100)
    target = np.array(
        draw(st.lists(classes, min_size=a.size // a.shape[1], max_size=a.size // a.shape[1]))
    )
    target.flat[0] = draw(st.integers(0, a.shape[1] - 1))  # at least one target counts
    reduction_ = draw(st.sampled_from(["mean", "sum", "none"]))
    return (i,), {"target": target.reshape(shape), "reduction": reduction_}


def _torch() -> Any:
    return pytest.importorskip("torch")


def _torch_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_torch_index(i) for i in index)
    return _torch().from_numpy(index) if isinstance(index, np.ndarray) else index


def _torch_reduce(name: str) -> Callable:
    def apply(p: dict, x: Any) -> Any:
        axis = p["axis"]
        dims = tuple(range(x.ndim)) if axis is None else axis
        return getattr(_torch(), name)(x, dim=dims, keepdim=p["keepdims"])

    return apply


def _plan(kind: Callable, *args: Any) -> Callable:
    return lambda draw, values, i: kind(draw, values, i, *args)


def _reversed_pieces(concat: Callable, split: Callable, p: dict, axis_key: str) -> Any:
    """The pieces in reverse order, then the first piece again (a piece used twice)."""
    pieces = split(p["sizes"], p["axis"])
    return concat([*pieces[::-1], pieces[0]], **{axis_key: p["axis"]})


def _weighted_unbind(stack: Callable, p: dict, x: Any, axis_key: str) -> Any:
    pieces = [t * (k + 1.0) for k, t in enumerate(x.unbind(p["axis"]))]
    return stack(pieces[::-1], **{axis_key: p["axis"]})


def _small_denominator(a: np.ndarray, b: np.ndarray) -> bool:
    return np.abs(b).min(initial=1) >= 0.3


def _positive(a: np.ndarray, *_: np.ndarray) -> bool:
    return a.min(initial=1) >= 0.1


OPS: dict[str, Op] = {
    "neg": Op(unary(), lambda p, x: -x),
    "scale": Op(unary(), lambda p, x: x * -1.5),
    "rsub": Op(unary(), lambda p, x: 1.0 - x),
    "square": Op(unary(), lambda p, x: x * x),
    "cube": Op(unary(), lambda p, x: x**3.0),
    "tanh": Op(unary(), lambda p, x: x.tanh()),
    "sigmoid": Op(unary(), lambda p, x: x.sigmoid()),
    "exp": Op(unary(lambda a: a.max(initial=0) <= 3), lambda p, x: x.exp()),
    "log": Op(unary(_positive), lambda p, x: x.log()),
    "sqrt": Op(unary(_positive), lambda p, x: x.sqrt()),
    "reciprocal": Op(unary(lambda a: _small_denominator(a, a)), lambda p, x: 1.0 / x),
    "abs": Op(unary(away), lambda p, x: x.abs()),
    "relu": Op(unary(away), lambda p, x: x.relu()),
    "clip": Op(unary(lambda a: away(a, (-1.0, 1.0))), lambda p, x: x.clip(-1.0, 1.0)),
    "add": Op(binary(), lambda p, a, b: a + b),
    "sub": Op(binary(), lambda p, a, b: a - b),
    "mul": Op(binary(), lambda p, a, b: a * b),
    "div": Op(binary(_small_denominator), lambda p, a, b: a / b),
    "pow": Op(binary(_positive), lambda p, a, b: a**b),
    "maximum": Op(binary(lambda a, b: away(a - b)), lambda p, a, b: rg.maximum(a, b)),
    "minimum": Op(binary(lambda a, b: away(a - b)), lambda p, a, b: rg.minimum(a, b)),
    "where": Op(binary(lambda a, b: away(a)), lambda p, a, b: rg.where(a > 0, a, b)),
    "sum": Op(reduction, lambda p, x: x.sum(p["axis"], p["keepdims"])),
    "mean": Op(reduction, lambda p, x: x.mean(p["axis"], p["keepdims"])),
    "max": Op(_plan(reduction, True), lambda p, x: x.max(p["axis"], p["keepdims"])),
    "min": Op(_plan(reduction, True, -1.0), lambda p, x: x.min(p["axis"], p["keepdims"])),
    "logsumexp": Op(reduction, lambda p, x: x.logsumexp(p["axis"], p["keepdims"])),
    "softmax": Op(axis_plan, lambda p, x: x.softmax(p["axis"])),
    "log_softmax": Op(axis_plan, lambda p, x: x.log_softmax(p["axis"])),
    "reshape": Op(reshape_plan, lambda p, x: x.reshape(p["shape"])),
    "permute": Op(permute_plan, lambda p, x: x.permute(p["axes"])),
    "expand": Op(unary(lambda a: a.ndim < 3), lambda p, x: x.expand(2, *x.shape)),
    "index_repeat": Op(_plan(index_plan, "repeat"), lambda p, x: x[p["index"]]),
    "index_pair": Op(_plan(index_plan, "pair"), lambda p, x: x[p["index"]]),
    "index_mask": Op(_plan(index_plan, "mask"), lambda p, x: x[p["index"]]),
    "slice": Op(_plan(index_plan, "slice"), lambda p, x: x[p["index"]]),
    "take": Op(_plan(index_plan, "take"), lambda p, x: rg.take(x, p["rows"])),
    "concat": Op(_plan(join_plan, "concat"), lambda p, a, b: rg.concat([a, b, a], p["axis"])),
    "stack": Op(_plan(join_plan, "stack"), lambda p, a, b: rg.stack([a, b], p["axis"])),
    "split": Op(split_plan, lambda p, x: _reversed_pieces(rg.concat, x.split, p, "axis")),
    "unbind": Op(axis_plan, lambda p, x: _weighted_unbind(rg.stack, p, x, "axis")),
    "matmul": Op(partner(_matmul_fits), lambda p, a, b: a @ b),
    "linear": Op(partner(_linear_fits), lambda p, x, w: rg.linear(x, w)),
    "cross_entropy": Op(
        cross_entropy_plan, lambda p, x: cross_entropy(x, p["target"], reduction=p["reduction"])
    ),
}

# The same ops in PyTorch, where they are spelled differently.
THEIRS: dict[str, Callable[..., Any]] = {
    "clip": lambda p, x: x.clamp(-1.0, 1.0),
    "maximum": lambda p, a, b: _torch().maximum(a, b),
    "minimum": lambda p, a, b: _torch().minimum(a, b),
    "where": lambda p, a, b: _torch().where(a > 0, a, b),
    "sum": _torch_reduce("sum"),
    "mean": _torch_reduce("mean"),
    "max": _torch_reduce("amax"),
    "min": _torch_reduce("amin"),
    "logsumexp": _torch_reduce("logsumexp"),
    "index_repeat": lambda p, x: x[_torch_index(p["index"])],
    "index_pair": lambda p, x: x[_torch_index(p["index"])],
    "index_mask": lambda p, x: x[_torch_index(p["index"])],
    "take": lambda p, x: x[_torch_index(p["rows"])],
    "concat": lambda p, a, b: _torch().cat([a, b, a], dim=p["axis"]),
    "stack": lambda p, a, b: _torch().stack([a, b], dim=p["axis"]),
    "split": lambda p, x: _reversed_pieces(_torch().cat, x.split, p, "dim"),
    "unbind": lambda p, x: _weighted_unbind(_torch().stack, p, x, "dim"),
    "linear": lambda p, x, w: _torch().nn.functional.linear(x, w),
    "cross_entropy": lambda p, x: _torch().nn.functional.cross_entropy(
        x, _torch().from_numpy(p["target"]), reduction=p["reduction"]
    ),
}


# ----- drawing and running programs -----
def _apply(step: Step, values: list, library: str) -> Any:
    fn = THEIRS.get(step.op, OPS[step.op].ours) if library == "torch" else OPS[step.op].ours
    return fn(step.params, *(values[a] for a in step.args))


def input_shapes(rng: np.random.Generator) -> list[tuple[int, ...]]:
    """1-3 shapes that broadcast to one full shape: trailing parts of it, some axes set to 1."""
    full = rng.integers(1, 4, size=rng.integers(1, 4))
    shapes = []
    for _ in range(rng.integers(1, 4)):
        kept = full if rng.random() < 0.5 else full[rng.integers(0, len(full) + 1) :]
        shapes.append(tuple(int(n) if rng.random() < 0.7 else 1 for n in kept))
    return shapes


@st.composite
def programs(draw) -> Program:
    """A random program; its steps are chosen on the values they will see.

    A seeded generator picks shapes, values, lengths and ops (hypothesis's own
    choices lean towards their first option, which would starve most ops);
    hypothesis draws each op's operands and parameters.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    inputs = [rng.uniform(-2.0, 2.0, shape) for shape in input_shapes(rng)]
    values, steps = list(inputs), []
    for _ in range(rng.integers(2, 9)):
        first = len(values) - 1 if rng.random() < 0.5 else int(rng.integers(len(values)))
        step = None
        for name in rng.permutation(sorted(OPS))[:6]:
            plan = OPS[name].plan(draw, values, first)
            if plan is not None:
                step = Step(str(name), *plan)
                break
        result = _evaluate(step, values) if step else None
        if result is None:  # nothing applied, or the result is too large: squash instead
            step = Step("tanh", (first,))
            result = np.tanh(values[first])
        steps.append(step)
        values.append(result)
    return Program(inputs, steps)


def _evaluate(step: Step, values: list[np.ndarray]) -> np.ndarray | None:
    with rg.no_grad():
        out = _apply(step, [rg.tensor(v) for v in values], "ours").data
    well_conditioned = np.isfinite(out).all() and np.abs(out).max(initial=0) <= LIMIT
    return out if well_conditioned and 0 < out.size <= MAX_SIZE and out.ndim <= 4 else None


def run(program: Program, inputs: list, library: str = "ours") -> Any:
    values = list(inputs)
    for step in program.steps:
        values.append(_apply(step, values, library))
    return values[-1]


# ----- the checks -----
def test_fuzzed_programs_match_central_differences() -> None:
    seen: Counter[str] = Counter()
    distinct: set[str] = set()

    @settings(max_examples=PROGRAMS)
    @given(programs())
    def check(program: Program) -> None:
        seen.update(step.op for step in program.steps)
        distinct.add(repr(program))
        leaves = [rg.tensor(a, requires_grad=True) for a in program.inputs]
        assert gradcheck(lambda *xs: run(program, list(xs)), leaves)

    check()
    assert set(seen) == set(OPS), f"ops never drawn: {sorted(set(OPS) - set(seen))}"
    assert len(distinct) >= 500


def test_fuzzed_programs_match_torch() -> None:
    torch = pytest.importorskip("torch")

    @settings(max_examples=PROGRAMS)
    @given(programs(), st.integers(0, 2**32 - 1))
    def check(program: Program, seed: int) -> None:
        ours = [rg.tensor(a, requires_grad=True) for a in program.inputs]
        theirs = [torch.tensor(a, requires_grad=True) for a in program.inputs]
        out, expected = run(program, ours), run(program, theirs, "torch")
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-10)
        weights = np.random.default_rng(seed).standard_normal(out.shape)
        out.backward(weights)
        expected.backward(torch.from_numpy(weights))
        for mine, their in zip(ours, theirs):
            reference = np.zeros(mine.shape) if their.grad is None else their.grad.numpy()
            got = np.zeros(mine.shape) if mine.grad is None else mine.grad
            np.testing.assert_allclose(got, reference, rtol=1e-9, atol=1e-9)

    check()
