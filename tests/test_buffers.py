"""Module buffers: registration, traversal, state dicts, dtype conversion, as PyTorch's."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn


def _build(lib, make):
    """The same tree in retrograd (`lib` = retrograd.nn) or torch (`lib` = torch.nn):
    parameters, persistent, non-persistent, integer and None buffers, a nested module
    and a module shared by two parents."""

    class Leaf(lib.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("stat", make(np.array([1.0, 2.0], dtype=np.float32)))
            self.weight = lib.Parameter(make(np.ones((2, 2), dtype=np.float32)))
            self.register_buffer("count", make(np.array(3, dtype=np.int64)))
            self.register_buffer("scratch", make(np.zeros(2, np.float32)), persistent=False)
            self.register_buffer("absent", None)

    class Tree(lib.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("top", make(np.arange(3, dtype=np.float32)))
            self.first = Leaf()
            self.bias = lib.Parameter(make(np.zeros(2, dtype=np.float32)))
            self.shared = Leaf()
            self.again = self.shared

    return Tree()


def _torch_pair():
    torch = pytest.importorskip("torch")
    return _build(nn, rg.tensor), _build(torch.nn, torch.from_numpy), torch


def test_buffers_state_dict_keys_order_and_values_match_torch():
    ours, theirs, _ = _torch_pair()
    state, expected = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(expected)
    assert list(state)[:3] == ["bias", "top", "first.weight"]  # parameters, buffers, children
    for key, value in expected.items():
        assert state[key].dtype == value.numpy().dtype
        np.testing.assert_array_equal(state[key], value.numpy())


@pytest.mark.parametrize("remove_duplicate", [True, False])
@pytest.mark.parametrize("recurse", [True, False])
def test_named_buffers_matches_torch(recurse, remove_duplicate):
    ours, theirs, _ = _torch_pair()
    options = {"prefix": "m", "recurse": recurse, "remove_duplicate": remove_duplicate}
    names = [name for name, _ in ours.named_buffers(**options)]
    assert names == [name for name, _ in theirs.named_buffers(**options)]
    assert len(list(ours.buffers())) == len(list(theirs.buffers()))
    assert not any(name.endswith("absent") for name in names)


def test_buffer_reassignment_keeps_its_place_as_torch():
    ours, theirs, torch = _torch_pair()
    ours.first.stat = rg.tensor([5.0, 6.0])
    theirs.first.stat = torch.tensor([5.0, 6.0])
    ours.first.absent = np.ones(1)  # an array becomes a constant tensor
    theirs.first.absent = torch.ones(1, dtype=torch.float64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours.first.absent, rg.Tensor) and not ours.first.absent.requires_grad
    np.testing.assert_array_equal(ours.state_dict()["first.stat"], [5.0, 6.0])
    ours.first.stat = None
    assert "first.stat" not in ours.state_dict()
    assert next(name for name, _ in ours.first.named_buffers()) == "count"


def test_buffer_deleted_and_assigned_again_comes_last_and_persistent():
    ours, theirs, torch = _torch_pair()
    for model, value in ((ours, rg.tensor([1.0])), (theirs, torch.tensor([1.0]))):
        del model.first.scratch
        del model.first.stat
        model.first.register_buffer("stat", value)
        model.first.scratch = value  # now a plain attribute, as in torch
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "first.scratch" not in dict(ours.named_buffers())
    assert "shared.scratch" in dict(ours.named_buffers())
    assert ours.first.scratch is ours.first.stat


def test_parameter_or_module_takes_over_a_buffer_name():
    model = _build(nn, rg.tensor)
    model.first.scratch = nn.Parameter(np.ones(2))
    model.first.count = nn.Linear(1, 1)
    names = [name for name, _ in model.first.named_buffers()]
    assert names == ["stat"]
    assert "first.scratch" in model.state_dict() and "first.count.weight" in model.state_dict()


def test_to_converts_floating_buffers_only_as_torch():
    ours, theirs, _ = _torch_pair()
    ours.double()
    theirs.double()
    assert ours.first.stat.dtype == np.float64 and ours.first.scratch.dtype == np.float64
    assert ours.first.count.dtype == np.int64
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].dtype == value.numpy().dtype, key
    ours.to(np.float32)
    assert ours.top.dtype == np.float32 and ours.first.count.dtype == np.int64


def test_load_state_dict_loads_persistent_buffers_from_torch():
    ours, theirs, torch = _torch_pair()
    with torch.no_grad():
        theirs.first.stat.fill_(7.0)
        theirs.shared.count.fill_(9)
    assert ours.load_state_dict(nn.from_torch_state_dict(theirs)) == ([], [])
    np.testing.assert_array_equal(ours.first.stat.data, [7.0, 7.0])
    assert ours.again.count.item() == 9 and ours.first.count.dtype == np.int64


def test_load_state_dict_strict_keys_include_persistent_buffers():
    model = _build(nn, rg.tensor)
    state = model.state_dict()
    del state["first.count"]
    state["first.scratch"] = np.zeros(2, np.float32)  # not persistent: not a key of the model
    with pytest.raises(nn.StateDictError) as err:
        model.load_state_dict(state)
    assert "missing keys: first.count" in str(err.value)
    assert "unexpected keys: first.scratch" in str(err.value)
    assert model.load_state_dict(state, strict=False) == (["first.count"], ["first.scratch"])


def test_load_state_dict_refuses_buffer_shape_and_dtype_and_changes_nothing():
    model = _build(nn, rg.tensor)
    state = model.state_dict()
    state["top"] = np.zeros(4, np.float32)
    state["first.count"] = np.array(1.0)
    state["first.stat"] = np.zeros(2, np.float32)
    with pytest.raises(nn.StateDictError) as err:
        model.load_state_dict(state)
    assert "top: shape (4,) in the state dict, (3,) in the model" in str(err.value)
    assert "first.count: dtype float64 in the state dict, int64 in the model" in str(err.value)
    np.testing.assert_array_equal(model.first.stat.data, [1.0, 2.0])


def test_shared_buffer_names_must_agree_on_load():
    model = _build(nn, rg.tensor)
    state = model.state_dict()
    state["again.stat"] = state["again.stat"] + 1
    with pytest.raises(nn.StateDictError, match="again.stat: differs from shared.stat"):
        model.load_state_dict(state)


def test_register_buffer_copies_an_array_and_shares_a_tensor():
    model = nn.Module()
    array = np.array([1, 2], dtype=np.int32)
    tensor = rg.tensor([1.0])
    model.register_buffer("a", array)
    model.register_buffer("t", tensor)
    array[0] = 9
    assert model.a.dtype == np.int32 and model.a.data[0] == 1
    assert model.t is tensor


@pytest.mark.parametrize(
    ("name", "value", "error", "message"),
    [
        ("x", 3, TypeError, "cannot register a int as buffer 'x'"),
        ("x", np.array(["a"]), TypeError, "buffer 'x' must hold numbers"),
        ("x", rg.tensor([1.0], requires_grad=True), ValueError, "buffer 'x' requires grad"),
        ("a.b", None, KeyError, 'buffer name "a.b" cannot contain "."'),
        ("", None, KeyError, "buffer name cannot be the empty string"),
        ("weight", None, KeyError, "attribute 'weight' already exists"),
        (1, None, TypeError, "buffer name must be a string"),
    ],
)
def test_register_buffer_refusals_name_the_problem(name, value, error, message):
    layer = nn.Linear(1, 1)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(".", r"\.")):
        layer.register_buffer(name, value)
    assert list(layer.named_buffers()) == []


def test_register_buffer_refuses_a_non_bool_persistent_and_a_module_before_init():
    with pytest.raises(TypeError, match="persistent must be a bool"):
        nn.Module().register_buffer("x", None, persistent="no")

    class Early(nn.Module):
        def __init__(self):
            self.register_buffer("x", None)

    with pytest.raises(AttributeError, match="cannot register buffer 'x' before"):
        Early()


def test_assigning_a_buffer_name_takes_only_a_tensor_array_or_none():
    model = _build(nn, rg.tensor)
    with pytest.raises(TypeError, match="cannot assign int to buffer 'stat' of Leaf"):
        model.first.stat = 3
    with pytest.raises(ValueError, match="buffer 'stat' requires grad"):
        model.first.stat = rg.tensor([1.0, 2.0], requires_grad=True)
    np.testing.assert_array_equal(model.first.stat.data, [1.0, 2.0])


def test_buffers_leave_parameters_zero_grad_and_repr_alone():
    model = _build(nn, rg.tensor)
    assert [name for name, _ in model.named_parameters()] == [
        "bias",
        "first.weight",
        "shared.weight",
    ]
    assert repr(model) == ("Tree(\n  (first): Leaf()\n  (shared): Leaf()\n  (again): Leaf()\n)")
    model.zero_grad()


@pytest.mark.parametrize("loss", [nn.CrossEntropyLoss, nn.NLLLoss])
def test_class_loss_weight_is_a_persistent_buffer_as_torch(loss):
    torch = pytest.importorskip("torch")
    ours = loss(weight=[1.0, 2.0, 0.5])
    theirs = getattr(torch.nn, loss.__name__)(weight=torch.tensor([1.0, 2.0, 0.5]))
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    np.testing.assert_array_equal(ours.state_dict()["weight"], [1.0, 2.0, 0.5])
    assert list(loss().state_dict()) == list(getattr(torch.nn, loss.__name__)().state_dict()) == []
    assert loss().weight is None
    assert repr(ours) == f"{loss.__name__}(weight=(3,))"


def test_class_loss_weight_loads_and_is_used():
    logits = rg.tensor([[0.0, 1.0, 2.0], [1.0, 0.0, 0.0]])
    loss = nn.CrossEntropyLoss(weight=[1.0, 1.0, 1.0])
    loss.load_state_dict({"weight": np.array([0.0, 1.0, 0.0])})
    only_second = nn.CrossEntropyLoss()(logits[1:], [1])
    np.testing.assert_allclose(loss(logits, [2, 1]).item(), only_second.item(), rtol=1e-6)
    with pytest.raises(nn.StateDictError, match=r"weight: shape \(2,\)"):
        loss.load_state_dict({"weight": np.ones(2)})
