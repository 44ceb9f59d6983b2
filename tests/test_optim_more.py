"""NAdam, RAdam, Adamax, Adadelta, Rprop and ASGD: torch's updates to 1e-12 in float64 (20
training steps of a small model, every option), torch's state keys, state dict round trips,
float32 kept, and clear errors for bad hyperparameters."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn, optim

# (name, kwargs): each option of each optimizer, on top of its defaults.
CONFIGS = [
    ("NAdam", {}),
    ("NAdam", {"weight_decay": 0.1, "momentum_decay": 0.01, "maximize": True}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"betas": (0.8, 0.9), "eps": 1e-3}),
    ("RAdam", {}),
    ("RAdam", {"weight_decay": 0.1, "betas": (0.8, 0.9)}),
    ("RAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True, "maximize": True}),
    ("Adamax", {}),
    ("Adamax", {"lr": 0.05, "weight_decay": 0.1, "maximize": True, "eps": 1e-3}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-4, "weight_decay": 0.1, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"etas": (0.3, 1.5), "step_sizes": (1e-3, 0.05), "maximize": True}),
    ("ASGD", {}),
    (
        "ASGD",
        {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 5, "weight_decay": 0.1, "maximize": True},
    ),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CONFIGS)]


def _data(rng):
    return rng.standard_normal((16, 3)), rng.standard_normal((16, 2))


def _train_ours(name, kwargs, steps, model, x, y):
    """`steps` steps of `name` on `model` for the mean squared error of `model(x)` to `y`."""
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(rg.tensor(x)) - rg.tensor(y)) ** 2).mean()
        loss.backward()
        opt.step()
    return opt


@pytest.fixture
def torch64():
    """torch with float64 as the default dtype, so that the scalars torch keeps in its
    optimizer state as 0-d tensors (NAdam's mu_product, ASGD's eta and mu) are float64, as
    ours are; the default is restored afterwards."""
    torch = pytest.importorskip("torch")
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(default)


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_optimizer_trains_a_small_model_as_torch(name, kwargs, torch64):
    torch = torch64
    x, y = _data(np.random.default_rng(0))
    model = nn.Sequential(
        nn.Linear(3, 4, dtype=np.float64, generator=1),
        nn.Tanh(),
        nn.Linear(4, 2, dtype=np.float64, generator=2),
    )
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    twin.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    ours = _train_ours(name, kwargs, 20, model, x, y)
    theirs = getattr(torch.optim, name)(twin.parameters(), foreach=False, **kwargs)
    for _ in range(20):
        theirs.zero_grad()
        torch.nn.functional.mse_loss(twin(torch.tensor(x)), torch.tensor(y)).backward()
        theirs.step()
    for key, value in twin.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[key], value.numpy(), rtol=0, atol=1e-12)
    # The same state, under the same keys, as torch's.
    ours_state, theirs_state = ours.state_dict()["state"], theirs.state_dict()["state"]
    assert ours_state.keys() == theirs_state.keys()
    for i, entries in ours_state.items():
        assert entries.keys() == theirs_state[i].keys()
        for key, value in entries.items():
            np.testing.assert_allclose(value, theirs_state[i][key].numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_optimizer_resumes_from_its_state_dict(name, kwargs, tmp_path):
    x, y = _data(np.random.default_rng(1))
    straight = nn.Linear(3, 2, dtype=np.float64, generator=3)
    _train_ours(name, kwargs, 12, straight, x, y)
    resumed = nn.Linear(3, 2, dtype=np.float64, generator=3)
    first = _train_ours(name, kwargs, 6, resumed, x, y)
    rg.save(first.state_dict(), tmp_path / "opt")
    second = getattr(optim, name)(resumed.parameters(), **kwargs)
    second.load_state_dict(rg.load(tmp_path / "opt"))
    for _ in range(6):
        second.zero_grad()
        ((resumed(rg.tensor(x)) - rg.tensor(y)) ** 2).mean().backward()
        second.step()
    for key, value in straight.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[key], value)


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_optimizer_keeps_float32_in_place(name, kwargs):
    x, y = _data(np.random.default_rng(2))
    model = nn.Linear(3, 2, generator=4)
    arrays = [p.data for p in model.parameters()]
    before = [a.copy() for a in arrays]
    opt = _train_ours(name, kwargs, 3, model, x.astype(np.float32), y.astype(np.float32))
    for p, array, old in zip(model.parameters(), arrays, before):
        assert p.data is array and p.data.dtype == np.float32
        assert not np.array_equal(p.data, old)
    for state in opt.state.values():
        for value in state.values():
            assert not isinstance(value, np.ndarray) or value.dtype == np.float32


def test_asgd_keeps_the_average_of_the_parameters_after_t0():
    p = rg.tensor(np.zeros(1), requires_grad=True)
    opt = optim.ASGD([p], lr=0.1, lambd=0.0, t0=2)
    seen = []
    for grad in [1.0, -2.0, 0.5, 3.0, -1.0]:
        p.grad = np.array([grad])
        opt.step()
        seen.append(p.data[0])
    # mu = 1 / max(1, t - t0), set at step t and used at step t + 1, makes ax the mean of
    # the iterates from step t0 + 2 on, as torch's.
    assert np.isclose(opt.state[p]["ax"][0], np.mean(seen[3:]))


def test_new_optimizers_are_exported():
    for name in ("NAdam", "RAdam", "Adamax", "Adadelta", "Rprop", "ASGD"):
        assert name in optim.__all__ and issubclass(getattr(optim, name), optim.Optimizer)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda p: optim.NAdam(p, lr=-1), ValueError, "NAdam: invalid lr -1"),
        (lambda p: optim.NAdam(p, momentum_decay=-0.1), ValueError, "NAdam: invalid momentum_dec"),
        (lambda p: optim.NAdam(p, betas=(0.9, 1.0)), ValueError, r"NAdam: invalid betas\[1\] 1.0"),
        (lambda p: optim.RAdam(p, betas=0.9), ValueError, "RAdam: betas must be a pair"),
        (lambda p: optim.RAdam(p, eps="1e-8"), TypeError, "RAdam: eps must be a number"),
        (lambda p: optim.Adamax(p, weight_decay=-1), ValueError, "Adamax: invalid weight_decay"),
        (lambda p: optim.Adadelta(p, rho=1.5), ValueError, "Adadelta: invalid rho 1.5"),
        (lambda p: optim.Rprop(p, etas=(0.5, 1.0)), ValueError, r"Rprop: invalid etas .*0 < et"),
        (lambda p: optim.Rprop(p, etas=(0, 1.2)), ValueError, r"Rprop: invalid etas"),
        (lambda p: optim.Rprop(p, etas=0.5), ValueError, r"Rprop: etas must be a pair"),
        (lambda p: optim.Rprop(p, step_sizes=(1, 0.5)), ValueError, r"Rprop: invalid step_sizes"),
        (lambda p: optim.ASGD(p, t0=-1), ValueError, "ASGD: invalid t0 -1"),
        (lambda p: optim.ASGD(p, alpha=None), TypeError, "ASGD: alpha must be a number"),
    ],
)
def test_new_optimizers_reject_bad_hyperparameters(make, error, match):
    with pytest.raises(error, match=match):
        make([rg.zeros(2, requires_grad=True)])


def test_parameters_to_vector_and_back_match_torch():
    torch = pytest.importorskip("torch")
    model = nn.Sequential(
        nn.Linear(3, 4, dtype=np.float64, generator=5),
        nn.Linear(4, 2, dtype=np.float64, generator=6),
    )
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)).double()
    twin.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    vec = nn.utils.parameters_to_vector(model.parameters())
    theirs = torch.nn.utils.parameters_to_vector(twin.parameters())
    np.testing.assert_array_equal(vec.data, theirs.detach().numpy())
    # The vector is made by tensor operations: gradients reach the parameters.
    (vec * vec).sum().backward()
    for p in model.parameters():
        np.testing.assert_array_equal(p.grad, 2 * p.data)
    new = np.arange(vec.shape[0], dtype=np.float64) / 10
    nn.utils.vector_to_parameters(rg.tensor(new, requires_grad=True), model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), twin.parameters())
    for key, value in twin.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[key], value.numpy())
    assert all(p.is_leaf and p.requires_grad for p in model.parameters())


def test_vector_to_parameters_keeps_dtypes_and_refuses_a_vector_of_another_size():
    p, q = rg.zeros((2, 2), requires_grad=True), rg.zeros(3, requires_grad=True)
    nn.utils.vector_to_parameters(rg.tensor(np.arange(7.0)), [p, q])
    assert p.dtype == q.dtype == np.float32 and q.data.tolist() == [4.0, 5.0, 6.0]
    with pytest.raises(ValueError, match=r"vector_to_parameters\(\): vec has 8 elements, the pa"):
        nn.utils.vector_to_parameters(rg.zeros(8), [p, q])
    with pytest.raises(ValueError, match=r"vector_to_parameters\(\): vec must be 1-D, got sha"):
        nn.utils.vector_to_parameters(rg.zeros((7, 1)), [p, q])
    with pytest.raises(TypeError, match=r"vector_to_parameters\(\): vec must be a Tensor"):
        nn.utils.vector_to_parameters(np.zeros(7), [p, q])
    with pytest.raises(TypeError, match=r"parameters_to_vector\(\): item 1 of parameters is a"):
        nn.utils.parameters_to_vector([p, np.zeros(3)])
    with pytest.raises(ValueError, match=r"parameters_to_vector\(\): got no parameters"):
        nn.utils.parameters_to_vector([])
