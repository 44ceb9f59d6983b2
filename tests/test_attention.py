"""Attention against PyTorch in float64: scaled_dot_product_attention's values and gradients
for every kind of mask, and its errors."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
from retrograd.autograd.graph import ShapeError


def _close(ours, theirs):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-10)


def _pair(array, torch):
    """The same float64 array as a retrograd and a torch leaf that both require grad."""
    return rg.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def _keep_mask(rng, shape):
    """A random boolean mask that keeps at least the first key of every row."""
    mask = rng.random(shape) > 0.4
    mask[..., 0] = True
    return mask


@pytest.mark.parametrize(
    "case", ["plain", "causal", "bool_mask", "float_mask", "scale", "broadcast", "gqa"]
)
def test_sdpa_values_and_gradients_match_torch(case):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    q_shape, k_shape, v_shape = (2, 4, 5, 3), (2, 4, 6, 3), (2, 4, 6, 7)
    if case == "broadcast":
        k_shape, v_shape = (4, 6, 3), (1, 4, 6, 7)
    if case == "gqa":
        k_shape, v_shape = (2, 2, 6, 3), (2, 2, 6, 7)
    arrays = [rng.normal(size=s) for s in (q_shape, k_shape, v_shape)]
    ours, theirs = zip(*(_pair(a, torch) for a in arrays))
    kw, tkw = {}, {}
    if case == "causal":
        kw = tkw = {"is_causal": True}
    elif case == "bool_mask":
        mask = _keep_mask(rng, (4, 5, 6))
        kw, tkw = {"attn_mask": mask}, {"attn_mask": torch.tensor(mask)}
    elif case == "float_mask":
        mask_ours, mask_theirs = _pair(rng.normal(size=(5, 6)), torch)
        ours, theirs = (*ours, mask_ours), (*theirs, mask_theirs)
        kw, tkw = {"attn_mask": mask_ours}, {"attn_mask": mask_theirs}
    elif case == "scale":
        kw = tkw = {"scale": 0.3}
    elif case == "gqa":
        kw = tkw = {"enable_gqa": True}
    out = F.scaled_dot_product_attention(*ours[:3], **kw)
    expected = torch.nn.functional.scaled_dot_product_attention(*theirs[:3], **tkw)
    _close(out.data, expected)
    upstream = rng.normal(size=expected.shape)
    (out * rg.tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    for mine, reference in zip(ours, theirs):
        _close(mine.grad, reference.grad)


def test_sdpa_dropout_draws_as_dropout():
    rng = np.random.default_rng(1)
    q, k, v = (rg.tensor(rng.normal(size=(2, 4, 3))) for _ in range(3))
    weights = (q @ k.swapaxes(-2, -1) * (1 / np.sqrt(3))).softmax(-1)
    dropped = F.dropout(weights, 0.5, generator=np.random.default_rng(7))
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, generator=7)
    np.testing.assert_allclose(out.data, (dropped @ v).data, rtol=1e-12)


def test_sdpa_errors_name_the_problem():
    q = rg.tensor(np.zeros((2, 4, 3)))
    with pytest.raises(ShapeError, match="scaled_dot_product_attention.*key"):
        F.scaled_dot_product_attention(q, rg.tensor(np.zeros((2, 4, 5))), q)
    with pytest.raises(ValueError, match="attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, q, q, np.ones((4, 4), bool), is_causal=True)
    with pytest.raises(TypeError, match="mask must be boolean or floating"):
        F.scaled_dot_product_attention(q, q, q, np.ones((4, 4), int))
    with pytest.raises(ValueError, match="dropout_p must be in"):
        F.scaled_dot_product_attention(q, q, q, dropout_p=1.5)
