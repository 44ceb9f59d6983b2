"""Every op's gradient against float64 central differences, over generated inputs."""

import time
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import DeadlineExceeded

import retrograd as rg
from retrograd.autograd import Function, GradcheckError, gradcheck
from retrograd.autograd.ops import shape
from retrograd.autograd.ops.shape import RADIX_SORT_SIZE, WIDE_ROW_VALUES
from retrograd.testing import arrays, assert_gradients, values
from tests.op_table import EXTRA_CASES, OPS, first_example

CASES = {**OPS, **EXTRA_CASES}


def test_op_table_covers_every_op():
    differentiable = {name for name, op in Function.registry.items() if op.differentiable}
    assert set(OPS) == differentiable, "every op needs exactly one line in tests/op_table.py"


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_op_gradient_matches_central_differences(name, data):
    case = CASES[name]
    arrays = data.draw(case.inputs)
    inputs = [rg.tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck(case.fn, inputs, **case.tolerance)


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_gradient_has_input_shape_and_dtype(name):
    case = CASES[name]
    arrays = first_example(case)
    for dtype in (np.float32, np.float64):
        inputs = [rg.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        out = case.fn(*inputs)
        out.sum().backward()
        for x in inputs:
            assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == dtype


def test_gradcheck_catches_a_wrong_gradient(monkeypatch):
    tanh = Function.registry["tanh"]
    honest = tanh.backward

    def scaled(ctx, grad):
        return tuple(g * 1.01 for g in honest(ctx, grad))

    monkeypatch.setattr(tanh, "backward", staticmethod(scaled))
    x = rg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True, dtype=np.float64)
    with pytest.raises(GradcheckError, match=r"input 0 .*shape \(2, 3\).*numeric .* analytic"):
        gradcheck(lambda x: x.tanh(), [x])


@pytest.mark.parametrize("full_jacobian_limit", [20_000, 0], ids=["full", "projected"])
@pytest.mark.parametrize("broken", ["analytic", "numeric"])
def test_gradcheck_fails_on_a_non_finite_gradient(broken, full_jacobian_limit, monkeypatch):
    """NaN passes no tolerance comparison, so it used to pass them all: it must fail the check."""
    start = np.array([0.5, -0.25])
    tanh = Function.registry["tanh"]
    honest = tanh.backward
    if broken == "analytic":
        nan_grad = staticmethod(lambda ctx, grad: (honest(ctx, grad)[0] * np.nan,))
        monkeypatch.setattr(tanh, "backward", nan_grad)

    def fn(x):
        if broken == "analytic":
            return x.tanh()
        # NaN wherever x moved away from the start: the central differences are NaN there.
        return x.tanh() * rg.tensor(np.where(x.data == start, 1.0, np.nan))

    x = rg.tensor(start, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"non-finite gradient for input 0 .*at element"):
        gradcheck(fn, [x], full_jacobian_limit=full_jacobian_limit)


@pytest.mark.parametrize("summed_by", ["reduceat", "loop"])
@pytest.mark.parametrize("width", [3, WIDE_ROW_VALUES])
@pytest.mark.parametrize("classes", [7, 60])
@pytest.mark.parametrize("steps", [40, RADIX_SORT_SIZE // 3 + 1])
def test_lookup_gradients_sum_repeated_indices(width, classes, steps, summed_by, monkeypatch):
    """`take` and `one_hot_linear` sum the rows of repeated indices exactly as np.add.at does,
    by every path: runs summed by reduceat or one by one, for `one_hot_linear` with few
    classes the product with the one-hot array, and from RADIX_SORT_SIZE indices on,
    sorted as 16-bit integers."""
    monkeypatch.setattr(shape, "_reduceat_is_cheaper", lambda runs, rows: summed_by == "reduceat")
    rng = np.random.default_rng(width)
    index = rng.integers(0, classes, (steps, 3))
    upstream = rng.standard_normal((steps, 3, width))
    expected = np.zeros((classes, width))
    np.add.at(expected, index.reshape(-1), upstream.reshape(-1, width))
    table = rg.tensor(rng.standard_normal((classes, width)), requires_grad=True)
    rg.take(table, index).backward(upstream)
    np.testing.assert_allclose(table.grad, expected, rtol=1e-12, atol=1e-12)
    weight = rg.tensor(rng.standard_normal((width, classes)), requires_grad=True)
    rg.one_hot_linear(index, weight).backward(upstream)
    np.testing.assert_allclose(weight.grad, expected.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("runs", "rows", "width", "by_reduceat"),
    [(33, 1120, 128, False), (28, 1120, 512, False), (20, 20, 100, True), (255, 1120, 32, True)],
)
def test_runs_are_summed_the_cheaper_way(runs, rows, width, by_reduceat):
    """The measured choices: a one-hot step's few long runs (small, d2l) one by one, an
    embedding's short runs (the word model) and many runs of narrow rows by reduceat."""
    assert shape._reduceat_is_cheaper(runs, np.empty((rows, width))) is by_reduceat


def test_take_gradient_of_many_rows_and_negative_indices():
    """More than 2**16 rows cannot be sorted as 16-bit integers; negative indices count from
    the end, and their gradients reach the rows they name."""
    rows = (1 << 16) + 5
    index = np.array([-1, 3, rows - 1, 65_538, -2, 3, *range(RADIX_SORT_SIZE)])
    upstream = np.arange(index.size * 2, dtype=np.float64).reshape(-1, 2)
    expected = np.zeros((rows, 2))
    np.add.at(expected, index, upstream)
    table = rg.tensor(np.zeros((rows, 2)), requires_grad=True)
    rg.take(table, index).backward(upstream)
    np.testing.assert_array_equal(table.grad, expected)


@pytest.mark.parametrize("count", [2, 20])
@pytest.mark.parametrize("bias_dtype", [np.float32, np.float64])
def test_one_hot_linear_adds_its_bias_as_the_product_does(count, bias_dtype):
    """Fewer indices than classes add the bias to the rows looked up, more add it to the
    table first: either way the sums of the one-hot product, in the promoted dtype."""
    rng = np.random.default_rng(count)
    index = rng.integers(0, 7, count)
    weight = rg.tensor(rng.standard_normal((4, 7)).astype(np.float32), requires_grad=True)
    bias = rg.tensor(rng.standard_normal(4).astype(bias_dtype), requires_grad=True)
    out = rg.one_hot_linear(index, weight, bias)
    one_hot = np.eye(7, dtype=np.float32)[index]
    expected = one_hot @ weight.data.T + bias.data
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.data, expected)
    out.sum().backward()
    np.testing.assert_allclose(weight.grad, np.ones((4, count)) @ one_hot)
    np.testing.assert_array_equal(bias.grad, np.full(4, count))


@pytest.mark.parametrize("classes", [7, 60])
def test_lookup_gradients_of_no_indices_are_zero(classes):
    table = rg.tensor(np.ones((classes, 300)), requires_grad=True)
    weight = rg.tensor(np.ones((300, classes)), requires_grad=True)
    index = np.zeros((0, 2), dtype=np.int64)
    (rg.take(table, index).sum() + rg.one_hot_linear(index, weight).sum()).backward()
    assert not table.grad.any() and not weight.grad.any()


@pytest.fixture
def tight_deadline():
    """The hypothesis profile in use with a 10 ms deadline (the test profiles have none).

    Failures are not shrunk: shrinking a slow function takes seconds.
    """
    previous = settings.get_current_profile_name()
    settings.register_profile(
        "tight_deadline",
        settings.get_profile(previous),
        deadline=10,
        phases=[Phase.explicit, Phase.generate],
        database=None,
    )
    settings.load_profile("tight_deadline")
    yield
    settings.load_profile(previous)


def test_assert_gradients_has_no_deadline_unless_given(tight_deadline):
    def slow_tanh(x):
        time.sleep(0.005)  # gradcheck calls it 7 times: 35 ms an example
        return x.tanh()

    assert_gradients(slow_tanh, shapes=[(3,)], max_examples=2)
    with pytest.raises(DeadlineExceeded):
        assert_gradients(
            slow_tanh, shapes=[(3,)], max_examples=2, deadline=timedelta(milliseconds=10)
        )


@pytest.mark.parametrize(
    ("dtype", "domain"),
    # Each bound rounds outward to the nearest value of the dtype (-1e6 and
    # -1e39 to -inf).
    [(np.float16, [(-1e6, -0.1), (0.1, 2.0)]), (np.float32, [(-1e39, 0.1)])],
)
@given(data=st.data())
def test_arrays_hold_values_of_their_dtype_within_the_domain(dtype, domain, data):
    a = data.draw(arrays((4,), domain, dtype))
    assert a.dtype == dtype
    assert all(any(low <= v <= high for low, high in domain) for v in a.tolist())


def test_values_refuses_a_domain_without_values_of_its_dtype():
    with pytest.raises(ValueError, match=r"\(100000, 1e\+06\) holds no finite normal float16"):
        values((1e5, 1e6), np.float16)
    with pytest.raises(TypeError, match="dtype must be float16, float32 or float64"):
        values((0.0, 1.0), np.int64)


def test_assert_gradients_takes_numpy_bounds():
    assert_gradients(lambda x: x.tanh(), [(2,)], domain=(np.int64(-1), np.float32(1.0)))
