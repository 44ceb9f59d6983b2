"""Checkpoints and optimizers under misuse: optimizer kinds, odd params, file modes, values."""

import os
import stat

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn, optim


def _stepped(optimizer_class: type, param: rg.Tensor) -> optim.Optimizer:
    optimizer = optimizer_class([param], lr=0.1, weight_decay=0.1)
    param.grad = np.ones(3)
    optimizer.step()
    return optimizer


def test_adamw_load_state_dict_refuses_adam_state():
    param = rg.tensor(np.ones(3), requires_grad=True)
    saved = _stepped(optim.Adam, param).state_dict()
    adamw = optim.AdamW([param], lr=0.1)
    with pytest.raises(ValueError, match="decoupled_weight_decay must be True"):
        adamw.load_state_dict(saved)
    assert adamw.param_groups[0]["decoupled_weight_decay"] is True
    assert adamw.param_groups[0]["weight_decay"] == 0.01 and not adamw.state


def test_adamw_add_param_group_refuses_coupled_weight_decay():
    adamw = optim.AdamW([rg.tensor(np.ones(3), requires_grad=True)])
    extra = rg.tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="decoupled_weight_decay"):
        adamw.add_param_group({"params": [extra], "decoupled_weight_decay": False})
    assert len(adamw.param_groups) == 1


def test_adam_loads_adamw_state_and_continues_like_it():
    """Adam with the flag set is AdamW, so this load keeps the saved run's rule."""
    first = rg.tensor(np.ones(3), requires_grad=True)
    adamw = _stepped(optim.AdamW, first)
    second = rg.tensor(first.data.copy(), requires_grad=True)
    adam = optim.Adam([second])
    adam.load_state_dict(adamw.state_dict())
    for p, optimizer in ((first, adamw), (second, adam)):
        p.grad = np.full(3, -2.0)
        optimizer.step()
    np.testing.assert_array_equal(first.data, second.data)


@pytest.mark.parametrize("params", [None, 3.0, nn.Linear(2, 1, generator=0)])
def test_optimizer_non_iterable_params_named(params):
    with pytest.raises(TypeError, match="params must be an iterable of tensors") as info:
        optim.SGD(params, lr=0.1)
    assert ("module.parameters()" in str(info.value)) == isinstance(params, nn.Module)


def test_add_param_group_non_iterable_params_named():
    sgd = optim.SGD([rg.tensor(np.ones(3), requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="got Linear; pass module.parameters()"):
        sgd.add_param_group({"params": nn.Linear(2, 1, generator=0)})


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_save_keeps_permissions_of_replaced_file(tmp_path):
    path = tmp_path / "private.ckpt"
    rg.save({"epoch": 1}, path)
    os.chmod(path, 0o600)
    rg.save({"epoch": 2}, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert rg.load(path) == {"epoch": 2}


def test_save_refuses_masked_array(tmp_path):
    masked = np.ma.masked_array([1.0, 2.0], mask=[True, False])
    with pytest.raises(TypeError, match=r"obj\['m'\] is a masked array"):
        rg.save({"m": masked}, tmp_path / "m.ckpt")
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("obj", [{"n": 10**5000}, {10**5000: 1}])
def test_save_int_too_long_to_load_is_refused(tmp_path, obj):
    with pytest.raises(ValueError, match="int of more than 14000 bits"):
        rg.save(obj, tmp_path / "big.ckpt")
    assert not os.listdir(tmp_path)


def test_save_long_int_round_trips(tmp_path):
    value = -(2**13_999)
    rg.save({value: [value, 2**64]}, tmp_path / "big.ckpt")
    assert rg.load(tmp_path / "big.ckpt") == {value: [value, 2**64]}


@pytest.mark.parametrize(
    "make",
    [
        lambda m: optim.SGD(m, lr=0.1),
        lambda m: nn.utils.clip_grad_norm_(m, 1.0),
        lambda m: nn.utils.clip_grad_value_(m, 1.0),
    ],
)
def test_a_container_module_given_as_parameters_is_told_to_pass_its_parameters(make):
    """Sequential iterates over its layers, so it was taken as a list and the error named
    the first layer ('param 0 is a Linear'), without the fix."""
    model = nn.Sequential(nn.Linear(2, 2, generator=0))
    with pytest.raises(TypeError, match=r"got Sequential; pass module.parameters\(\)"):
        make(model)
