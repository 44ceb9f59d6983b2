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
