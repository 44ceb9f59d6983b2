"""MultiStepLR, LambdaLR, CosineAnnealingLR, LinearLR and SequentialLR: torch's rates, bit for
bit, over three periods, through a checkpoint round trip, and clear errors for bad arguments."""

import math

import pytest

import retrograd as rg
from retrograd import optim
from retrograd.optim import lr_scheduler
from retrograd.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from tests.test_lr_scheduler import _lrs, _optimizer, _torch_optimizer


class Warmup:
    """A callable object with state, which LambdaLR's state dict carries (torch does too)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


# (name, builder taking a scheduler module and an optimizer, T): each schedule runs 3 * T epochs.
SCHEDULES = [
    ("multistep", lambda m, o: m.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.5), 10),
    ("multistep_at_0", lambda m, o: m.MultiStepLR(o, milestones=(0, 3)), 4),
    ("lambda_one", lambda m, o: m.LambdaLR(o, lambda epoch: 0.95**epoch), 8),
    ("lambda_per_group", lambda m, o: m.LambdaLR(o, [lambda e: e // 3, lambda e: 1 / (e + 1)]), 6),
    ("lambda_object", lambda m, o: m.LambdaLR(o, Warmup(4)), 4),
    ("cosine", lambda m, o: m.CosineAnnealingLR(o, T_max=5), 5),
    ("cosine_eta_min", lambda m, o: m.CosineAnnealingLR(o, T_max=4, eta_min=0.01), 4),
    ("cosine_t1", lambda m, o: m.CosineAnnealingLR(o, T_max=1, eta_min=0.001), 1),
    ("linear_warmup", lambda m, o: m.LinearLR(o), 5),
    (
        "linear_decay",
        lambda m, o: m.LinearLR(o, start_factor=0.5, end_factor=0.1, total_iters=3),
        3,
    ),
    ("linear_to_0", lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=4), 4),
    (
        "warmup_cosine",
        lambda m, o: m.SequentialLR(
            o,
            [m.LinearLR(o, start_factor=0.1, total_iters=4), m.CosineAnnealingLR(o, 8, 0.001)],
            milestones=[4],
        ),
        12,
    ),
    (
        "three_phases",
        lambda m, o: m.SequentialLR(
            o,
            [m.LinearLR(o, 0.2, total_iters=3), m.ExponentialLR(o, 0.9), m.StepLR(o, 2, 0.5)],
            milestones=[3, 6],
        ),
        9,
    ),
    (
        "lambda_then_multistep",
        lambda m, o: m.SequentialLR(
            o, [m.LambdaLR(o, lambda e: 0.5 + e), m.MultiStepLR(o, [0, 2, 4])], milestones=[3]
        ),
        6,
    ),
    (
        "milestone_0",
        lambda m, o: m.SequentialLR(
            o, [m.LinearLR(o), m.CosineAnnealingLR(o, T_max=3)], milestones=[0]
        ),
        3,
    ),
]


def _resumed(build, scheduler, opt, tmp_path):
    """A fresh optimizer and scheduler loaded from `scheduler`'s and `opt`'s saved state."""
    rg.save({"scheduler": scheduler.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "c")
    checkpoint = rg.load(tmp_path / "c")
    fresh_opt = _optimizer(lr=0.5)
    fresh = build(lr_scheduler, fresh_opt)
    fresh_opt.load_state_dict(checkpoint["optimizer"])
    fresh.load_state_dict(checkpoint["scheduler"])
    return fresh, fresh_opt


@pytest.mark.parametrize(
    ("build", "period"), [s[1:] for s in SCHEDULES], ids=[s[0] for s in SCHEDULES]
)
def test_schedule_matches_torch_through_a_state_dict_round_trip(build, period, tmp_path):
    torch = pytest.importorskip("torch")
    ours_opt, theirs_opt = _optimizer(), _torch_optimizer(torch)
    ours, theirs = build(lr_scheduler, ours_opt), build(torch.optim.lr_scheduler, theirs_opt)
    assert ours.get_last_lr() == theirs.get_last_lr() == _lrs(ours_opt)
    rates = set()
    for epoch in range(1, 3 * period + 1):
        if epoch == math.ceil(1.5 * period):
            ours, ours_opt = _resumed(build, ours, ours_opt, tmp_path)
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
        # Bit for bit: the same float operations in the same order as torch.
        assert _lrs(ours_opt) == _lrs(theirs_opt), f"epoch {epoch}"
        assert ours.get_last_lr() == theirs.get_last_lr() == _lrs(ours_opt)
        assert ours.last_epoch == theirs.last_epoch
        rates.add(tuple(_lrs(ours_opt)))
    assert len(rates) > 1


def test_cosine_annealing_steps_recursively_from_a_rate_changed_from_outside():
    torch = pytest.importorskip("torch")
    ours_opt, theirs_opt = _optimizer(), _torch_optimizer(torch)
    ours = CosineAnnealingLR(ours_opt, T_max=6, eta_min=0.001)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(theirs_opt, T_max=6, eta_min=0.001)
    rates = []
    for epoch in range(1, 19):
        if epoch == 3:
            for opt in (ours_opt, theirs_opt):
                opt.param_groups[0]["lr"] = 0.5
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
        assert _lrs(ours_opt) == _lrs(theirs_opt), f"epoch {epoch}"
        rates.append(ours.get_last_lr()[0])
    closed = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * 5 / 6)) / 2
    assert rates[4] > 5 * closed  # epoch 5 anneals from the changed rate, not from the formula


def test_lambda_lr_state_dict_holds_a_callable_objects_state_and_none_for_functions():
    opt = _optimizer()
    warmup = Warmup(4)
    scheduler = LambdaLR(opt, [warmup, lambda e: 1.0])
    warmup.epochs = 10
    saved = scheduler.state_dict()
    assert saved["lr_lambdas"] == [{"epochs": 10}, None]
    restored_warmup = Warmup(4)
    restored = LambdaLR(_optimizer(), [restored_warmup, lambda e: 1.0])
    restored.load_state_dict(saved)
    assert restored_warmup.epochs == 10
    bad = dict(saved, lr_lambdas=[{"epochs": 3}, {"epochs": 3}])
    with pytest.raises(ValueError, match=r"'lr_lambdas'\[1\].*None for a function"):
        restored.load_state_dict(bad)
    assert restored_warmup.epochs == 10


def test_lambda_lr_names_a_factor_that_is_not_a_number_and_keeps_its_epoch():
    scheduler = LambdaLR(_optimizer(), lambda e: "fast" if e == 2 else 1.0)
    scheduler.step()
    with pytest.raises(TypeError, match=r"LambdaLR: lr_lambda\[0\]\(2\) returned str"):
        scheduler.step()
    assert scheduler.last_epoch == 1


def test_sequential_lr_state_dict_holds_its_schedulers_and_refuses_a_foreign_one():
    opt = _optimizer()
    warm = SequentialLR(opt, [LinearLR(opt), CosineAnnealingLR(opt, T_max=4)], [5])
    saved = warm.state_dict()
    assert [set(s) >= {"last_epoch", "base_lrs"} for s in saved["_schedulers"]] == [True, True]
    assert saved["_milestones"] == [5] and "optimizer" not in saved
    other = _optimizer()
    different = SequentialLR(other, [LinearLR(other), StepLR(other, 2)], [5])
    before = different.state_dict()
    with pytest.raises(ValueError, match=r"schedulers\[1\]: StepLR.*missing keys"):
        different.load_state_dict(saved)
    assert different.state_dict() == before


def test_new_schedulers_import_from_optim_and_lr_scheduler():
    for name in ("MultiStepLR", "LambdaLR", "CosineAnnealingLR", "LinearLR", "SequentialLR"):
        assert getattr(optim, name) is getattr(lr_scheduler, name)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (
            lambda o: MultiStepLR(o, milestones=5),
            TypeError,
            "MultiStepLR: milestones must be a list",
        ),
        (lambda o: MultiStepLR(o, [2, 4.0]), TypeError, r"MultiStepLR: .*milestones\[1\] is 4.0"),
        (lambda o: MultiStepLR(o, [4, 2]), ValueError, "MultiStepLR: milestones must be non-dec"),
        (lambda o: MultiStepLR(o, [-1, 2]), ValueError, r"MultiStepLR: milestones\[0\] is -1"),
        (lambda o: MultiStepLR(o, [2], gamma="0.5"), TypeError, "MultiStepLR: gamma must be a num"),
        (lambda o: LambdaLR(o, 0.95), TypeError, r"LambdaLR: lr_lambda\[0\] must be a function"),
        (lambda o: LambdaLR(o, [abs]), ValueError, r"LambdaLR: expected one lr_lambda per param"),
        (lambda o: LambdaLR("sgd", abs), TypeError, "LambdaLR: expected an Optimizer"),
        (lambda o: CosineAnnealingLR(o, T_max=0), ValueError, "CosineAnnealingLR: T_max must be"),
        (lambda o: CosineAnnealingLR(o, T_max=5.0), TypeError, "CosineAnnealingLR: T_max must be"),
        (
            lambda o: CosineAnnealingLR(o, 5, eta_min=-1),
            ValueError,
            "CosineAnnealingLR: invalid eta",
        ),
        (lambda o: LinearLR(o, start_factor=0), ValueError, r"LinearLR: invalid start_factor 0"),
        (lambda o: LinearLR(o, start_factor=1.5), ValueError, r"LinearLR: invalid start_factor"),
        (lambda o: LinearLR(o, end_factor=-0.1), ValueError, r"LinearLR: invalid end_factor"),
        (lambda o: LinearLR(o, end_factor=None), TypeError, r"LinearLR: end_factor must be a num"),
        (lambda o: LinearLR(o, total_iters=0), ValueError, r"LinearLR: total_iters must be"),
        (lambda o: LinearLR(o, total_iters=2.5), TypeError, r"LinearLR: total_iters must be"),
    ],
)
def test_new_schedulers_reject_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make(_optimizer())


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda o, s: SequentialLR(o, s[0], [2]), TypeError, "schedulers must be a list"),
        (lambda o, s: SequentialLR(o, [], []), ValueError, "schedulers is empty"),
        (lambda o, s: SequentialLR(o, [s[0], "cos"], [2]), TypeError, r"schedulers\[1\] is a str"),
        (lambda o, s: SequentialLR(o, s, [2, 4]), ValueError, "expected 1 milestones"),
        (lambda o, s: SequentialLR(o, s, 2), TypeError, "milestones must be a list"),
        (lambda o, s: SequentialLR(o, s, [-2]), ValueError, r"milestones\[0\] is -2"),
        (lambda o, s: SequentialLR(o, [*s, LinearLR(o)], [2, 2]), ValueError, "must be increasing"),
        (lambda o, s: SequentialLR(o, [*s, s[0]], [2, 4]), ValueError, "appears twice"),
        (
            lambda o, s: SequentialLR(o, [s[0], ReduceLROnPlateau(o)], [2]),
            ValueError,
            "needs a metric",
        ),
        (lambda o, s: SequentialLR(o, [s[0], SequentialLR(o, s, [1])], [2]), ValueError, "nested"),
        (lambda o, s: SequentialLR(_optimizer(), s, [2]), ValueError, "another optimizer"),
        (lambda o, s: SequentialLR(o, s, [2], last_epoch=0.0), TypeError, "last_epoch must be"),
    ],
)
def test_sequential_lr_rejects_bad_arguments(make, error, match):
    opt = _optimizer()
    schedulers = [LinearLR(opt), ExponentialLR(opt, 0.9)]
    with pytest.raises(error, match=f"SequentialLR: .*{match}"):
        make(opt, schedulers)
