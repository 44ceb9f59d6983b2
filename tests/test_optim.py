"""Optimizers: PyTorch's update rules, dtype and in-place contract, validation, state dicts."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn, optim

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "maximize": True}),
    ("Adagrad", {"lr": 0.1}),
    (
        "Adagrad",
        {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.2},
    ),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "weight_decay": 0.1, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "maximize": True, "eps": 1e-6}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CONFIGS)]
SHAPES = [(3, 4), (5,), (2,)]


def _params(rng, dtype=np.float64):
    return [rg.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in SHAPES]


def _gradients(seed, steps):
    """A fixed sequence of gradients; the last parameter only gets one every other step."""
    rng = np.random.default_rng(seed)
    return [
        [rng.standard_normal(s) if i < 2 or step % 2 == 0 else None for i, s in enumerate(SHAPES)]
        for step in range(steps)
    ]


def _run(optimizer, params, gradients):
    for grads in gradients:
        for p, g in zip(params, grads):
            p.grad = None if g is None else g.astype(p.dtype)
        optimizer.step()


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_optimizer_steps_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    params = _params(rng)
    twins = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
    ours = getattr(optim, name)(params, **kwargs)
    theirs = getattr(torch.optim, name)(twins, **kwargs)
    for grads in _gradients(1, 20):
        _step_both(torch, ours, theirs, grads)
        for p, t in zip(params, twins):
            np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-6, atol=1e-6)


def _step_both(torch, ours, theirs, grads):
    """Give both optimizers' parameters the same gradients, then step both."""
    twins = [t for group in theirs.param_groups for t in group["params"]]
    params = [p for group in ours.param_groups for p in group["params"]]
    for p, t, g in zip(params, twins, grads):
        p.grad = g
        t.grad = None if g is None else torch.tensor(g)
    ours.step()
    theirs.step()


def test_param_groups_match_torch():
    torch = pytest.importorskip("torch")
    params = _params(np.random.default_rng(2))
    twins = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]

    def groups(ps):
        return [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3, "momentum": 0.5}]

    ours = optim.SGD(groups(params), lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD(groups(twins), lr=0.1, momentum=0.9)
    for grads in _gradients(3, 10):
        _step_both(torch, ours, theirs, grads)
    for p, t in zip(params, twins):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_optimizer_keeps_float32_in_place(name, kwargs):
    params = _params(np.random.default_rng(4), np.float32)
    arrays = [p.data for p in params]
    opt = getattr(optim, name)(params, **kwargs)
    before = [a.copy() for a in arrays]
    _run(opt, params, _gradients(5, 3))  # float64 gradients get cast
    for p, array, old in zip(params, arrays, before):
        assert p.data is array and p.data.dtype == np.float32
        assert not np.array_equal(p.data, old)
    for state in opt.state.values():
        for value in state.values():
            assert not isinstance(value, np.ndarray) or value.dtype == np.float32


def test_optimizer_skips_params_without_grad():
    params = _params(np.random.default_rng(6))
    frozen = params[2].data.copy()
    opt = optim.Adam(params, lr=0.1)
    params[0].grad = np.ones(SHAPES[0])
    opt.step()
    np.testing.assert_array_equal(params[2].data, frozen)
    assert params[1] not in opt.state and params[2] not in opt.state
    assert opt.state[params[0]]["step"] == 1


def test_optimizer_descends_a_quadratic():
    rng = np.random.default_rng(7)
    x = rg.tensor(rng.standard_normal((32, 3)))
    y = x @ rg.tensor([[1.0], [-2.0], [0.5]])
    w = rg.zeros(3, 1, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        return loss

    first = opt.step(closure).item()
    for _ in range(200):
        last = opt.step(closure).item()
    assert last < 1e-3 * first
    np.testing.assert_allclose(w.data.ravel(), [1.0, -2.0, 0.5], atol=1e-2)


def test_zero_grad_sets_none_or_zeros():
    params = _params(np.random.default_rng(8))
    opt = optim.SGD(params, lr=0.1)
    params[0].grad = np.ones(SHAPES[0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(params[0].grad, np.zeros(SHAPES[0]))
    assert params[1].grad is None
    opt.zero_grad()
    assert all(p.grad is None for p in params)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda ps: optim.SGD(ps, lr=-0.1), ValueError, "invalid lr -0.1"),
        (lambda ps: optim.SGD(ps, lr="0.1"), TypeError, "lr must be a number"),
        (lambda ps: optim.SGD(ps, lr=float("nan")), ValueError, "invalid lr"),
        (lambda ps: optim.SGD(ps, nesterov=True), ValueError, "nesterov=True needs momentum"),
        (lambda ps: optim.SGD(ps, momentum=0.9, nesterov=True, dampening=0.1), ValueError, "damp"),
        (lambda ps: optim.Adam(ps, betas=(0.9, 1.0)), ValueError, r"invalid betas\[1\] 1.0"),
        (lambda ps: optim.Adam(ps, betas=(-0.1, 0.9)), ValueError, r"invalid betas\[0\]"),
        (lambda ps: optim.Adam(ps, betas=0.9), ValueError, "betas must be a pair"),
        (lambda ps: optim.AdamW(ps, weight_decay=-1), ValueError, "invalid weight_decay"),
        (lambda ps: optim.RMSprop(ps, alpha=1.5), ValueError, "invalid alpha"),
        (lambda ps: optim.Adagrad(ps, eps=-1e-10), ValueError, "invalid eps"),
        (lambda ps: optim.SGD([{"params": ps, "lr": -1.0}]), ValueError, "invalid lr -1.0"),
        (lambda ps: optim.SGD(ps[0]), TypeError, "single Tensor"),
        (lambda ps: optim.SGD([]), ValueError, "empty parameter list"),
        (lambda ps: optim.SGD(set(ps)), TypeError, "not a set"),
        (lambda ps: optim.SGD([ps[0], ps[0]]), ValueError, "more than once"),
        (lambda ps: optim.SGD([ps[0], 3.0]), TypeError, "param 1 of group 0 is a float"),
        (
            lambda ps: optim.SGD(nn.Linear(2, 1).named_parameters()),
            TypeError,
            r"param 0 of group 0 is a \(name, tensor\) pair.*pass module.parameters\(\)",
        ),
        (
            lambda ps: optim.SGD([{"params": {"w": ps[0]}}]),
            TypeError,
            r"'params' of group 0 is a dict; give its tensors as a list",
        ),
        (lambda ps: optim.SGD([rg.tensor([1.0])]), ValueError, "does not require grad"),
        (lambda ps: optim.SGD([ps[0] * 2]), ValueError, "not a leaf"),
    ],
)
def test_optimizer_rejects_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make(_params(np.random.default_rng(9)))


def test_frozen_parameters_are_accepted_and_train_once_unfrozen():
    # As in PyTorch: optimize model.parameters() with some frozen, unfreeze later.
    model = nn.Linear(2, 1, generator=0, dtype=np.float64)
    model.bias.requires_grad_(False)
    bias = model.bias.data.copy()
    opt = optim.SGD(model.parameters(), lr=0.5)
    model(np.ones((1, 2))).sum().backward()
    opt.step()
    np.testing.assert_array_equal(model.bias.data, bias)
    model.bias.requires_grad_(True)
    opt.zero_grad()
    model(np.ones((1, 2))).sum().backward()
    opt.step()
    np.testing.assert_array_equal(model.bias.data, bias - 0.5)


def test_step_rejects_gradient_of_wrong_shape():
    p = rg.tensor(np.zeros((2, 3)), requires_grad=True)
    p.name = "weight"
    opt = optim.SGD([p], lr=0.1)
    p.grad = np.ones((3, 2))
    with pytest.raises(ValueError, match=r"param 0 of group 0 \(weight\).*\(3, 2\).*\(2, 3\)"):
        opt.step()


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_state_dict_round_trip_continues_exactly(name, kwargs):
    rng = np.random.default_rng(10)
    params = _params(rng)
    opt = getattr(optim, name)(params, **kwargs)
    gradients = _gradients(11, 12)
    _run(opt, params, gradients[:6])
    saved = opt.state_dict()
    copies = [rg.tensor(p.data.copy(), requires_grad=True) for p in params]
    defaults = {"lr": 123.0} if name != "SGD" else {"lr": 123.0, "momentum": 0.0}
    restored = getattr(optim, name)(copies, **defaults)
    restored.load_state_dict(saved)
    _run(opt, params, gradients[6:])
    _run(restored, copies, gradients[6:])
    for p, c in zip(params, copies):
        np.testing.assert_array_equal(p.data, c.data)
    assert restored.param_groups[0]["lr"] == kwargs["lr"]


def test_state_dict_is_a_snapshot_with_indices():
    params = _params(np.random.default_rng(12))
    opt = optim.SGD([{"params": params[:2]}, {"params": params[2:]}], lr=0.1, momentum=0.9)
    _run(opt, params, _gradients(13, 2))
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2]]
    assert sorted(saved["state"]) == [0, 1, 2]
    buffer = saved["state"][0]["momentum_buffer"].copy()
    _run(opt, params, _gradients(14, 1))
    np.testing.assert_array_equal(saved["state"][0]["momentum_buffer"], buffer)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"param_groups": 5}, "'param_groups' must be a list of dicts"),
        ({"param_groups": [5]}, "'param_groups' must be a list of dicts"),
        ({"state": []}, "'state' must be a dict of dicts"),
        ({"state": {0: 5}}, "'state' must be a dict of dicts"),
        ({"param_groups": [{"params": 5, "lr": 0.1}]}, "'params' is not a list of parameter"),
    ],
)
def test_load_state_dict_refuses_malformed_input(change, match):
    params = _params(np.random.default_rng(15))
    opt = optim.SGD(params, lr=0.1)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict({**opt.state_dict(), **change})


def test_load_state_dict_refuses_what_is_not_a_dict_with_a_type_error():
    opt = optim.SGD(_params(np.random.default_rng(15)), lr=0.1)
    with pytest.raises(TypeError, match=r"SGD.load_state_dict\(\): expected a dict .*got list"):
        opt.load_state_dict([opt.state_dict()])
    with pytest.raises(ValueError, match="expected a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({"state": {}})


def test_load_state_dict_reports_mismatches():
    params = _params(np.random.default_rng(15))
    adam = optim.Adam(params, lr=0.1)
    _run(adam, params, _gradients(16, 1))
    with pytest.raises(ValueError, match=r"lacks .*momentum"):
        optim.SGD(params, lr=0.1).load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="2 params saved, 3 now"):
        saved = adam.state_dict()
        saved["param_groups"][0]["params"] = [0, 1]
        optim.Adam(params).load_state_dict(saved)
    swapped = [rg.tensor(np.zeros(s), requires_grad=True) for s in reversed(SHAPES)]
    with pytest.raises(ValueError, match=r"state 0\['exp_avg'\] has shape \(3, 4\), param \(2,\)"):
        optim.Adam(swapped).load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="1 param groups, this optimizer has 2"):
        optim.Adam([{"params": params[:1]}, {"params": params[1:]}]).load_state_dict(
            adam.state_dict()
        )
