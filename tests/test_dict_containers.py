"""`ModuleDict`, `ParameterList` and `ParameterDict` as PyTorch's: the same state dict keys,
parameter names and order, mapping and list edits, errors, printing, loading, dtype
conversion, `functional_call` names and gradients, checked against torch in float64."""

from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn


def ours_lib() -> SimpleNamespace:
    """Our nn and a float64 tensor constructor."""
    return SimpleNamespace(nn=nn, tensor=lambda a: rg.tensor(np.asarray(a, dtype=np.float64)))


def torch_lib(torch: Any) -> SimpleNamespace:
    """torch.nn and a float64 tensor constructor."""
    return SimpleNamespace(
        nn=torch.nn, tensor=lambda a: torch.tensor(np.asarray(a, dtype=np.float64))
    )


def make_model(lib: SimpleNamespace) -> Any:
    """The same model in either library: a head per key of a ModuleDict, a scale per head in a
    ParameterList, shifts in a ParameterDict built from a plain dict (so sorted by key)."""

    class Net(lib.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = lib.nn.ModuleDict({"b": lib.nn.Linear(3, 2), "a": lib.nn.Linear(3, 2)})
            self.scales = lib.nn.ParameterList(
                [lib.tensor([1.0, -0.5]), lib.nn.Parameter(lib.tensor([2.0, 0.25]))]
            )
            self.shifts = lib.nn.ParameterDict(
                {"z": lib.tensor([0.1, 0.2]), "y": lib.tensor([-0.3, 0.4])}
            )

        def forward(self, x: Any) -> Any:
            out = self.shifts["y"] * self.shifts["z"]
            for scale, head in zip(self.scales, self.heads.values(), strict=True):
                out = out + (head(x) * scale).tanh()
            return (out * out).sum()

    model = Net()
    return model.double() if hasattr(model, "double") else model


def paired_models(torch: Any) -> tuple[Any, Any]:
    """Our model and torch's, ours loaded from torch's state dict."""
    torch.manual_seed(0)
    theirs = make_model(torch_lib(torch))
    ours = make_model(ours_lib())
    ours.load_state_dict(nn.from_torch_state_dict(theirs))
    return ours, theirs


X = np.linspace(-1.0, 1.0, 12).reshape(4, 3)


def test_containers_state_dict_keys_and_parameter_names_are_torchs() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = paired_models(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.state_dict())[-2:] == ["shifts.y", "shifts.z"]  # a plain dict is sorted
    names = [name for name, _ in ours.named_parameters()]
    assert names == [name for name, _ in theirs.named_parameters()]
    assert [p.name for p in ours.parameters()] == names
    assert ours.heads["a"]._scope == "a" and ours.heads["b"]._scope == "b"


def test_containers_values_and_gradients_match_torch_and_load_back() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = paired_models(torch)
    loss = ours(rg.tensor(X))
    loss.backward()
    expected = theirs(torch.tensor(X))
    expected.backward()
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-10, atol=1e-10)
    for (name, mine), param in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert mine.grad is not None, name
        np.testing.assert_allclose(mine.grad, param.grad.numpy(), rtol=1e-10, atol=1e-10)
    fresh = make_model(torch_lib(torch))
    fresh.load_state_dict(nn.to_torch_state_dict(ours))
    for key, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), theirs.state_dict()[key].numpy(), key)


def test_containers_to_dtype_converts_their_parameters() -> None:
    model = make_model(ours_lib())
    model(rg.tensor(X)).backward()
    model.to(np.float32)
    for name, param in model.named_parameters():
        assert param.dtype == np.float32 and param.grad.dtype == np.float32, name
    assert model.scales[0].dtype == np.float32 and model.shifts["y"].dtype == np.float32


def test_functional_call_takes_container_names() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = paired_models(torch)
    swaps = {"shifts.y": [1.0, 2.0], "scales.1": [0.5, 0.5], "heads.a.bias": [0.3, -0.3]}
    mine = nn.functional_call(ours, {k: rg.tensor(np.array(v)) for k, v in swaps.items()}, X)
    yours = torch.func.functional_call(
        theirs, {k: torch.tensor(v, dtype=torch.float64) for k, v in swaps.items()}, torch.tensor(X)
    )
    np.testing.assert_allclose(mine.item(), yours.item(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ours(X).item(), theirs(torch.tensor(X)).item(), rtol=1e-10)


def module_dict_edits(lib: SimpleNamespace) -> Any:
    """A ModuleDict edited through its whole mapping API."""
    md = lib.nn.ModuleDict([("c", lib.nn.Linear(2, 2)), ("a", lib.nn.Tanh())])
    md.update({"b": lib.nn.Linear(2, 1), "a": lib.nn.Linear(1, 1)})  # 'a' keeps its place
    md.update(lib.nn.ModuleDict({"d": lib.nn.Linear(1, 3)}))
    md["e"] = lib.nn.Linear(3, 1)
    del md["c"]
    md.pop("b")
    return md


def test_module_dict_mapping_api_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = module_dict_edits(ours_lib()), module_dict_edits(torch_lib(torch))
    assert list(ours) == list(theirs) == ["a", "d", "e"]
    assert list(ours.keys()) == list(theirs.keys()) and len(ours) == len(theirs) == 3
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [k for k, _ in ours.items()] == list(ours)
    assert list(ours.values()) == [ours[k] for k in ours]
    assert "d" in ours and "c" not in ours
    assert repr(ours) == repr(theirs)
    ours.clear()
    assert len(ours) == 0 and list(ours.state_dict()) == []


@pytest.mark.parametrize(
    ("key", "value", "error", "match"),
    [
        (3, "module", TypeError, "ModuleDict: module name must be a string, got int"),
        ("", "module", KeyError, "cannot be the empty string"),
        ("a.b", "module", KeyError, 'module name "a.b" cannot contain "."'),
        ("training", "module", KeyError, "attribute 'training' already exists"),
        ("update", "module", KeyError, "attribute 'update' already exists"),
        ("x", 3, TypeError, "ModuleDict: item 'x' is a int, not a Module or None"),
    ],
)
def test_module_dict_refuses_keys_and_values_torch_refuses(key, value, error, match) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(error):
        torch.nn.ModuleDict()[key] = torch.nn.Tanh() if value == "module" else value
    md = nn.ModuleDict({"ok": nn.Tanh()})
    with pytest.raises(error, match=match):
        md[key] = nn.Tanh() if value == "module" else value
    with pytest.raises(error, match=match):  # checked before any item is stored
        md.update([("new", nn.Tanh()), (key, nn.Tanh() if value == "module" else value)])
    assert list(md) == ["ok"]


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        (3, TypeError, "ModuleDict.update: expected a mapping or an iterable"),
        ([3], TypeError, r"element #0 should be a \(key, value\) pair, got int"),
        ([("a", None, 1)], ValueError, "element #0 has length 3; 2 is required"),
    ],
)
def test_module_dict_update_refuses_what_is_not_pairs(values, error, match) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(error):
        torch.nn.ModuleDict().update(values)
    with pytest.raises(error, match=match):
        nn.ModuleDict().update(values)


def test_module_dict_missing_key_is_a_key_error_naming_it() -> None:
    md = nn.ModuleDict({"a": nn.Tanh()})
    for action in (lambda: md["b"], lambda: md.pop("b"), lambda: md.__delitem__("b")):
        with pytest.raises(KeyError, match="ModuleDict has no key 'b'"):
            action()
    assert list(md) == ["a"]


def parameter_list_edits(lib: SimpleNamespace) -> Any:
    """A ParameterList edited through its whole list API."""
    pl = lib.nn.ParameterList([lib.tensor([1.0, 2.0])])
    pl.append(lib.nn.Parameter(lib.tensor([[3.0]])))
    pl.extend([lib.tensor([4.0]), lib.tensor(np.zeros((2, 3)))])
    pl += [lib.tensor([5.0, 6.0, 7.0])]
    pl[1] = lib.tensor([8.0, 9.0])
    pl[-1] = lib.nn.Parameter(lib.tensor(0.5))
    return pl


def test_parameter_list_api_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = parameter_list_edits(ours_lib()), parameter_list_edits(torch_lib(torch))
    assert len(ours) == len(theirs) == 5
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for mine, param in zip(ours, theirs, strict=True):
        assert isinstance(mine, nn.Parameter) and mine.requires_grad
        np.testing.assert_array_equal(mine.data, param.detach().numpy())
    assert [p.name for p in ours.parameters()] == [str(i) for i in range(5)]
    assert ours[-2] is ours[3] and len(ours[1:4]) == 3 and ours[1:4][0] is ours[1]
    assert repr(ours) == repr(theirs).replace("torch.", "")
    assert repr(ours[:1]) == repr(theirs[:1]).replace("torch.", "")


def test_parameter_list_refuses_what_is_not_a_floating_tensor() -> None:
    pl = nn.ParameterList([rg.tensor([1.0])])
    with pytest.raises(TypeError, match="ParameterList.append: item 1 has dtype int64"):
        pl.append(rg.tensor(np.array([1, 2])))
    with pytest.raises(TypeError, match="ParameterList.extend: item 2 is a int, not a Parameter"):
        pl.extend([rg.tensor([2.0]), 3])
    with pytest.raises(TypeError, match="ParameterList.extend: values must be an iterable"):
        pl.extend(rg.tensor([2.0]))
    with pytest.raises(IndexError, match="ParameterList: index 1 is out of range for 1 param"):
        pl[1] = rg.tensor([2.0])
    with pytest.raises(
        TypeError, match="ParameterList: index must be an integer or a slice, got s"
    ):
        pl["0"]
    assert len(pl) == 1 and list(pl.state_dict()) == ["0"]


def test_parameter_containers_cannot_be_called_as_torchs() -> None:
    torch = pytest.importorskip("torch")
    for name in ("ParameterList", "ParameterDict"):
        with pytest.raises(RuntimeError):
            getattr(torch.nn, name)()(1)
        with pytest.raises(RuntimeError, match=f"{name} should not be called"):
            getattr(nn, name)()(1)


def test_parameter_dict_order_and_mapping_api_match_torch() -> None:
    torch = pytest.importorskip("torch")
    made = []
    for lib in (ours_lib(), torch_lib(torch)):
        shared = lib.nn.Parameter(lib.tensor([1.0]))
        pd = lib.nn.ParameterDict({"b": lib.tensor([2.0]), "a": shared})
        pd.update(OrderedDict([("d", lib.tensor([3.0])), ("c", shared)]))
        pd.update([("f", lib.tensor([4.0])), ("e", lib.tensor([5.0]))])
        pd["b"] = lib.tensor([6.0, 7.0])
        assert pd.pop("f").shape == (1,) and pd.get("f") is None
        assert pd.setdefault("g", lib.tensor([8.0])) is pd["g"]
        made.append(pd)
    ours, theirs = made
    assert list(ours) == list(theirs) == ["a", "b", "d", "c", "e", "g"]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 5  # 'c' is 'a'
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert isinstance(ours["e"], nn.Parameter) and ours["c"] is ours["a"]
    assert ours.copy()["b"] is ours["b"] and list(ours.copy()) == list(ours)
    del ours["a"]
    assert "a" not in ours and "c" in ours and len(ours) == 5


def test_parameter_dict_refuses_bad_items_naming_them_and_changes_nothing() -> None:
    pd = nn.ParameterDict({"w": rg.tensor([1.0])})
    with pytest.raises(TypeError, match="ParameterDict: item 'x' is a list, not a Parameter"):
        pd.update({"v": rg.tensor([2.0]), "x": [1.0]})
    with pytest.raises(KeyError, match="ParameterDict: attribute 'training' already exists"):
        pd["training"] = rg.tensor([2.0])
    with pytest.raises(TypeError, match="ParameterDict: parameter name must be a string"):
        pd.update({1: rg.tensor([2.0]), "a": rg.tensor([2.0])})
    with pytest.raises(KeyError, match="ParameterDict has no key 'v'"):
        pd["v"]
    assert list(pd) == ["w"] and pd.training is True
