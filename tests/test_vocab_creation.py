"""PyTorch's creation vocabulary (linspace, eye, empty, full_like, as_tensor, meshgrid,
hstack..., and the random functions with manual_seed) against torch and by their laws."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import ShapeError


def _same(ours, theirs):
    """Equal values, shape and dtype name (float32, int64...)."""
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("start", "end", "steps"), [(0, 1, 5), (-2.5, 3.0, 7), (1, 1, 1), (0, 1, 0), (3, -1, 4)]
)
def test_linspace_matches_torch(start, end, steps):
    torch = pytest.importorskip("torch")
    _same(rg.linspace(start, end, steps), torch.linspace(start, end, steps))
    _same(
        rg.linspace(start, end, steps, dtype=np.float64),
        torch.linspace(start, end, steps, dtype=torch.float64),
    )


@pytest.mark.parametrize(("n", "m"), [(3, None), (2, 4), (4, 2), (0, 3)])
def test_eye_matches_torch(n, m):
    torch = pytest.importorskip("torch")
    _same(rg.eye(n, m), torch.eye(n) if m is None else torch.eye(n, m))


def test_empty_full_like_zeros_like_ones_like_keep_dtype_as_torch():
    torch = pytest.importorskip("torch")
    assert rg.empty(2, 3).shape == (2, 3) and rg.empty(2, 3).dtype == np.float32
    assert not rg.empty((2,)).data.any()
    for values in ([1, 2, 3], [1.5, 2.5], [True, False]):
        ours, theirs = rg.tensor(values), torch.tensor(values)
        _same(rg.full_like(ours, 2.7), torch.full_like(theirs, 2.7))
        _same(rg.zeros_like(ours), torch.zeros_like(theirs))
        _same(rg.ones_like(ours), torch.ones_like(theirs))
    _same(
        rg.full_like(rg.tensor([1, 2]), 7, dtype=np.float64),
        torch.full_like(torch.tensor([1, 2]), 7, dtype=torch.float64),
    )
    with pytest.raises(TypeError, match=r"full_like\(\): fill_value"):
        rg.full_like(rg.ones(2), [1.0])


def test_as_tensor_shares_memory_as_torch():
    array = np.arange(3.0)
    shared = rg.as_tensor(array)
    array[0] = 5.0
    assert shared.dtype == np.float64 and shared.data[0] == 5.0
    copied = rg.as_tensor(array, dtype=np.float32)
    array[1] = 7.0
    assert copied.dtype == np.float32 and copied.data[1] == 1.0
    t = rg.ones(2)
    assert rg.as_tensor(t) is t and rg.as_tensor(t, dtype=np.float32) is t
    assert rg.as_tensor(t, dtype=np.float64).dtype == np.float64
    assert rg.as_tensor([1.0, 2.0]).dtype == np.float32
    with pytest.raises(TypeError, match=r"as_tensor\(\): array must be numeric"):
        rg.as_tensor(np.array(["a"]))


def test_is_tensor():
    assert rg.is_tensor(rg.ones(1)) and not rg.is_tensor(np.ones(1))


def _grads(fn, shapes, torch_fn):
    """Values and gradients of `fn` (a list of outputs) against torch, in float64."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [rg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs, refs = fn(*ours), torch_fn(torch, *theirs)
    outs = outs if isinstance(outs, tuple) else (outs,)
    refs = refs if isinstance(refs, tuple) else (refs,)
    total, ref_total = 0, 0
    for out, ref in zip(outs, refs, strict=True):
        assert out.shape == tuple(ref.shape)
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10)
        weights = rng.standard_normal(out.shape)
        total = total + (out * weights).sum()
        ref_total = ref_total + (ref * torch.tensor(weights)).sum()
    total.backward()
    ref_total.backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-10)


JOINS = {
    "broadcast_tensors": (rg.broadcast_tensors, "broadcast_tensors", [(2, 1), (3,), ()]),
    "meshgrid_ij": (rg.meshgrid, "meshgrid", [(3,), (2,), (4,)]),
    "meshgrid_0d": (rg.meshgrid, "meshgrid", [(), (2,)]),
    "hstack_1d": (lambda *xs: rg.hstack(xs), "hstack", [(3,), (), (2,)]),
    "hstack_2d": (lambda *xs: rg.hstack(xs), "hstack", [(2, 3), (2, 1)]),
    "vstack": (lambda *xs: rg.vstack(xs), "vstack", [(3,), (2, 3), ()]),
    "atleast_1d": (rg.atleast_1d, "atleast_1d", [(), (2,), (2, 3)]),
    "atleast_2d": (rg.atleast_2d, "atleast_2d", [(), (2,), (2, 3)]),
}


@pytest.mark.parametrize("name", JOINS)
def test_joins_match_torch_with_gradients(name):
    fn, torch_name, shapes = JOINS[name]
    if name == "vstack":
        shapes = [(3,), (2, 3), (1, 3)]

    def torch_fn(th, *xs):
        if torch_name in ("hstack", "vstack"):
            return getattr(th, torch_name)(xs)
        if torch_name == "meshgrid":
            return th.meshgrid(*xs, indexing="ij")
        return getattr(th, torch_name)(*xs)

    _grads(fn, shapes, torch_fn)


def test_meshgrid_xy_and_default_match_torch():
    _grads(
        lambda a, b, c: rg.meshgrid(a, b, c, indexing="xy"),
        [(3,), (2,), (4,)],
        lambda th, a, b, c: th.meshgrid(a, b, c, indexing="xy"),
    )
    _grads(
        lambda a, b: rg.meshgrid([a, b]),
        [(3,), (2,)],
        lambda th, a, b: th.meshgrid(a, b, indexing="ij"),
    )


def test_atleast_returns_one_tensor_for_one():
    x = rg.ones(2, 2)
    assert rg.atleast_2d(x) is x and rg.atleast_1d(rg.tensor(1.0)).shape == (1,)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: rg.linspace(0, 1, -1), ValueError, ["linspace()", "steps"]),
        (lambda: rg.linspace(0, 1, 2.5), ValueError, ["linspace()", "steps"]),
        (lambda: rg.linspace(0, float("inf"), 3), ValueError, ["linspace()", "finite"]),
        (lambda: rg.eye(-1), ValueError, ["eye()", "negative"]),
        (lambda: rg.eye(2.5), TypeError, ["eye()"]),
        (lambda: rg.empty(-2), ValueError, ["empty()", "negative"]),
        (lambda: rg.broadcast_tensors(rg.ones(2), rg.ones(3)), ShapeError, ["broadcast_tensors"]),
        (lambda: rg.meshgrid(rg.ones(2, 2)), ShapeError, ["meshgrid()", "(2, 2)"]),
        (lambda: rg.meshgrid(rg.ones(2), indexing="yx"), ValueError, ["meshgrid()", "'yx'"]),
        (lambda: rg.vstack([rg.ones(2), rg.ones(3)]), ValueError, ["concat"]),
        (lambda: rg.hstack([]), ValueError, ["hstack()", "at least one tensor"]),
        (lambda: rg.vstack(()), ValueError, ["vstack()", "at least one tensor"]),
    ],
)
def test_creation_errors_name_function_and_argument(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# ----- random functions -----


def test_manual_seed_repeats_every_default_draw():
    def draws():
        return [
            rg.rand(3),
            rg.randn(2),
            rg.rand_like(rg.ones(2)),
            rg.randn_like(rg.ones(2, dtype=np.float64)),
            rg.randint(0, 10, (4,)),
            rg.randperm(5),
            rg.multinomial(rg.tensor([0.2, 0.3, 0.5]), 2),
            rg.bernoulli(rg.full((4,), 0.5)),
            rg.normal(0.0, 1.0, (3,)),
            rg.nn.Linear(2, 2).weight,
        ]

    assert rg.manual_seed(3) is rg.autograd.random_creation.default_generator
    first = draws()
    rg.manual_seed(3)
    second = draws()
    for a, b in zip(first, second, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a.data, b.data)
    assert not np.array_equal(rg.rand(8).data, rg.rand(8).data)


def test_manual_seed_reseeds_a_dropout_made_before():
    dropout = rg.nn.Dropout(0.5)
    rg.manual_seed(1)
    first = dropout(rg.ones(20)).data
    rg.manual_seed(1)
    assert np.array_equal(dropout(rg.ones(20)).data, first)


def test_explicit_generators_ignore_manual_seed():
    rg.manual_seed(0)
    a = rg.randint(5, (6,), generator=7)
    rg.manual_seed(1)
    assert np.array_equal(a.data, rg.randint(5, (6,), generator=7).data)


def test_random_dtypes_and_ranges_as_torch():
    torch = pytest.importorskip("torch")
    assert (
        rg.randint(3, 9, (50,)).dtype == np.int64 == np.dtype(str(torch.randint(3, (1,)).dtype)[6:])
    )
    drawn = rg.randint(3, 9, (500,), generator=0).data
    assert drawn.min() == 3 and drawn.max() == 8
    assert sorted(rg.randperm(6, generator=0).tolist()) == list(range(6))
    assert rg.randperm(0).shape == (0,) and rg.randperm(3).dtype == np.int64
    assert rg.rand_like(rg.ones(2, dtype=np.float64)).dtype == np.float64
    assert rg.randn_like(rg.ones(2, 3)).shape == (2, 3)
    assert rg.normal(0.0, 1.0, (2, 3)).dtype == np.float32
    assert rg.normal(rg.zeros(2, 1, dtype=np.float64), rg.ones(3, dtype=np.float64)).shape == (2, 3)
    assert rg.normal(rg.zeros(2, dtype=np.float64), 1.0).dtype == np.float64
    p = rg.tensor([0.0, 1.0, 0.5], dtype=np.float64)
    sample = rg.bernoulli(p, generator=0)
    assert sample.dtype == np.float64 and sample.data[0] == 0 and sample.data[1] == 1


def test_normal_mean_and_std_broadcast():
    x = rg.normal(rg.tensor([0.0, 100.0]), rg.tensor([1.0, 0.0]), generator=0)
    assert x.data[1] == 100.0 and abs(x.data[0]) < 5


def test_multinomial_draws_in_proportion_and_without_repeats():
    rows = rg.multinomial(rg.tensor([[1.0, 0.0, 3.0], [0.0, 1.0, 0.0]]), 2000, True, generator=0)
    assert rows.shape == (2, 2000) and rows.dtype == np.int64
    assert set(rows.data[1].tolist()) == {1} and 1 not in rows.data[0]
    assert abs((rows.data[0] == 2).mean() - 0.75) < 0.05
    unique = rg.multinomial(rg.tensor([1.0, 2.0, 3.0, 4.0]), 4, generator=0)
    assert sorted(unique.tolist()) == [0, 1, 2, 3]


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: rg.manual_seed(-1), TypeError, ["manual_seed()", "seed"]),
        (lambda: rg.manual_seed(1.5), TypeError, ["manual_seed()", "seed"]),
        (lambda: rg.randint(5), TypeError, ["randint()", "(high, size)"]),
        (lambda: rg.randint(5, 2, (3,)), ValueError, ["randint()", "low=5", "high=2"]),
        (lambda: rg.randint(0.5, (3,)), TypeError, ["randint()", "high"]),
        (lambda: rg.randperm(-1), ValueError, ["randperm()", "n"]),
        (lambda: rg.rand_like(rg.tensor([1, 2])), TypeError, ["rand_like()", "floating"]),
        (lambda: rg.randn_like(rg.ones(2), dtype=np.int64), TypeError, ["randn_like()"]),
        (lambda: rg.multinomial(rg.ones(2, 2, 2), 1), ValueError, ["multinomial()", "2-d"]),
        (lambda: rg.multinomial(rg.tensor([1.0, -1.0]), 1), ValueError, ["non-negative"]),
        (lambda: rg.multinomial(rg.tensor([0.0, 0.0]), 1), ValueError, ["positive total"]),
        (lambda: rg.multinomial(rg.tensor([1.0, 0.0]), 2), ValueError, ["2 samples", "1 category"]),
        (lambda: rg.multinomial(rg.tensor([1.0]), 0), ValueError, ["num_samples"]),
        (lambda: rg.bernoulli(rg.tensor([1.5])), ValueError, ["bernoulli()", "between 0 and 1"]),
        (lambda: rg.bernoulli(rg.tensor([1, 0])), TypeError, ["bernoulli()", "floating"]),
        (lambda: rg.normal(0.0, 1.0), TypeError, ["normal()", "size"]),
        (lambda: rg.normal(rg.zeros(2), 1.0, (2,)), TypeError, ["normal()", "size"]),
        (lambda: rg.normal(rg.zeros(2), rg.ones(3)), ValueError, ["normal()", "(2,)", "(3,)"]),
        (lambda: rg.normal(0.0, -1.0, (2,)), ValueError, ["normal()", "std"]),
    ],
)
def test_random_errors_name_function_and_argument(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))
