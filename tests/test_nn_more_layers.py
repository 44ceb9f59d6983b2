"""LayerNorm, Softmax, LogSoftmax, Flatten and the L1, BCE, Huber and smooth L1 losses:
values and gradients against PyTorch (float64, 1e-10), their errors and their reprs."""

from collections.abc import Callable

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import ShapeError, gradcheck
from retrograd.nn import functional as F

REDUCTIONS = ["mean", "sum", "none"]


def compare_with_torch(ours: Callable, theirs: Callable, *arrays: np.ndarray) -> None:
    """ours(*tensors) and theirs(*torch tensors) agree in value and in the gradient of every
    input, the output weighted by fixed random numbers (so "none" checks each element)."""
    torch = pytest.importorskip("torch")
    ours_in = [rg.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out, expected = ours(*ours_in), theirs(*theirs_in)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-10)
    upstream = np.random.default_rng(7).standard_normal(out.shape)
    (out * upstream).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    for mine, torch_leaf in zip(ours_in, theirs_in):
        np.testing.assert_allclose(mine.grad, torch_leaf.grad.numpy(), rtol=1e-10, atol=1e-10)


def normal(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# ----- LayerNorm -----


@pytest.mark.parametrize("shape", [(4,), (3, 4)])
@pytest.mark.parametrize("affine, bias", [(True, True), (True, False), (False, False)])
def test_layer_norm_module_matches_torch(shape, affine, bias) -> None:
    torch = pytest.importorskip("torch")
    ours = nn.LayerNorm(shape, eps=1e-3, elementwise_affine=affine, bias=bias, dtype=np.float64)
    theirs = torch.nn.LayerNorm(
        shape, eps=1e-3, elementwise_affine=affine, bias=bias, dtype=torch.float64
    )
    params = [name for name, _ in ours.named_parameters()]
    assert params == [name for name, _ in theirs.named_parameters()]
    values = [normal(*shape, seed=i + 1) for i in range(len(params))]

    def ours_fn(x, *tensors):
        return nn.functional_call(ours, dict(zip(params, tensors)), x)

    def theirs_fn(x, *tensors):
        return torch.func.functional_call(theirs, dict(zip(params, tensors)), (x,))

    compare_with_torch(ours_fn, theirs_fn, normal(2, 3, 4) * 3 + 1, *values)


def test_layer_norm_functional_matches_torch_with_weight_only() -> None:
    torch = pytest.importorskip("torch")
    compare_with_torch(
        lambda x, w: F.layer_norm(x, (3, 4), w),
        lambda x, w: torch.nn.functional.layer_norm(x, (3, 4), w),
        normal(2, 3, 4),
        normal(3, 4, seed=1),
    )


def test_layer_norm_gradient_passes_gradcheck() -> None:
    x, w, b = (rg.tensor(normal(*s, seed=1), requires_grad=True) for s in [(2, 5), (5,), (5,)])
    assert gradcheck(lambda x, w, b: F.layer_norm(x, 5, w, b), [x, w, b])


def test_layer_norm_starts_at_ones_and_zeros_and_normalises() -> None:
    layer = nn.LayerNorm(6)
    assert layer.weight.dtype == np.float32 and layer.bias.shape == (6,)
    np.testing.assert_array_equal(layer.weight.data, 1)
    np.testing.assert_array_equal(layer.bias.data, 0)
    out = layer(normal(4, 6).astype(np.float32) * 5 + 2).data
    np.testing.assert_allclose(out.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(-1), 1, atol=1e-3)


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((0,), TypeError, "LayerNorm: normalized_shape must be a positive integer"),
        ((2.0,), TypeError, "LayerNorm: normalized_shape must be a positive integer"),
        (((),), TypeError, "non-empty sequence"),
        ((4, -1e-5), ValueError, "LayerNorm: eps must be a finite non-negative number"),
        ((4, float("nan")), ValueError, "LayerNorm: eps must be a finite non-negative"),
    ],
)
def test_layer_norm_refuses_bad_arguments(args, error, message) -> None:
    with pytest.raises(error, match=message):
        nn.LayerNorm(*args)


def test_layer_norm_errors_name_shapes_and_dtypes() -> None:
    layer = nn.LayerNorm((3, 4))
    with pytest.raises(ShapeError, match=r"input of shape \(2, 4, 3\) does not end in .*\(3, 4\)"):
        layer(np.zeros((2, 4, 3), np.float32))
    with pytest.raises(ShapeError, match=r"does not end in"):
        layer(np.zeros(4, np.float32))
    with pytest.raises(TypeError, match="LayerNorm: input dtype float64 does not match"):
        layer(np.zeros((3, 4)))
    with pytest.raises(TypeError, match=r"layer_norm\(\): input must be floating"):
        F.layer_norm(rg.tensor(np.zeros((2, 4), np.int64)), 4)
    with pytest.raises(ShapeError, match=r"bias must have normalized_shape \(4,\), got shape"):
        F.layer_norm(rg.zeros(2, 4), 4, rg.ones(4), rg.zeros(3))


# ----- Softmax, LogSoftmax, Flatten -----


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_modules_match_torch(dim) -> None:
    torch = pytest.importorskip("torch")
    x = normal(3, 4, 2)
    compare_with_torch(nn.Softmax(dim), torch.nn.Softmax(dim), x)
    compare_with_torch(nn.LogSoftmax(dim=dim), torch.nn.LogSoftmax(dim=dim), x)


@pytest.mark.parametrize("start, end", [(1, -1), (0, -1), (1, 2), (-2, -1), (2, 2)])
def test_flatten_matches_torch(start, end) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = nn.Flatten(start, end), torch.nn.Flatten(start, end)
    assert ours(np.zeros((2, 3, 4, 5))).shape == tuple(theirs(torch.zeros(2, 3, 4, 5)).shape)
    compare_with_torch(ours, theirs, normal(2, 3, 4, 5))


@pytest.mark.parametrize("make", [lambda: nn.Softmax(None), lambda: nn.LogSoftmax(1.0)])
def test_softmax_modules_refuse_a_dim_that_is_not_an_axis(make) -> None:
    with pytest.raises(TypeError, match="Softmax: dim must be an integer"):
        make()


def test_flatten_refuses_bad_dims() -> None:
    with pytest.raises(TypeError, match="Flatten: end_dim must be an integer"):
        nn.Flatten(1, None)
    with pytest.raises(ValueError, match="start_dim 2 comes after end_dim 1"):
        nn.Flatten(2, 1)(np.zeros((2, 3, 4)))


# ----- losses -----


def loss_pairs(torch) -> dict[str, tuple]:
    """Each loss as (ours, theirs, input array, target array): functional forms with options."""
    x, y = normal(4, 3) * 2, normal(4, 3, seed=1) * 2
    p = np.random.default_rng(2).uniform(0.05, 0.95, (4, 3))
    soft = np.random.default_rng(3).uniform(0, 1, (4, 3))
    tf = torch.nn.functional
    return {
        "l1": (F.l1_loss, tf.l1_loss, x, y),
        "bce": (F.binary_cross_entropy, tf.binary_cross_entropy, p, soft),
        "huber": (F.huber_loss, tf.huber_loss, x, y),
        "huber_delta": (
            lambda a, b, r: F.huber_loss(a, b, r, delta=0.4),
            lambda a, b, reduction: tf.huber_loss(a, b, reduction, delta=0.4),
            x,
            y,
        ),
        "smooth_l1": (F.smooth_l1_loss, tf.smooth_l1_loss, x, y),
        "smooth_l1_beta": (
            lambda a, b, r: F.smooth_l1_loss(a, b, r, beta=2.5),
            lambda a, b, reduction: tf.smooth_l1_loss(a, b, reduction=reduction, beta=2.5),
            x,
            y,
        ),
        "smooth_l1_beta_0": (
            lambda a, b, r: F.smooth_l1_loss(a, b, r, beta=0.0),
            lambda a, b, reduction: tf.smooth_l1_loss(a, b, reduction=reduction, beta=0.0),
            x,
            y,
        ),
    }


@pytest.mark.parametrize(
    "name", ["l1", "bce", "huber", "huber_delta", "smooth_l1", "smooth_l1_beta", "smooth_l1_beta_0"]
)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_matches_torch_for_input_and_target(name, reduction) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs, x, y = loss_pairs(torch)[name]
    compare_with_torch(
        lambda a, b: ours(a, b, reduction), lambda a, b: theirs(a, b, reduction=reduction), x, y
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_modules_match_torch(reduction) -> None:
    torch = pytest.importorskip("torch")
    x, y = normal(5, 2), normal(5, 2, seed=1)
    pairs = [
        (nn.L1Loss(reduction), torch.nn.L1Loss(reduction=reduction)),
        (nn.HuberLoss(reduction, delta=0.3), torch.nn.HuberLoss(reduction, delta=0.3)),
        (nn.SmoothL1Loss(reduction, 0.7), torch.nn.SmoothL1Loss(reduction=reduction, beta=0.7)),
    ]
    for ours, theirs in pairs:
        compare_with_torch(ours, theirs, x, y)
    p, t = 1 / (1 + np.exp(-x)), (y > 0).astype(float)
    compare_with_torch(nn.BCELoss(reduction), torch.nn.BCELoss(reduction=reduction), p, t)


def test_huber_and_smooth_l1_at_their_seams_match_torch() -> None:
    """Differences of exactly 0, +-delta and beyond: the pieces meet with torch's gradients."""
    torch = pytest.importorskip("torch")
    x = np.array([0.0, 0.5, -0.5, 1.0, -1.0, 2.0, 0.25])
    target = np.zeros_like(x)
    tf = torch.nn.functional
    compare_with_torch(
        lambda a, b: F.huber_loss(a, b, "none", 0.5),
        lambda a, b: tf.huber_loss(a, b, "none", delta=0.5),
        x,
        target,
    )
    compare_with_torch(
        lambda a, b: F.smooth_l1_loss(a, b, "none", 1.0),
        lambda a, b: tf.smooth_l1_loss(a, b, reduction="none", beta=1.0),
        x,
        target,
    )
    compare_with_torch(
        lambda a, b: F.l1_loss(a, b, "none"), lambda a, b: tf.l1_loss(a, b, reduction="none"), x, x
    )


def test_bce_floors_logs_at_minus_100_as_torch() -> None:
    """Probabilities of exactly 0 and 1, and below e^-100: torch's values, finite gradients
    that are torch's wherever p (1 - p) >= 1e-12 (and 0 where a log is floored)."""
    torch = pytest.importorskip("torch")
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-50, 1e-5, 1 - 1e-6, 0.5])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.3])
    ours = rg.tensor(p, requires_grad=True)
    theirs = torch.tensor(p, requires_grad=True)
    loss = F.binary_cross_entropy(ours, y, "none")
    expected = torch.nn.functional.binary_cross_entropy(theirs, torch.tensor(y), reduction="none")
    np.testing.assert_allclose(loss.data, expected.detach().numpy(), rtol=1e-10)
    assert loss.data[0] == loss.data[1] == 100.0
    loss.sum().backward()
    expected.sum().backward()
    assert np.isfinite(ours.grad).all()
    interior = p * (1 - p) >= 1e-12
    np.testing.assert_allclose(ours.grad[interior], theirs.grad.numpy()[interior], rtol=1e-10)
    np.testing.assert_array_equal(ours.grad[[0, 1, 4]], 0.0)


def test_bce_keeps_float32_and_floors_at_minus_100() -> None:
    loss = nn.BCELoss("none")(np.array([0.0, 1.0], np.float32), np.array([1, 0]))
    assert loss.dtype == np.float32
    np.testing.assert_array_equal(loss.data, [100.0, 100.0])


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_bce_refuses_an_input_outside_zero_one(value) -> None:
    p = rg.tensor([[0.2, 0.3], [value, 0.9]])
    with pytest.raises(
        ValueError, match=r"binary_cross_entropy\(\): input must hold prob.*\(1, 0\)"
    ):
        F.binary_cross_entropy(p, np.zeros((2, 2)))


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: nn.HuberLoss(delta=0.0), ValueError, "HuberLoss: delta must be a finite positive"),
        (lambda: nn.HuberLoss(delta=True), TypeError, "HuberLoss: delta must be a number"),
        (lambda: nn.HuberLoss(delta="1"), TypeError, "HuberLoss: delta must be a number"),
        (lambda: nn.SmoothL1Loss(beta=-1.0), ValueError, "SmoothL1Loss: beta must be a finite non"),
        (lambda: nn.SmoothL1Loss(beta=float("inf")), ValueError, "SmoothL1Loss: beta must be"),
        (lambda: nn.L1Loss("avg"), ValueError, r"L1Loss\(\): reduction must be one of"),
        (lambda: nn.BCELoss(np.ones(3)), TypeError, r"BCELoss\(\): reduction must be one of"),
        (
            lambda: F.huber_loss(rg.zeros(2), np.zeros(2), delta=-1),
            ValueError,
            r"huber_loss\(\): delta must be a finite positive number, got -1",
        ),
        (
            lambda: F.smooth_l1_loss(rg.zeros(2), np.zeros(2), "total"),
            ValueError,
            r"smooth_l1_loss\(\): reduction must be one of",
        ),
    ],
)
def test_loss_options_are_checked(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize(
    "fn", [F.l1_loss, F.binary_cross_entropy, F.huber_loss, F.smooth_l1_loss, F.mse_loss]
)
def test_elementwise_losses_refuse_other_shapes_and_integer_inputs(fn) -> None:
    name = fn.__name__
    with pytest.raises(ShapeError, match=rf"{name}: target shape \(3,\) differs from input shape"):
        fn(rg.full((3, 1), 0.5), np.zeros(3))
    with pytest.raises(TypeError, match=rf"{name}\(\): input must be floating"):
        fn(rg.tensor([1, 0]), np.zeros(2))
    with pytest.raises(TypeError, match=rf"{name}\(\): target must be an array of real"):
        fn(rg.full((2,), 0.5), ["a", "b"])


def test_losses_take_integer_targets_in_the_input_dtype() -> None:
    x = rg.tensor(np.array([0.25, 0.75], np.float32), requires_grad=True)
    for loss in (nn.L1Loss(), nn.BCELoss(), nn.HuberLoss(), nn.SmoothL1Loss()):
        assert loss(x, [0, 1]).dtype == np.float32


def test_reprs_match_torch() -> None:
    torch = pytest.importorskip("torch")
    pairs = [
        (nn.LayerNorm(4), torch.nn.LayerNorm(4)),
        (nn.LayerNorm((2, 3), 1e-6, False), torch.nn.LayerNorm((2, 3), 1e-6, False)),
        (nn.LayerNorm(5, bias=False), torch.nn.LayerNorm(5, bias=False)),
        (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
        (nn.LogSoftmax(-1), torch.nn.LogSoftmax(-1)),
        (nn.Flatten(), torch.nn.Flatten()),
        (nn.Flatten(0, 2), torch.nn.Flatten(0, 2)),
        (nn.L1Loss(), torch.nn.L1Loss()),
        (nn.BCELoss(), torch.nn.BCELoss()),
        (nn.HuberLoss(), torch.nn.HuberLoss()),
        (nn.SmoothL1Loss(), torch.nn.SmoothL1Loss()),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_loss_reprs_show_options_that_are_not_the_default() -> None:
    assert repr(nn.HuberLoss("sum", delta=2.0)) == "HuberLoss(reduction='sum', delta=2.0)"
    assert repr(nn.SmoothL1Loss(beta=0.5)) == "SmoothL1Loss(beta=0.5)"
    assert repr(nn.L1Loss("none")) == "L1Loss(reduction='none')"


def test_layer_norm_moves_to_torch_through_its_state_dict() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.LayerNorm(3, dtype=np.float64)
    ours.weight.data[:] = [1.0, 2.0, 3.0]
    theirs = torch.nn.LayerNorm(3, dtype=torch.float64)
    theirs.load_state_dict(nn.to_torch_state_dict(ours))
    x = normal(2, 3)
    expected = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-10)
