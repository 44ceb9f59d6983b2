"""BatchNorm1d and EmbeddingBag against PyTorch: values, gradients, running stats, state dicts."""

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn as nn
import retrograd.nn.functional as F
from retrograd.autograd.graph import ShapeError

TOL = 1e-10


def _close(ours, theirs) -> None:
    np.testing.assert_allclose(np.asarray(ours), theirs.detach().numpy(), rtol=TOL, atol=TOL)


def _torch_batchnorm(torch, **options):
    return torch.nn.BatchNorm1d(3, **options).double()


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6)])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"momentum": None},
        {"momentum": 0.3, "eps": 1e-3},
        {"affine": False},
        {"track_running_stats": False},
    ],
)
def test_batchnorm1d_matches_torch_over_train_and_eval_steps(shape, options):
    torch = pytest.importorskip("torch")
    ours = nn.BatchNorm1d(3, dtype=np.float64, **options)
    theirs = _torch_batchnorm(torch, **options)
    if ours.affine:
        rng = np.random.default_rng(1)
        for module_weight in (ours.weight, ours.bias):
            module_weight.data[...] = rng.normal(size=3)
        theirs.load_state_dict(nn.to_torch_state_dict(ours))
    rng = np.random.default_rng(0)
    for step, training in enumerate([True, True, False, True, False, True]):
        ours.train(training)
        theirs.train(training)
        data = rng.normal(loc=step, scale=1 + step, size=shape)
        x = rg.tensor(data, requires_grad=True)
        tx = torch.tensor(data, requires_grad=True)
        upstream = rng.normal(size=shape)
        out, tout = ours(x), theirs(tx)
        (out * rg.tensor(upstream)).sum().backward()
        (tout * torch.tensor(upstream)).sum().backward()
        _close(out.data, tout)
        _close(x.grad, tx.grad)
        if ours.affine:
            _close(ours.weight.grad, theirs.weight.grad)
            _close(ours.bias.grad, theirs.bias.grad)
            ours.zero_grad()
            theirs.zero_grad()
        for name, value in theirs.state_dict().items():
            _close(ours.state_dict()[name].data, value)


def test_batchnorm1d_state_dict_round_trip_with_torch():
    torch = pytest.importorskip("torch")
    ours = nn.BatchNorm1d(3, dtype=np.float64)
    ours(rg.tensor(np.random.default_rng(0).normal(size=(4, 3))))
    state = nn.to_torch_state_dict(ours)
    theirs = _torch_batchnorm(torch)
    assert list(state) == list(theirs.state_dict())
    assert state["num_batches_tracked"].dtype == torch.int64
    theirs.load_state_dict(state)
    theirs(torch.randn(4, 3, dtype=torch.float64))
    back = nn.BatchNorm1d(3, dtype=np.float64)
    back.load_state_dict(nn.from_torch_state_dict(theirs.state_dict()))
    assert back.num_batches_tracked.data.dtype == np.int64
    assert int(back.num_batches_tracked.data) == 2
    _close(back.running_var.data, theirs.running_var)


def test_batch_norm_functional_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    data, weight, bias = rng.normal(size=(6, 3, 2)), rng.normal(size=3), rng.normal(size=3)
    mean, var = rng.normal(size=3), rng.uniform(0.5, 2, size=3)
    for training in (True, False):
        ours_mean, ours_var = mean.copy(), var.copy()
        their_mean, their_var = torch.tensor(mean), torch.tensor(var)
        x, w = rg.tensor(data, requires_grad=True), rg.tensor(weight, requires_grad=True)
        tx, tw = torch.tensor(data, requires_grad=True), torch.tensor(weight, requires_grad=True)
        out = F.batch_norm(x, ours_mean, ours_var, w, rg.tensor(bias), training, 0.2, 1e-4)
        tout = torch.nn.functional.batch_norm(
            tx, their_mean, their_var, tw, torch.tensor(bias), training, 0.2, 1e-4
        )
        (out * out).sum().backward()
        (tout * tout).sum().backward()
        _close(out.data, tout)
        _close(x.grad, tx.grad)
        _close(w.grad, tw.grad)
        _close(ours_mean, their_mean)
        _close(ours_var, their_var)


def test_batchnorm1d_refuses_one_value_per_channel_in_training():
    layer = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layer(rg.tensor(np.ones((1, 3), dtype=np.float32)))
    layer.eval()
    assert layer(rg.tensor(np.ones((1, 3), dtype=np.float32))).shape == (1, 3)


def test_batchnorm1d_refuses_a_wrong_shape():
    with pytest.raises(ShapeError, match=r"BatchNorm1d: expected input of shape \(N, 3\)"):
        nn.BatchNorm1d(3)(rg.tensor(np.ones((2, 4), dtype=np.float32)))
    with pytest.raises(ShapeError, match="running_mean must have shape"):
        F.batch_norm(rg.tensor(np.ones((2, 3))), np.zeros(2), np.ones(2))


def _bag_weight(padding_idx=None):
    weight = np.random.default_rng(3).normal(size=(7, 4))
    if padding_idx is not None:
        weight[padding_idx] = 0
    return weight


BAG_INPUTS = [
    (np.array([[1, 2, 2], [0, 6, 3], [4, 4, 5]]), None, False),
    (np.array([3, 1, 2, 2, 0, 5, 6, 1]), np.array([0, 3, 3, 6]), False),
    (np.array([3, 1, 2, 2, 0, 5, 6, 1]), np.array([0, 2, 2, 5, 8]), True),
]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
@pytest.mark.parametrize("indices, offsets, include_last_offset", BAG_INPUTS)
def test_embedding_bag_matches_torch(mode, padding_idx, indices, offsets, include_last_offset):
    torch = pytest.importorskip("torch")
    ours = nn.EmbeddingBag(
        7,
        4,
        mode=mode,
        include_last_offset=include_last_offset,
        padding_idx=padding_idx,
        dtype=np.float64,
    )
    ours.weight.data[...] = _bag_weight(padding_idx)
    theirs = torch.nn.EmbeddingBag(
        7, 4, mode=mode, include_last_offset=include_last_offset, padding_idx=padding_idx
    ).double()
    theirs.load_state_dict(nn.to_torch_state_dict(ours))
    their_offsets = None if offsets is None else torch.tensor(offsets)
    out, tout = ours(indices, offsets), theirs(torch.tensor(indices), their_offsets)
    upstream = np.random.default_rng(4).normal(size=out.shape)
    (out * rg.tensor(upstream)).sum().backward()
    (tout * torch.tensor(upstream)).sum().backward()
    _close(out.data, tout)
    _close(ours.weight.grad, theirs.weight.grad)


@pytest.mark.parametrize("indices, offsets, include_last_offset", BAG_INPUTS)
def test_embedding_bag_per_sample_weights_match_torch(indices, offsets, include_last_offset):
    torch = pytest.importorskip("torch")
    weight = _bag_weight()
    scales = np.random.default_rng(5).normal(size=indices.shape)
    w, s = rg.tensor(weight, requires_grad=True), rg.tensor(scales, requires_grad=True)
    tw, ts = torch.tensor(weight, requires_grad=True), torch.tensor(scales, requires_grad=True)
    out = F.embedding_bag(
        indices,
        w,
        offsets,
        mode="sum",
        per_sample_weights=s,
        include_last_offset=include_last_offset,
    )
    tout = torch.nn.functional.embedding_bag(
        torch.tensor(indices),
        tw,
        None if offsets is None else torch.tensor(offsets),
        mode="sum",
        per_sample_weights=ts,
        include_last_offset=include_last_offset,
    )
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    _close(out.data, tout)
    _close(w.grad, tw.grad)
    _close(s.grad, ts.grad)


def test_embedding_bag_errors_name_the_problem():
    weight = rg.tensor(_bag_weight())
    with pytest.raises(ValueError, match="offsets must be None for a 2-D input"):
        F.embedding_bag(np.array([[1, 2]]), weight, np.array([0]))
    with pytest.raises(ValueError, match="1-D with offsets"):
        F.embedding_bag(np.array([1, 2]), weight)
    with pytest.raises(ValueError, match="offsets must start at 0"):
        F.embedding_bag(np.array([1, 2, 3]), weight, np.array([1, 2]))
    with pytest.raises(ValueError, match="only supported for mode='sum'"):
        F.embedding_bag(np.array([[1, 2]]), weight, per_sample_weights=np.ones((1, 2)))
    with pytest.raises(ValueError, match="mode must be one of"):
        nn.EmbeddingBag(7, 4, mode="min")
    with pytest.raises(IndexError, match="index 9"):
        F.embedding_bag(np.array([[1, 9]]), weight)
