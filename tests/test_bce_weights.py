"""BCELoss(weight=) and BCEWithLogitsLoss(weight=, pos_weight=), with their functional
forms, as PyTorch's: values and gradients in float64, buffers and state_dict keys, errors."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import ShapeError
from retrograd.nn import functional as F

RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(4, 3)) * 3
LOGITS[0, 0] = 0.0  # the kink of the stable form's maximum
TARGET = RNG.random((4, 3))
WEIGHTS = {
    "none": None,
    "scalar": np.array(1.5),
    "classes": np.array([0.5, 2.0, 0.0]),
    "rows": np.array([[1.0], [0.25], [3.0], [2.0]]),
    "full": RNG.random((4, 3)),
}
POS_WEIGHTS = {"none": None, "scalar": np.array(2.5), "classes": np.array([3.0, 0.5, 1.0])}


def _compare(ours_fn, torch_fn, x: np.ndarray, options: dict) -> None:
    """The loss and the gradients of input and target, from retrograd and torch, match to
    1e-10 after a backward pass of the loss times a fixed upstream gradient."""
    torch = pytest.importorskip("torch")
    inp, target = rg.tensor(x, requires_grad=True), rg.tensor(TARGET, requires_grad=True)
    t_inp, t_target = (torch.tensor(a, requires_grad=True) for a in (x, TARGET))
    ours = ours_fn(inp, target, **options)
    t_options = {k: v if isinstance(v, str) else torch.tensor(v) for k, v in options.items()}
    theirs = torch_fn(t_inp, t_target, **t_options)
    upstream = np.linspace(-1.0, 2.0, theirs.numel()).reshape(theirs.shape)
    (ours * upstream).sum().backward()
    (theirs * torch.tensor(upstream)).sum().backward()
    pairs = ((ours.data, theirs), (inp.grad, t_inp.grad), (target.grad, t_target.grad))
    for mine, reference in pairs:
        reference = reference.detach().numpy()
        assert mine.shape == reference.shape
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-10)


def _given(**options) -> dict:
    return {k: v for k, v in options.items() if v is not None}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", sorted(WEIGHTS))
@pytest.mark.parametrize("pos_weight", sorted(POS_WEIGHTS))
def test_bce_with_logits_weights_match_torch(reduction, weight, pos_weight):
    torch = pytest.importorskip("torch")
    options = _given(
        reduction=reduction, weight=WEIGHTS[weight], pos_weight=POS_WEIGHTS[pos_weight]
    )
    torch_fn = torch.nn.functional.binary_cross_entropy_with_logits
    _compare(F.binary_cross_entropy_with_logits, torch_fn, LOGITS, options)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weight", sorted(WEIGHTS))
def test_bce_weight_matches_torch(reduction, weight):
    torch = pytest.importorskip("torch")
    probabilities = 1 / (1 + np.exp(-LOGITS))
    options = _given(reduction=reduction, weight=WEIGHTS[weight])
    _compare(
        F.binary_cross_entropy, torch.nn.functional.binary_cross_entropy, probabilities, options
    )


def test_modules_match_torch_and_keep_torch_state_dict_keys():
    torch = pytest.importorskip("torch")
    weight, pos_weight = WEIGHTS["rows"], POS_WEIGHTS["classes"]
    cases = [
        (nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(), LOGITS),
        (
            nn.BCEWithLogitsLoss(weight=weight, pos_weight=pos_weight),
            torch.nn.BCEWithLogitsLoss(
                weight=torch.tensor(weight), pos_weight=torch.tensor(pos_weight)
            ),
            LOGITS,
        ),
        (
            nn.BCEWithLogitsLoss(reduction="sum", pos_weight=pos_weight),
            torch.nn.BCEWithLogitsLoss(reduction="sum", pos_weight=torch.tensor(pos_weight)),
            LOGITS,
        ),
        (nn.BCELoss(), torch.nn.BCELoss(), 1 / (1 + np.exp(-LOGITS))),
        (
            nn.BCELoss(weight=weight),
            torch.nn.BCELoss(weight=torch.tensor(weight)),
            1 / (1 + np.exp(-LOGITS)),
        ),
    ]
    for ours, theirs, x in cases:
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for key, value in theirs.state_dict().items():
            np.testing.assert_array_equal(ours.state_dict()[key].data, value.numpy())
        _compare(lambda i, t, loss=ours: loss(i, t), lambda i, t, loss=theirs: loss(i, t), x, {})


def test_weights_are_buffers_that_load_and_convert():
    loss = nn.BCEWithLogitsLoss(weight=[1, 2, 3], pos_weight=[2.0, 1.0, 1.0])
    assert [name for name, _ in loss.named_buffers()] == ["weight", "pos_weight"]
    assert loss.weight.dtype == np.float64 and not loss.weight.requires_grad
    other = nn.BCEWithLogitsLoss(weight=np.zeros(3), pos_weight=np.zeros(3))
    other.load_state_dict(loss.state_dict())
    np.testing.assert_array_equal(other.pos_weight.data, [2.0, 1.0, 1.0])
    loss.to(np.float32)
    out = loss(rg.tensor(LOGITS.astype(np.float32)), TARGET)
    assert loss.weight.dtype == np.float32 and out.dtype == np.float32


def test_float32_input_keeps_its_dtype_with_float64_weights():
    x = rg.tensor(LOGITS.astype(np.float32), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(
        x, TARGET, weight=WEIGHTS["full"], pos_weight=POS_WEIGHTS["classes"]
    )
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


def test_modules_show_their_weights():
    assert repr(nn.BCEWithLogitsLoss()) == "BCEWithLogitsLoss()"
    both = nn.BCEWithLogitsLoss(reduction="sum", weight=[[1.0, 2.0]], pos_weight=[2.0, 1.0])
    assert repr(both) == "BCEWithLogitsLoss(reduction='sum', weight=(1, 2), pos_weight=(2,))"
    assert repr(nn.BCELoss(weight=2.0)) == "BCELoss(weight=())"


@pytest.mark.parametrize("what", ["weight", "pos_weight"])
@pytest.mark.parametrize(
    ("value", "shape"),
    [(np.ones(2), r"\(2,\)"), (np.ones((5, 4, 3)), r"\(5, 4, 3\)"), (np.ones((4, 2)), r"\(4, 2\)")],
    ids=["short", "enlarging", "mismatched"],
)
def test_a_weight_that_does_not_broadcast_to_the_input_is_refused(what, value, shape):
    fn = r"binary_cross_entropy_with_logits\(\)"
    message = rf"{fn}: {what} of shape {shape} does not broadcast to the input's shape \(4, 3\)"
    with pytest.raises(ShapeError, match=message):
        F.binary_cross_entropy_with_logits(rg.tensor(LOGITS), TARGET, **{what: value})
    with pytest.raises(ShapeError, match=message):
        nn.BCEWithLogitsLoss(**{what: value})(LOGITS, TARGET)
    if what == "weight":
        with pytest.raises(ShapeError, match=message.replace("_with_logits", "")):
            F.binary_cross_entropy(rg.tensor(np.full((4, 3), 0.5)), TARGET, weight=value)


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ([1.0, -2.0, 1.0], ValueError, r"must be finite and non-negative, got -2.0"),
        ([1.0, np.inf, 1.0], ValueError, r"must be finite and non-negative, got inf"),
        (["a", "b", "c"], TypeError, r"must be an array of real numbers"),
        (rg.tensor([1.0, 2.0, 3.0], requires_grad=True), ValueError, r"gets no gradient; pass"),
    ],
)
@pytest.mark.parametrize("what", ["weight", "pos_weight"])
def test_bad_weights_are_refused_naming_the_argument(what, value, error, message):
    with pytest.raises(error, match=rf"BCEWithLogitsLoss: {what} {message}"):
        nn.BCEWithLogitsLoss(**{what: value})
    with pytest.raises(error, match=rf"binary_cross_entropy_with_logits\(\): {what} {message}"):
        F.binary_cross_entropy_with_logits(rg.tensor(LOGITS), TARGET, **{what: value})


def test_weight_given_by_position_is_named():
    """PyTorch's third positional argument (and its modules' first) is the weight."""
    with pytest.raises(TypeError, match=r"reduction must be one of .*weight is a keyword"):
        F.binary_cross_entropy(rg.tensor(np.full((4, 3), 0.5)), TARGET, np.ones(3))
    with pytest.raises(TypeError, match=r"reduction must be one of .*weight is a keyword"):
        nn.BCELoss(np.ones(3))
