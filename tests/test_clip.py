"""Gradient clipping: the global norm of PyTorch, in-place scaling only above the limit."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn.utils import clip_grad_norm_, clip_grad_value_

SHAPES = [(3, 4), (5,), (2, 2, 2)]


def _params_with_grads(seed, scale=1.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = [rg.tensor(np.zeros(s, dtype=dtype), requires_grad=True) for s in SHAPES]
    for p in params:
        p.grad = (scale * rng.standard_normal(p.shape)).astype(dtype)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    params = _params_with_grads(0)
    twins = [torch.zeros(p.shape, dtype=torch.float64, requires_grad=True) for p in params]
    for p, t in zip(params, twins):
        t.grad = torch.tensor(p.grad)
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(twins, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(expected.item(), rel=1e-12)
    for p, t in zip(params, twins):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_is_the_global_l2_norm():
    params = _params_with_grads(1)
    flat = np.concatenate([p.grad.ravel() for p in params])
    before = [p.grad for p in params]
    total = clip_grad_norm_(params, 1.0)
    assert total == pytest.approx(np.linalg.norm(flat), rel=1e-12)
    clipped = np.concatenate([p.grad.ravel() for p in params])
    assert np.linalg.norm(clipped) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(clipped, flat / (total + 1e-6), rtol=1e-12)
    assert all(p.grad is g for p, g in zip(params, before))  # scaled in place


def test_clip_grad_norm_leaves_small_gradients_alone():
    params = _params_with_grads(2, scale=1e-3)
    before = [p.grad.copy() for p in params]
    total = clip_grad_norm_(params, 1.0)
    assert 0 < total < 1.0
    for p, g in zip(params, before):
        np.testing.assert_array_equal(p.grad, g)


def test_clip_grad_norm_keeps_float32_and_skips_missing_grads():
    params = _params_with_grads(3, scale=10.0, dtype=np.float32)
    params[1].grad = None
    total = clip_grad_norm_(iter(params), 2.0)  # a generator is consumed once
    assert total > 2.0
    assert all(p.grad.dtype == np.float32 for p in params if p.grad is not None)
    assert params[1].grad is None
    norm = math.sqrt(sum(float(np.sum(p.grad.astype(np.float64) ** 2)) for p in params[::2]))
    assert norm == pytest.approx(2.0, rel=1e-5)
    assert clip_grad_norm_([], 1.0) == 0.0
    single = _params_with_grads(4)[0]
    assert clip_grad_norm_(single, 1e9) == pytest.approx(np.linalg.norm(single.grad))


def test_clip_grad_norm_float32_does_not_overflow():
    p = rg.tensor(np.zeros(4, dtype=np.float32), requires_grad=True)
    p.grad = np.full(4, 1e30, dtype=np.float32)
    assert clip_grad_norm_([p], 1.0) == pytest.approx(2e30, rel=1e-6)
    assert np.isfinite(p.grad).all()


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_clip_grad_norm_raises_on_non_finite_norm(bad):
    params = _params_with_grads(5)
    params[2].grad[0, 1, 0] = bad
    before = [p.grad.copy() for p in params]
    with pytest.raises(RuntimeError, match=r"total norm .* is (inf|nan).*error_if_nonfinite=False"):
        clip_grad_norm_(params, 1.0)
    for p, g in zip(params, before):
        np.testing.assert_array_equal(p.grad, g)  # nothing was touched


def test_clip_grad_norm_non_finite_allowed_when_asked():
    params = _params_with_grads(6)
    params[0].grad[0, 0] = math.inf
    total = clip_grad_norm_(params, 1.0, error_if_nonfinite=False)
    assert total == math.inf
    assert np.isnan(params[0].grad[0, 0])
    assert np.all(params[1].grad == 0.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_norm": -1.0}, r"max_norm must be a number >= 0 \(or math.inf\), got -1.0"),
        ({"max_norm": math.nan}, "max_norm must be a number >= 0"),
        ({"max_norm": "1"}, "max_norm must be"),
        ({"max_norm": 1.0, "norm_type": 0}, "norm_type must be > 0"),
    ],
)
def test_clip_grad_norm_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        clip_grad_norm_(_params_with_grads(7), **kwargs)
    with pytest.raises(TypeError, match="item 1 of parameters is a ndarray"):
        clip_grad_norm_([_params_with_grads(7)[0], np.zeros(2)], 1.0)


def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    params = _params_with_grads(8)
    twins = [torch.tensor(p.grad) for p in params]
    before = [p.grad for p in params]
    clip_grad_value_(params, 0.5)
    for p, g, t in zip(params, before, twins):
        assert p.grad is g
        np.testing.assert_array_equal(p.grad, t.clamp(-0.5, 0.5).numpy())
    assert max(np.abs(p.grad).max() for p in params) == 0.5
    with pytest.raises(ValueError, match="clip_value must be"):
        clip_grad_value_(params, -0.1)


def test_clip_with_an_infinite_limit_measures_without_clipping_like_torch():
    torch = pytest.importorskip("torch")
    params = _params_with_grads(9, scale=100.0)
    before = [p.grad.copy() for p in params]
    twins = [torch.tensor(g, requires_grad=False) for g in before]
    for t, g in zip(twins, before):
        t.grad = torch.tensor(g)
    total = clip_grad_norm_(params, math.inf)
    assert total == pytest.approx(torch.nn.utils.clip_grad_norm_(twins, math.inf).item())
    clip_grad_value_(params, math.inf)
    for p, g in zip(params, before):
        np.testing.assert_array_equal(p.grad, g)


@pytest.mark.parametrize("clip", [clip_grad_norm_, clip_grad_value_])
@pytest.mark.parametrize(
    ("parameters", "match"),
    [
        (nn.Linear(2, 2), r"got Linear; pass module.parameters\(\)"),
        (None, "parameters must be a Tensor or an iterable of tensors, got NoneType"),
    ],
)
def test_clip_names_parameters_that_are_not_iterable(clip, parameters, match):
    with pytest.raises(TypeError, match=f"{clip.__name__}\\(\\): .*{match}"):
        clip(parameters, 1.0)


def test_clip_grad_norm_takes_the_string_inf_as_pytorch_does():
    params, twins = _params_with_grads(9), _params_with_grads(9)
    largest = max(float(np.max(np.abs(p.grad))) for p in params)
    assert clip_grad_norm_(params, 0.5, norm_type="inf") == largest
    assert clip_grad_norm_(twins, 0.5, norm_type=math.inf) == largest
    for p, t in zip(params, twins):
        np.testing.assert_array_equal(p.grad, t.grad)


@pytest.mark.parametrize("norm_type", ["2", "infinity", "fro", b"inf"])
def test_clip_grad_norm_refuses_a_string_norm_type_other_than_inf(norm_type):
    with pytest.raises(ValueError, match=r"norm_type must be > 0 \(a number, math.inf or 'inf'\)"):
        clip_grad_norm_(_params_with_grads(10), 1.0, norm_type=norm_type)
