"""ConstantLR, MultiplicativeLR, PolynomialLR, CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
and ChainedScheduler: torch's rates (and cycled momentum), bit for bit over 100 steps, through a
checkpoint round trip, and clear errors for bad arguments."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import optim
from retrograd.optim import lr_scheduler
from retrograd.optim.lr_scheduler import (
    ChainedScheduler,
    ConstantLR,
    CosineAnnealingWarmRestarts,
    CyclicLR,
    ExponentialLR,
    MultiplicativeLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)

STEPS = 100


class Halving:
    """A callable object with state, which MultiplicativeLR's and CyclicLR's state dicts carry."""

    def __init__(self, every):
        self.every = every

    def __call__(self, x):
        return 0.5 if x % self.every == 0 else 1.0


def _optimizer(module, kind, lr=0.1):
    """Two param groups (the second at a quarter of the rate) of an SGD with momentum or an
    Adam, over retrograd's or torch's tensors."""
    if module is lr_scheduler:
        params = [
            rg.tensor(np.zeros(2), requires_grad=True),
            rg.tensor(np.zeros(3), requires_grad=True),
        ]
        opts = optim
    else:
        params = [module.zeros(2, requires_grad=True), module.zeros(3, requires_grad=True)]
        opts = module.optim
    groups = [{"params": params[:1]}, {"params": params[1:], "lr": lr / 4}]
    if kind == "adam":
        return opts.Adam(groups, lr=lr)
    return opts.SGD(groups, lr=lr, momentum=0.9)


# (name, optimizer kind, builder taking a scheduler module and an optimizer)
SCHEDULES = [
    ("constant", "sgd", lambda m, o: m.ConstantLR(o)),
    ("constant_half", "sgd", lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=7)),
    ("multiplicative", "sgd", lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97)),
    (
        "multiplicative_per_group",
        "sgd",
        lambda m, o: m.MultiplicativeLR(o, [Halving(10), lambda e: 1.01]),
    ),
    ("polynomial", "sgd", lambda m, o: m.PolynomialLR(o)),
    ("polynomial_power", "sgd", lambda m, o: m.PolynomialLR(o, total_iters=60, power=2.5)),
    ("warm_restarts", "sgd", lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7)),
    (
        "warm_restarts_mult",
        "sgd",
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
    ),
    ("cyclic", "sgd", lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=6)),
    (
        "cyclic_triangular2",
        "sgd",
        lambda m, o: m.CyclicLR(
            o, [0.01, 0.002], [0.1, 0.05], 4, step_size_down=9, mode="triangular2"
        ),
    ),
    (
        "cyclic_exp_range_adam",
        "adam",
        lambda m, o: m.CyclicLR(o, 0.001, 0.01, 5, mode="exp_range", gamma=0.98),
    ),
    (
        "cyclic_scale_fn",
        "sgd",
        lambda m, o: m.CyclicLR(
            o, 0.01, 0.1, 3.5, scale_fn=Halving(4), scale_mode="iterations", cycle_momentum=False
        ),
    ),
    ("one_cycle", "sgd", lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=STEPS)),
    (
        "one_cycle_linear_adam",
        "adam",
        lambda m, o: m.OneCycleLR(
            o, [0.01, 0.02], epochs=10, steps_per_epoch=10, anneal_strategy="linear"
        ),
    ),
    (
        "one_cycle_three_phase",
        "sgd",
        lambda m, o: m.OneCycleLR(
            o,
            0.3,
            total_steps=STEPS,
            pct_start=0.25,
            div_factor=10.0,
            final_div_factor=100.0,
            three_phase=True,
            base_momentum=[0.8, 0.7],
        ),
    ),
    (
        "one_cycle_no_momentum",
        "sgd",
        lambda m, o: m.OneCycleLR(o, 0.3, STEPS, cycle_momentum=False),
    ),
    (
        "chained",
        "sgd",
        lambda m, o: m.ChainedScheduler(
            [m.ConstantLR(o, factor=0.1, total_iters=4), m.ExponentialLR(o, gamma=0.95)]
        ),
    ),
    (
        "chained_with_sequence",
        "sgd",
        lambda m, o: m.ChainedScheduler(
            [
                m.SequentialLR(
                    o, [m.ConstantLR(o, 0.5, 3), m.PolynomialLR(o, 40, 2.0)], milestones=[10]
                ),
                m.CosineAnnealingWarmRestarts(o, 9),
            ],
            optimizer=o,
        ),
    ),
]


def _momenta(opt):
    return [(group.get("momentum"), group.get("betas")) for group in opt.param_groups]


def _lrs(opt):
    return [group["lr"] for group in opt.param_groups]


def _resumed(build, kind, scheduler, opt, tmp_path):
    """A fresh optimizer and scheduler loaded from `scheduler`'s and `opt`'s saved state."""
    rg.save({"scheduler": scheduler.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "c")
    checkpoint = rg.load(tmp_path / "c")
    fresh_opt = _optimizer(lr_scheduler, kind, lr=0.5)
    fresh = build(lr_scheduler, fresh_opt)
    fresh_opt.load_state_dict(checkpoint["optimizer"])
    fresh.load_state_dict(checkpoint["scheduler"])
    return fresh, fresh_opt


@pytest.mark.parametrize(
    ("kind", "build"), [s[1:] for s in SCHEDULES], ids=[s[0] for s in SCHEDULES]
)
def test_schedule_matches_torch_through_a_state_dict_round_trip(kind, build, tmp_path):
    torch = pytest.importorskip("torch")
    ours_opt, theirs_opt = _optimizer(lr_scheduler, kind), _optimizer(torch, kind)
    ours, theirs = build(lr_scheduler, ours_opt), build(torch.optim.lr_scheduler, theirs_opt)
    assert _lrs(ours_opt) == _lrs(theirs_opt) and _momenta(ours_opt) == _momenta(theirs_opt)
    rates = set()
    for step in range(1, STEPS + 1):
        if step == STEPS // 2 + 3:
            ours, ours_opt = _resumed(build, kind, ours, ours_opt, tmp_path)
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
        # Bit for bit: the same float operations in the same order as torch.
        assert _lrs(ours_opt) == _lrs(theirs_opt), f"step {step}"
        assert _momenta(ours_opt) == _momenta(theirs_opt), f"step {step}"
        assert ours.get_last_lr() == theirs.get_last_lr() == _lrs(ours_opt)
        rates.add(tuple(_lrs(ours_opt)))
    assert len(rates) > 1


def test_warm_restarts_step_to_a_fractional_epoch_as_torch():
    torch = pytest.importorskip("torch")
    ours_opt, theirs_opt = _optimizer(lr_scheduler, "sgd"), _optimizer(torch, "sgd")
    ours = CosineAnnealingWarmRestarts(ours_opt, T_0=4, T_mult=3, eta_min=0.01)
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs_opt, 4, 3, 0.01)
    for epoch in [0.25, 1.5, 3.9, 4.0, 7.75, 16.0, 20.5, 52.1, 2.0]:
        ours.step(epoch)
        theirs.step(epoch)
        assert _lrs(ours_opt) == _lrs(theirs_opt), epoch
        assert ours.last_epoch == theirs.last_epoch and ours.T_i == theirs.T_i
    with pytest.raises(ValueError, match=r"CosineAnnealingWarmRestarts.step\(\): invalid epoch"):
        ours.step(-1)


def test_one_cycle_refuses_a_step_past_total_steps_and_keeps_its_epoch():
    opt = _optimizer(lr_scheduler, "sgd")
    schedule = OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(3):
        schedule.step()
    with pytest.raises(ValueError, match="OneCycleLR: stepped 4 times, past total_steps=3"):
        schedule.step()
    assert schedule.last_epoch == 3 and schedule.get_last_lr() == _lrs(opt)


def test_state_dicts_carry_a_callable_objects_state_and_none_for_functions():
    opt = _optimizer(lr_scheduler, "sgd")
    multiplicative = MultiplicativeLR(opt, [Halving(3), lambda e: 0.9])
    cyclic = CyclicLR(opt, 0.01, 0.1, scale_fn=Halving(5))
    saved_m, saved_c = multiplicative.state_dict(), cyclic.state_dict()
    assert saved_m["lr_lambdas"] == [{"every": 3}, None]
    assert saved_c["_scale_fn_custom"] == {"every": 5}
    fresh_opt = _optimizer(lr_scheduler, "sgd")
    fresh = CyclicLR(fresh_opt, 0.01, 0.1, scale_fn=Halving(2))
    fresh.load_state_dict(saved_c)
    assert fresh._scale_fn_custom.every == 5
    with pytest.raises(ValueError, match="'_scale_fn_custom' is"):
        CyclicLR(fresh_opt, 0.01, 0.1).load_state_dict(saved_c)


def test_chained_scheduler_state_dict_holds_its_schedulers_and_refuses_a_foreign_one():
    opt = _optimizer(lr_scheduler, "sgd")
    chained = ChainedScheduler([ConstantLR(opt), StepLR(opt, 2)])
    chained.step()
    saved = chained.state_dict()
    assert [state["last_epoch"] for state in saved["_schedulers"]] == [1, 1]
    other = ChainedScheduler([ConstantLR(opt), PolynomialLR(opt)])
    with pytest.raises(ValueError, match=r"ChainedScheduler.load_state_dict\(\): schedulers\[1\]"):
        other.load_state_dict(saved)


def test_new_schedulers_import_from_optim_and_lr_scheduler():
    names = [s for s in lr_scheduler.__all__ if s != "LRScheduler"]
    for name in names:
        assert getattr(optim, name) is getattr(lr_scheduler, name) and name in optim.__all__


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda o: ConstantLR(o, factor=0), ValueError, "ConstantLR: invalid factor 0"),
        (lambda o: ConstantLR(o, factor=1.5), ValueError, "ConstantLR: invalid factor"),
        (lambda o: ConstantLR(o, total_iters=2.0), TypeError, "ConstantLR: total_iters must"),
        (lambda o: MultiplicativeLR(o, 0.9), TypeError, r"MultiplicativeLR: lr_lambda\[0\] must"),
        (lambda o: MultiplicativeLR(o, [abs]), ValueError, "MultiplicativeLR: expected one"),
        (lambda o: PolynomialLR(o, total_iters=0), ValueError, "PolynomialLR: total_iters must"),
        (lambda o: PolynomialLR(o, power=-1), ValueError, "PolynomialLR: invalid power"),
        (
            lambda o: CosineAnnealingWarmRestarts(o, T_0=0),
            ValueError,
            "CosineAnnealingWarmRestarts: T_0 must be",
        ),
        (
            lambda o: CosineAnnealingWarmRestarts(o, 5, T_mult=1.5),
            TypeError,
            "CosineAnnealingWarmRestarts: T_mult must be",
        ),
        (lambda o: CyclicLR(o, 0.1, [0.1]), ValueError, "CyclicLR: max_lr has 1 values"),
        (lambda o: CyclicLR(o, -0.1, 0.2), ValueError, "CyclicLR: invalid base_lr"),
        (lambda o: CyclicLR(o, 0.1, 0.2, 0), ValueError, "CyclicLR: invalid step_size_up 0"),
        (lambda o: CyclicLR(o, 0.1, 0.2, mode="tri"), ValueError, "CyclicLR: mode must be one"),
        (lambda o: CyclicLR(o, 0.1, 0.2, scale_fn=2), TypeError, "CyclicLR: scale_fn must be"),
        (
            lambda o: CyclicLR(optim.Adagrad(o.param_groups[0]["params"]), 0.1, 0.2),
            ValueError,
            "CyclicLR: cycle_momentum=True, but Adagrad has neither",
        ),
        (lambda o: OneCycleLR(o, 0.1), ValueError, "OneCycleLR: give total_steps, or both"),
        (lambda o: OneCycleLR(o, 0.1, 10.0), TypeError, "OneCycleLR: total_steps must be"),
        (lambda o: OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=0), ValueError, "steps_per_epoch"),
        (lambda o: OneCycleLR(o, 0.1, 10, pct_start=1.5), ValueError, "OneCycleLR: invalid pct"),
        (lambda o: OneCycleLR(o, 0.1, 10, pct_start=0.1), ValueError, "a phase of the schedule"),
        (lambda o: OneCycleLR(o, 0.1, 10, pct_start=1.0), ValueError, "a phase of the schedule"),
        (lambda o: OneCycleLR(o, 0.1, 10, anneal_strategy="cosine"), ValueError, "anneal_strat"),
        (lambda o: OneCycleLR(o, 0.1, 10, div_factor=0), ValueError, "invalid div_factor 0"),
        (lambda o: ChainedScheduler([]), ValueError, "ChainedScheduler: schedulers is empty"),
        (
            lambda o: ChainedScheduler([StepLR]),
            TypeError,
            r"ChainedScheduler: schedulers\[0\] is a type, not a scheduler",
        ),
        (
            lambda o: ChainedScheduler(StepLR(o, 2)),
            TypeError,
            "ChainedScheduler: schedulers must be a list of schedulers, got StepLR",
        ),
        (
            lambda o: ChainedScheduler([StepLR(o, 2)], optimizer=[o]),
            TypeError,
            "ChainedScheduler: expected an Optimizer",
        ),
        (lambda o: ChainedScheduler([], o), ValueError, "ChainedScheduler: schedulers is empty"),
        (
            lambda o: ChainedScheduler([ConstantLR(o), ReduceLROnPlateau(o)]),
            ValueError,
            r"ChainedScheduler: schedulers\[1\] is a ReduceLROnPlateau.*needs a metric",
        ),
        (
            lambda o: ChainedScheduler([ConstantLR(o), ConstantLR(_optimizer(lr_scheduler, "s"))]),
            ValueError,
            r"ChainedScheduler: schedulers\[1\] \(ConstantLR\) schedules another optimizer",
        ),
        (
            lambda o: SequentialLR(
                o, [ConstantLR(o), ChainedScheduler([ExponentialLR(o, 0.9)])], [2]
            ),
            ValueError,
            r"SequentialLR: schedulers\[1\] is a ChainedScheduler",
        ),
    ],
)
def test_new_schedulers_reject_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make(_optimizer(lr_scheduler, "sgd"))
