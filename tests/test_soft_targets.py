"""cross_entropy and CrossEntropyLoss against class probabilities (a floating target of the
logits' shape), as PyTorch's: values and gradients, to logits and target, in float64."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import ShapeError
from retrograd.nn import functional as F

WEIGHT = np.array([0.5, 2.0, 1.0, 0.25])


def _probabilities(shape: tuple, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits of `shape` and a target of class probabilities (rows summing to 1 on axis 1)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape) * 2
    target = rng.random(shape)
    return logits, target / target.sum(axis=1, keepdims=True)


def _both(loss_fn, torch_fn, logits: np.ndarray, target: np.ndarray, **options):
    """The loss and the gradients of logits and target, from retrograd and from torch, after
    a backward pass of the loss times a fixed upstream gradient."""
    torch = pytest.importorskip("torch")
    z, q = rg.tensor(logits, requires_grad=True), rg.tensor(target, requires_grad=True)
    tz, tq = torch.tensor(logits, requires_grad=True), torch.tensor(target, requires_grad=True)
    ours = loss_fn(z, q, **options)
    torch_options = {k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
    theirs = torch_fn(tz, tq, **torch_options)
    upstream = np.linspace(-1.0, 2.0, theirs.numel()).reshape(theirs.shape)
    (ours * upstream).sum().backward()
    (theirs * torch.tensor(upstream)).sum().backward()
    reference = tuple(t.detach().numpy() for t in (theirs, tz.grad, tq.grad))
    return (ours.data, z.grad, q.grad), reference


@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3, 2)], ids=["2d", "4d"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", [None, WEIGHT], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_probability_targets_match_torch(shape, reduction, weight, label_smoothing):
    torch = pytest.importorskip("torch")
    logits, target = _probabilities(shape, seed=len(shape))
    options = {"reduction": reduction, "weight": weight, "label_smoothing": label_smoothing}
    if weight is None:
        del options["weight"]
    torch_loss = torch.nn.functional.cross_entropy
    ours, theirs = _both(F.cross_entropy, torch_loss, logits, target, **options)
    for mine, torch_value in zip(ours, theirs, strict=True):
        assert mine.shape == torch_value.shape
        np.testing.assert_allclose(mine, torch_value, rtol=1e-10, atol=1e-10)


def test_weighted_mean_divides_by_the_number_of_losses_not_the_weights():
    """As PyTorch's: unlike integer targets, no weight sum enters the mean."""
    logits, target = _probabilities((3, 4), seed=1)
    z = rg.tensor(logits)
    each = F.cross_entropy(z, target, reduction="none", weight=WEIGHT)
    mean = F.cross_entropy(z, target, weight=WEIGHT)
    assert np.isclose(mean.item(), each.data.sum() / 3, rtol=1e-12)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(each.data, -(log_p * target * WEIGHT).sum(axis=1), rtol=1e-12)


def test_module_takes_probability_targets_as_torch():
    torch = pytest.importorskip("torch")
    logits, target = _probabilities((2, 4, 3), seed=2)
    ours = nn.CrossEntropyLoss(weight=WEIGHT, label_smoothing=0.1)
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(WEIGHT), label_smoothing=0.1)
    mine, reference = _both(lambda z, q: ours(z, q), lambda z, q: theirs(z, q), logits, target)
    for a, b in zip(mine, reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_one_hot_probabilities_give_the_integer_loss():
    logits, _ = _probabilities((4, 4), seed=3)
    classes = np.array([0, 3, 1, 3])
    soft = F.cross_entropy(rg.tensor(logits), np.eye(4)[classes], weight=WEIGHT, reduction="sum")
    hard = F.cross_entropy(rg.tensor(logits), classes, weight=WEIGHT, reduction="sum")
    assert np.isclose(soft.item(), hard.item(), rtol=1e-12)


def test_array_target_is_a_constant_in_the_logits_dtype():
    logits, target = _probabilities((3, 4), seed=4)
    z = rg.tensor(logits.astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(z, target.tolist())
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32


def test_negative_ignore_index_is_allowed_and_ignores_nothing():
    logits, target = _probabilities((3, 4), seed=5)
    default = F.cross_entropy(rg.tensor(logits), target)
    assert F.cross_entropy(rg.tensor(logits), target, ignore_index=-1).item() == default.item()


@pytest.mark.parametrize("ignore_index", [0, 3])
def test_non_negative_ignore_index_is_refused_as_torch_refuses_it(ignore_index):
    torch = pytest.importorskip("torch")
    logits, target = _probabilities((3, 4), seed=6)
    with pytest.raises(RuntimeError, match="ignore_index is not supported"):
        torch.nn.functional.cross_entropy(
            torch.tensor(logits), torch.tensor(target), ignore_index=ignore_index
        )
    message = rf"cross_entropy\(\): ignore_index={ignore_index} is not supported with class-prob"
    with pytest.raises(ValueError, match=message):
        F.cross_entropy(rg.tensor(logits), target, ignore_index=ignore_index)
    with pytest.raises(ValueError, match=message):
        nn.CrossEntropyLoss(ignore_index=ignore_index)(rg.tensor(logits), target)


FORMS = (
    r"cross_entropy\(\): target must be integers \(class indices\) of shape \(2, 5\), or "
    r"floats \(class probabilities\) of shape \(2, 4, 5\) like the logits; got dtype {} "
    r"and shape {}"
)


@pytest.mark.parametrize(
    ("target", "error", "got"),
    [
        (np.zeros((2, 5)), TypeError, (r"float64", r"\(2, 5\)")),  # float labels
        (np.zeros((2, 5, 4)), ShapeError, (r"float64", r"\(2, 5, 4\)")),
        (np.zeros((2, 4, 5), bool), TypeError, (r"bool", r"\(2, 4, 5\)")),
        (np.zeros((2, 4), int), ShapeError, (r"int64", r"\(2, 4\)")),
    ],
    ids=["float-indices", "float-shape", "bool", "int-shape"],
)
def test_a_target_of_neither_form_names_both(target, error, got):
    with pytest.raises(error, match=FORMS.format(*got)):
        F.cross_entropy(rg.tensor(np.zeros((2, 4, 5))), target)


def test_unbatched_logits_refuse_a_batched_probability_target_naming_both_forms():
    forms = r"indices\) of shape \(\), or floats .* of shape \(4,\) .* shape \(1, 4\)"
    with pytest.raises(ShapeError, match=forms):
        F.cross_entropy(rg.tensor(np.zeros(4)), np.full((1, 4), 0.25))


def test_probability_target_options_are_checked():
    logits, target = _probabilities((3, 4), seed=7)
    with pytest.raises(ValueError, match=r"cross_entropy\(\): label_smoothing must be in"):
        F.cross_entropy(rg.tensor(logits), target, label_smoothing=1.5)
    with pytest.raises(ShapeError, match=r"weight must hold one value per class, shape \(4,\)"):
        F.cross_entropy(rg.tensor(logits), target, weight=[1.0, 2.0])


def test_empty_batch_mean_is_nan_as_torch():
    torch = pytest.importorskip("torch")
    expected = torch.nn.functional.cross_entropy(torch.zeros(0, 3), torch.zeros(0, 3))
    ours = F.cross_entropy(rg.tensor(np.zeros((0, 3))), np.zeros((0, 3)))
    assert np.isnan(ours.item()) and torch.isnan(expected)
