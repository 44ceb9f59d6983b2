"""Attention against PyTorch in float64: scaled_dot_product_attention's and
MultiheadAttention's values and gradients for every kind of mask, and their errors."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn.functional as F
from retrograd import nn
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


MHA_CASES = {
    "plain": {},
    "bool_masks": {"attn_mask": "bool", "key_padding_mask": "bool"},
    "float_masks": {"attn_mask": "float", "key_padding_mask": "float"},
    "heads_mask": {"attn_mask": "bool3d"},
    "causal": {"is_causal": True},
    "kdim_vdim": {"kdim": 3, "vdim": 5, "key_padding_mask": "bool"},
    "batch_first": {"batch_first": True, "attn_mask": "float"},
    "unbatched": {"unbatched": True, "attn_mask": "bool", "key_padding_mask": "bool"},
    "per_head_weights": {"average_attn_weights": False, "bias": False},
    "no_weights": {"need_weights": False},
}


def _mha_masks(case, rng, torch, length, source, batch):
    """The case's masks, as (ours, torch's) keyword arguments; a floating attn_mask is a
    leaf whose gradient is compared too, returned third."""
    ours, theirs, leaves = {}, {}, []
    kind = case.get("attn_mask")
    if kind in ("bool", "bool3d"):
        mask = rng.random((batch * 2, length, source) if kind == "bool3d" else (length, source))
        mask = mask < 0.3
        mask[..., 0] = False
        ours["attn_mask"], theirs["attn_mask"] = mask, torch.tensor(mask)
    elif kind == "float":
        leaves = list(_pair(rng.normal(size=(length, source)), torch))
        ours["attn_mask"], theirs["attn_mask"] = leaves
    if case.get("is_causal"):
        mask = np.triu(np.ones((length, source), bool), 1)
        ours["attn_mask"], theirs["attn_mask"] = mask, torch.tensor(mask)
    padding_shape = (source,) if case.get("unbatched") else (batch, source)
    if case.get("key_padding_mask") == "bool":
        mask = rng.random(padding_shape) < 0.3
        mask[..., 0] = False
        ours["key_padding_mask"], theirs["key_padding_mask"] = mask, torch.tensor(mask)
    elif case.get("key_padding_mask") == "float":
        mask = rng.normal(size=padding_shape)
        ours["key_padding_mask"], theirs["key_padding_mask"] = mask, torch.tensor(mask)
    return ours, theirs, leaves


@pytest.mark.parametrize("name", MHA_CASES)
def test_multihead_attention_matches_torch(name):
    torch = pytest.importorskip("torch")
    case = MHA_CASES[name]
    rng = np.random.default_rng(3)
    torch.manual_seed(0)
    options = {k: case[k] for k in ("kdim", "vdim", "batch_first", "bias") if k in case}
    theirs = torch.nn.MultiheadAttention(8, 2, dtype=torch.float64, **options)
    ours = nn.MultiheadAttention(8, 2, dtype=np.float64, **options)
    ours.load_state_dict(nn.from_torch_state_dict(theirs))
    length, source, batch = 4, 6, 3

    def shape(steps, size):
        if case.get("unbatched"):
            return (steps, size)
        return (batch, steps, size) if case.get("batch_first") else (steps, batch, size)

    sizes = (8, case.get("kdim", 8), case.get("vdim", 8))
    arrays = [rng.normal(size=shape(n, e)) for n, e in zip((length, source, source), sizes)]
    inputs = [_pair(a, torch) for a in arrays]
    masks, torch_masks, mask_leaves = _mha_masks(case, rng, torch, length, source, batch)
    flags = {k: case[k] for k in ("need_weights", "average_attn_weights", "is_causal") if k in case}
    out, weights = ours(*(p[0] for p in inputs), **masks, **flags)
    expected, expected_weights = theirs(*(p[1] for p in inputs), **torch_masks, **flags)
    _close(out.data, expected)
    if case.get("need_weights", True):
        _close(weights.data, expected_weights)
    else:
        assert weights is None and expected_weights is None
    upstream = rng.normal(size=expected.shape)
    (out * rg.tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    pairs = zip(ours.named_parameters(), theirs.named_parameters())
    for (our_name, mine), (their_name, reference) in pairs:
        assert our_name == their_name
        _close(mine.grad, reference.grad)
    for mine, reference in [*inputs, *([mask_leaves] if mask_leaves else [])]:
        _close(mine.grad, reference.grad)


def test_multihead_attention_starts_as_torch():
    mha = nn.MultiheadAttention(6, 3, generator=0)
    other = nn.MultiheadAttention(6, 3, kdim=2, vdim=4, bias=False, generator=0)
    bound = np.sqrt(6 / (6 + 18))
    assert np.abs(mha.in_proj_weight.data).max() <= bound
    assert np.abs(mha.in_proj_weight.data).max() > bound / 2
    assert not mha.in_proj_bias.data.any() and not mha.out_proj.bias.data.any()
    assert np.abs(mha.out_proj.weight.data).max() <= 1 / np.sqrt(6)
    assert other.k_proj_weight.shape == (6, 2) and other.v_proj_weight.shape == (6, 4)
    assert np.abs(other.k_proj_weight.data).max() <= np.sqrt(6 / 8)
    assert list(other.state_dict()) == [
        "q_proj_weight",
        "k_proj_weight",
        "v_proj_weight",
        "out_proj.weight",
    ]


def test_multihead_attention_dropout_only_in_training():
    rng = np.random.default_rng(4)
    x = rg.tensor(rng.normal(size=(5, 2, 4)))
    mha = nn.MultiheadAttention(4, 2, dropout=0.5, generator=1, dtype=np.float64)
    _, weights = mha(x, x, x, average_attn_weights=False)
    assert (weights.data == 0).any()
    mha.eval()
    _, weights = mha(x, x, x)
    np.testing.assert_allclose(weights.data.sum(-1), 1.0)


def test_multihead_attention_errors_name_the_problem():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(NotImplementedError, match="add_bias_kv"):
        nn.MultiheadAttention(4, 2, add_bias_kv=True)
    mha = nn.MultiheadAttention(4, 2, dtype=np.float64)
    x = rg.tensor(np.zeros((3, 2, 4)))
    with pytest.raises(ShapeError, match="MultiheadAttention: key"):
        mha(x, rg.tensor(np.zeros((3, 2, 5))), x)
    with pytest.raises(ValueError, match="is_causal=True needs"):
        mha(x, x, x, is_causal=True)
