"""Class weights and label smoothing of cross_entropy, and nll_loss, against PyTorch.

Values and gradients are compared in float64 to 1e-10 over every reduction, with
and without ignored targets, on (N, C) and (N, C, d1) inputs. The one documented
difference: a mean over no target, or over targets whose weights sum to 0, is 0
with gradient 0 where PyTorch gives NaN.
"""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import ShapeError
from retrograd.nn import functional as F

RNG = np.random.default_rng(7)
WEIGHT = np.array([0.5, 2.0, 1.0, 0.0, 1.5])
TOLERANCE = {"rtol": 1e-10, "atol": 1e-10}
OPTIONS = {
    "weight": {"weight": WEIGHT},
    "smoothing": {"label_smoothing": 0.3},
    "both": {"weight": WEIGHT, "label_smoothing": 0.15},
    "full_smoothing": {"weight": WEIGHT, "label_smoothing": 1.0},
}


def _case(shape: tuple[int, ...], ignored: str, ignore_index: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits of `shape` (N, C, ...) and targets with none, some or all set to ignore_index."""
    logits = RNG.normal(scale=3.0, size=shape)
    target = RNG.integers(0, shape[1], size=(shape[0], *shape[2:]))
    if ignored == "some":
        target.reshape(-1)[::3] = ignore_index
    elif ignored == "all":
        target[...] = ignore_index
    return logits, target


def _ours(loss, logits, target, reduction, **options):
    """The loss and the logits' gradient, the loss weighted so every element counts apart."""
    x = rg.tensor(logits, requires_grad=True)
    out = loss(x, target, reduction, **options)
    (out * np.arange(1.0, out.data.size + 1).reshape(out.shape)).sum().backward()
    return out.data, x.grad


def _theirs(torch, loss, logits, target, reduction, **options):
    if "weight" in options:
        options = {**options, "weight": torch.as_tensor(options["weight"])}
    x = torch.tensor(logits, requires_grad=True)
    out = loss(x, torch.as_tensor(target), reduction=reduction, **options)
    (
        out * torch.arange(1.0, out.numel() + 1, dtype=torch.float64).reshape(out.shape)
    ).sum().backward()
    return out.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 4)], ids=["2d", "3d"])
@pytest.mark.parametrize("ignored", ["none", "some"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_cross_entropy_options_match_torch(option, reduction, ignored, shape):
    torch = pytest.importorskip("torch")
    logits, target = _case(shape, ignored, ignore_index=-100)
    ours = _ours(F.cross_entropy, logits, target, reduction, **OPTIONS[option])
    theirs = _theirs(
        torch, torch.nn.functional.cross_entropy, logits, target, reduction, **OPTIONS[option]
    )
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, **TOLERANCE)


@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 4)], ids=["2d", "3d"])
@pytest.mark.parametrize("ignored", ["none", "some"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weight"])
def test_nll_loss_matches_torch(weighted, reduction, ignored, shape):
    torch = pytest.importorskip("torch")
    logits, target = _case(shape, ignored, ignore_index=2)
    options = {"ignore_index": 2, **({"weight": WEIGHT} if weighted else {})}
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    ours = _ours(F.nll_loss, log_probs, target, reduction, **options)
    theirs = _theirs(torch, torch.nn.functional.nll_loss, log_probs, target, reduction, **options)
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, **TOLERANCE)


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_cross_entropy_loss_module_passes_its_options(option):
    torch = pytest.importorskip("torch")
    logits, target = _case((3, 5, 2), "some", ignore_index=1)
    ours = nn.CrossEntropyLoss(ignore_index=1, **OPTIONS[option])(rg.tensor(logits), target)
    theirs_options = {
        k: torch.as_tensor(v) if k == "weight" else v for k, v in OPTIONS[option].items()
    }
    module = torch.nn.CrossEntropyLoss(ignore_index=1, **theirs_options)
    expected = module(torch.as_tensor(logits), torch.as_tensor(target))
    np.testing.assert_allclose(ours.data, expected.numpy(), **TOLERANCE)


def test_nll_loss_module_after_log_softmax_equals_cross_entropy():
    logits, target = _case((4, 5), "some", ignore_index=-100)
    x = rg.tensor(logits)
    nll = nn.NLLLoss(weight=WEIGHT)(x.log_softmax(axis=1), target)
    ce = nn.CrossEntropyLoss(weight=WEIGHT)(x, target)
    np.testing.assert_allclose(nll.data, ce.data, **TOLERANCE)


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss], ids=["cross_entropy", "nll"])
@pytest.mark.parametrize("option", ["weight", "both", "zero_weights"])
def test_mean_over_no_weight_is_zero_with_zero_gradient(loss, option):
    """The documented choice of the unweighted mean over no target, kept for weights: all
    targets ignored, or every kept target of a class with weight 0 (PyTorch gives NaN)."""
    options = dict(OPTIONS.get(option, {"weight": WEIGHT}))
    if loss is F.nll_loss:
        options.pop("label_smoothing", None)
    logits, target = _case((4, 5), "all", ignore_index=-100)
    if option == "zero_weights":
        target[:] = 3  # WEIGHT[3] == 0
    value, grad = _ours(loss, logits, target, "mean", **options)
    assert value == 0.0 and not np.isnan(value)
    np.testing.assert_array_equal(grad, np.zeros_like(logits))


@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_all_ignored_targets_give_zero_losses_with_options(reduction):
    logits, target = _case((3, 5, 2), "all", ignore_index=-100)
    value, grad = _ours(F.cross_entropy, logits, target, reduction, **OPTIONS["both"])
    np.testing.assert_array_equal(value, np.zeros(target.shape if reduction == "none" else ()))
    np.testing.assert_array_equal(grad, np.zeros_like(logits))


def test_nll_loss_ignores_an_ignored_rows_minus_infinity():
    """An ignored row may hold -inf (a log-probability of 0): no NaN in loss or gradient."""
    log_probs = np.array([[-np.inf, 0.0], [np.log(0.25), np.log(0.75)]])
    value, grad = _ours(F.nll_loss, log_probs, np.array([-100, 1]), "mean")
    assert value == pytest.approx(-np.log(0.75))
    np.testing.assert_array_equal(grad, [[0.0, 0.0], [0.0, -1.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss], ids=["cross_entropy", "nll"])
def test_weighted_losses_keep_the_input_dtype(loss, dtype):
    x = rg.tensor(RNG.normal(size=(4, 5)).astype(dtype), requires_grad=True)
    out = loss(x, [0, 1, -100, 4], weight=[1, 2, 3, 4, 5])
    out.backward()
    assert out.dtype == dtype and x.grad.dtype == dtype


def test_cross_entropy_without_options_records_the_plain_op():
    """No weight and no smoothing takes the unchanged fast path: no option in the node."""
    x = rg.tensor(RNG.normal(size=(3, 4)), requires_grad=True)
    out = F.cross_entropy(x, [0, 1, 2], label_smoothing=0.0)
    assert dict(out._node.params) == {"ignore_index": -100, "reduction": "mean"}


@pytest.mark.parametrize(
    ("weight", "error", "message"),
    [
        (
            [1.0, 2.0],
            ShapeError,
            r"cross_entropy\(\): weight must hold one value per class, "
            r"shape \(3,\), got shape \(2,\)",
        ),
        ([[1.0], [2.0], [3.0]], ShapeError, r"weight must be 1-D .*got shape \(3, 1\)"),
        ([1.0, -2.0, 3.0], ValueError, r"weight must be finite and non-negative, got -2.0"),
        ([1.0, np.nan, 3.0], ValueError, r"weight must be finite and non-negative, got nan"),
        (["a", "b", "c"], TypeError, r"weight must be an array of real numbers"),
        (np.array([True, False, True]), TypeError, r"weight must be .* got dtype bool"),
        (rg.tensor([1.0, 2.0, 3.0], requires_grad=True), ValueError, r"pass weight.detach\(\)"),
    ],
)
@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss], ids=["cross_entropy", "nll"])
def test_class_weight_is_checked(loss, weight, error, message):
    name = "cross_entropy" if loss is F.cross_entropy else "nll_loss"
    with pytest.raises(error, match=message.replace("cross_entropy", name)):
        loss(rg.tensor(np.zeros((2, 3))), [0, 1], weight=weight)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (1.5, ValueError),
        (-0.1, ValueError),
        (np.nan, ValueError),
        (True, TypeError),
        ("0.1", TypeError),
        (None, TypeError),
    ],
)
def test_label_smoothing_outside_zero_one_is_refused(value, error):
    """PyTorch refuses above 1 and silently takes a negative value as 0; both are refused."""
    with pytest.raises(error, match=r"cross_entropy\(\): label_smoothing must be"):
        F.cross_entropy(rg.tensor(np.zeros((2, 3))), [0, 1], label_smoothing=value)
    with pytest.raises(error, match=r"CrossEntropyLoss: label_smoothing must be"):
        nn.CrossEntropyLoss(label_smoothing=value)


@pytest.mark.parametrize("module", [nn.CrossEntropyLoss, nn.NLLLoss])
def test_loss_module_checks_its_weight_when_made(module):
    with pytest.raises(ValueError, match=rf"{module.__name__}: weight must be finite"):
        module(weight=[1.0, -1.0])
    with pytest.raises(ShapeError, match=r"weight must hold one value per class, shape \(3,\)"):
        module(weight=[1.0, 1.0])(rg.tensor(np.zeros((2, 3))), [0, 1])


def test_class_weight_given_by_position_is_named():
    """PyTorch's third positional argument is the weight; here it would be the reduction."""
    with pytest.raises(TypeError, match=r"reduction must be one of .*weight is a keyword"):
        F.nll_loss(rg.tensor(np.zeros((2, 3))), [0, 1], np.ones(3))
    with pytest.raises(TypeError, match=r"reduction must be one of .*weight is a keyword"):
        F.cross_entropy(rg.tensor(np.zeros((2, 3))), [0, 1], np.ones(3))
    with pytest.raises(TypeError, match=r"reduction must be one of .*weight is a keyword"):
        nn.CrossEntropyLoss(np.ones(3))


def test_nll_loss_refuses_a_target_out_of_range_and_bad_inputs():
    with pytest.raises(IndexError, match=r"nll_loss\(\): target: index 3 is out of range"):
        F.nll_loss(rg.tensor(np.zeros((2, 3))), [0, 3])
    with pytest.raises(ShapeError, match=r"nll_loss\(\): input must be \(N, C\)"):
        F.nll_loss(rg.tensor(np.float64(0.0)), 0)
    with pytest.raises(ShapeError, match=r"needs target of shape \(2,\), got \(3,\)"):
        F.nll_loss(rg.tensor(np.zeros((2, 3))), [0, 1, 2])
    with pytest.raises(TypeError, match=r"nll_loss\(\): target must hold integers"):
        F.nll_loss(rg.tensor(np.zeros((2, 3))), [0.0, 1.0])
    with pytest.raises(TypeError, match=r"nll_loss\(\): ignore_index must be an integer"):
        F.nll_loss(rg.tensor(np.zeros((2, 3))), [0, 1], ignore_index=1.0)


def test_loss_modules_show_their_options():
    loss = nn.CrossEntropyLoss(ignore_index=0, weight=[1, 2, 3], label_smoothing=0.1)
    assert repr(loss) == "CrossEntropyLoss(ignore_index=0, weight=(3,), label_smoothing=0.1)"
    assert repr(nn.NLLLoss(reduction="sum")) == "NLLLoss(reduction='sum')"
    assert loss.weight.dtype == np.float64 and not loss.weight.requires_grad
