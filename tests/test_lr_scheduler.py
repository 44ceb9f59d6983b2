"""Learning-rate schedules: the same rates as torch.optim.lr_scheduler, resumable state."""

import math

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim
from retrograd.optim.lr_scheduler import ExponentialLR, ReduceLROnPlateau, StepLR

# A loss that falls, plateaus, rises, and falls again.
LOSSES = [5.0, 4.0, 3.0, 3.0, 3.0, 3.0001, 3.5, 4.0, 2.9, 2.9, 2.95, 2.8, 3.0, 3.1, 3.2, 3.3]
PLATEAU_CONFIGS = [
    {"factor": 0.5, "patience": 0},
    {"factor": 0.5, "patience": 1},
    {"factor": 0.1, "patience": 2, "cooldown": 2, "min_lr": 1e-4},
    {"factor": 0.5, "patience": 1, "threshold": 0.1, "threshold_mode": "abs"},
    {"factor": 0.5, "patience": 1, "mode": "max", "threshold": 0.01},
    {"factor": 0.5, "patience": 0, "mode": "max", "threshold_mode": "abs", "eps": 0.04},
]


def _optimizer(lr=0.1):
    params = [
        rg.tensor(np.zeros(2), requires_grad=True),
        rg.tensor(np.zeros(3), requires_grad=True),
    ]
    return optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": lr / 4}], lr=lr)


def _torch_optimizer(torch, lr=0.1):
    params = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    return torch.optim.SGD([{"params": params[:1]}, {"params": params[1:], "lr": lr / 4}], lr=lr)


def _lrs(opt):
    return [group["lr"] for group in opt.param_groups]


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("StepLR", {"step_size": 3}),
        ("StepLR", {"step_size": 1, "gamma": 0.5}),
        ("ExponentialLR", {"gamma": 0.9}),
    ],
)
def test_epoch_schedules_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    ours_opt, theirs_opt = _optimizer(), _torch_optimizer(torch)
    ours = getattr(optim.lr_scheduler, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
    for _ in range(12):
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
        assert _lrs(ours_opt) == pytest.approx(_lrs(theirs_opt), rel=1e-12)


@pytest.mark.parametrize("kwargs", PLATEAU_CONFIGS)
def test_reduce_on_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours_opt, theirs_opt = _optimizer(), _torch_optimizer(torch)
    ours = ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    history = []
    for loss in LOSSES:
        ours.step(loss)
        theirs.step(loss)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
        assert ours.num_bad_epochs == theirs.num_bad_epochs
        history.append(ours.get_last_lr()[0])
    assert len(set(history)) > 1  # the sequence did trigger reductions


def test_reduce_on_plateau_halves_when_the_loss_goes_up():
    opt = _optimizer(lr=1.0)
    scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=0)
    for loss in [3.0, 2.0, 2.5, 1.0, 1.5, 1.6]:
        scheduler.step(rg.tensor(loss))
    assert scheduler.get_last_lr() == [0.125, 0.25 / 8]


def test_step_lr_state_dict_resumes_the_schedule():
    opt = _optimizer()
    scheduler = StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        scheduler.step()
    saved = scheduler.state_dict()
    assert "optimizer" not in saved and saved["last_epoch"] == 3
    fresh_opt = _optimizer()
    fresh_opt.load_state_dict(opt.state_dict())
    resumed = StepLR(fresh_opt, step_size=7, gamma=0.9)
    resumed.load_state_dict(saved)
    for _ in range(5):
        scheduler.step()
        resumed.step()
        assert resumed.get_last_lr() == scheduler.get_last_lr()
    assert resumed.get_last_lr() == pytest.approx([0.1 / 16, 0.025 / 16])


def test_exponential_lr_resumes_with_last_epoch():
    opt = _optimizer()
    scheduler = ExponentialLR(opt, gamma=0.5)
    scheduler.step()
    scheduler.step()
    resumed = ExponentialLR(opt, gamma=0.5, last_epoch=scheduler.last_epoch)
    assert resumed.get_last_lr() == [0.025, 0.00625]  # constructing does not step ahead
    resumed.step()
    assert resumed.get_last_lr() == [0.0125, 0.003125]
    with pytest.raises(KeyError, match="initial_lr"):
        ExponentialLR(_optimizer(), gamma=0.5, last_epoch=3)


def test_reduce_on_plateau_state_dict_round_trip(tmp_path):
    opt = _optimizer()
    scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1)
    for loss in LOSSES[:8]:
        scheduler.step(loss)
    rg.save({"scheduler": scheduler.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "c")
    checkpoint = rg.load(tmp_path / "c")
    assert checkpoint["scheduler"]["best"] == 3.0
    fresh = _optimizer()
    fresh.load_state_dict(checkpoint["optimizer"])
    resumed = ReduceLROnPlateau(fresh)
    resumed.load_state_dict(checkpoint["scheduler"])
    for loss in LOSSES[8:]:
        scheduler.step(loss)
        resumed.step(loss)
        assert resumed.get_last_lr() == scheduler.get_last_lr()
    fresh_scheduler = ReduceLROnPlateau(_optimizer(), mode="max")
    assert fresh_scheduler.state_dict()["best"] == -math.inf


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda o: StepLR(o, step_size=0), ValueError, "step_size must be an integer >= 1"),
        (lambda o: StepLR(o, step_size=2.0), TypeError, "step_size must be an integer >= 1"),
        (lambda o: ReduceLROnPlateau(o, patience=1.5), TypeError, "patience must be an integer"),
        (lambda o: ReduceLROnPlateau(o, cooldown=True), TypeError, "cooldown must be an integer"),
        (lambda o: StepLR(o, step_size=2, gamma=-0.5), ValueError, "invalid gamma"),
        (lambda o: ExponentialLR(o, gamma="0.5"), TypeError, "gamma must be a number"),
        (lambda o: StepLR("sgd", step_size=2), TypeError, "expected an Optimizer"),
        (lambda o: ReduceLROnPlateau(o, factor=1.0), ValueError, "invalid factor 1.0"),
        (lambda o: ReduceLROnPlateau(o, mode="lowest"), ValueError, "mode must be"),
        (lambda o: ReduceLROnPlateau(o, threshold_mode="pct"), ValueError, "threshold_mode"),
        (lambda o: ReduceLROnPlateau(o, patience=-1), ValueError, "patience must be"),
        (lambda o: ReduceLROnPlateau(o, min_lr=[0.0]), ValueError, "expected 2 min_lr values"),
        (lambda o: ReduceLROnPlateau(o, min_lr=-1.0), ValueError, r"invalid min_lr\[0\]"),
    ],
)
def test_schedulers_reject_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make(_optimizer())


def test_scheduler_refuses_a_foreign_state_dict():
    plateau = ReduceLROnPlateau(_optimizer())
    with pytest.raises(ValueError, match="unknown keys"):
        StepLR(_optimizer(), step_size=2).load_state_dict(plateau.state_dict())


@pytest.mark.parametrize(
    ("state", "match"),
    [
        (ExponentialLR(_optimizer(), gamma=0.5).state_dict(), r"missing keys \['step_size'\]"),
        ({}, r"missing keys \['_is_initial', '_last_lr', 'base_lrs'"),
    ],
)
def test_scheduler_refuses_a_state_dict_with_missing_keys_and_stays_unchanged(state, match):
    scheduler = StepLR(_optimizer(), step_size=2, gamma=0.5)
    before = scheduler.state_dict()
    with pytest.raises(ValueError, match=match):
        scheduler.load_state_dict(state)
    assert scheduler.state_dict() == before


def test_scheduler_refuses_a_state_dict_that_is_not_a_dict_with_a_type_error():
    scheduler = StepLR(_optimizer(), step_size=2, gamma=0.5)
    before = scheduler.state_dict()
    with pytest.raises(TypeError, match=r"expected a dict from state_dict\(\), got list"):
        scheduler.load_state_dict([("gamma", 0.5)])
    assert scheduler.state_dict() == before


@pytest.mark.parametrize(
    ("metrics", "match"),
    [
        (None, "got NoneType"),
        ("low", "got str"),
        (rg.tensor([1.0, 2.0]), r"got Tensor \(.*shape \(2,\)"),
    ],
)
def test_reduce_on_plateau_step_names_a_metric_that_is_not_a_number(metrics, match):
    plateau = ReduceLROnPlateau(_optimizer())
    with pytest.raises(TypeError, match=r"ReduceLROnPlateau.step\(\): metrics must be a number.*"):
        plateau.step(metrics)
    with pytest.raises(TypeError, match=match):
        plateau.step(metrics)
    assert plateau.last_epoch == 0 and plateau.num_bad_epochs == 0
    plateau.step(rg.tensor(1.0))
    assert plateau.best == 1.0


@pytest.mark.parametrize(
    ("last_epoch", "error"),
    [("3", TypeError), (2.0, TypeError), (True, TypeError), (-2, ValueError)],
)
def test_schedulers_refuse_a_last_epoch_that_is_not_an_integer_from_minus_one(last_epoch, error):
    opt = _optimizer()
    for group in opt.param_groups:
        group["initial_lr"] = group["lr"]
    with pytest.raises(error, match=f"StepLR: last_epoch must be an integer >= -1.*{last_epoch!r}"):
        StepLR(opt, step_size=2, last_epoch=last_epoch)
    assert StepLR(opt, step_size=2, last_epoch=np.int64(3)).last_epoch == 4
