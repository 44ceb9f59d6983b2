"""PyTorch API that users reach for: `requires_grad_` on tensors and modules, `get_submodule`,
editing a `ModuleList` in place, `Sequential.append` and `Embedding.from_pretrained`,
each checked against torch where torch is installed."""

from collections.abc import Callable

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn

# ----- Tensor.requires_grad_ -----


def test_tensor_requires_grad_matches_torch_on_leaves_and_non_leaves() -> None:
    torch = pytest.importorskip("torch")
    for lib in (rg, torch):
        x = lib.ones(2)
        assert x.requires_grad_() is x and x.requires_grad
        assert x.requires_grad_(False) is x and not x.requires_grad
        y = x.requires_grad_() * 2
        assert y.requires_grad_(True) is y and y.requires_grad and not y.is_leaf
    with pytest.raises(RuntimeError, match="leaf"):
        torch.ones(2, requires_grad=True).mul(2).requires_grad_(False)
    with pytest.raises(RuntimeError, match="non-leaf; use detach"):
        (rg.ones(2, requires_grad=True) * 2).requires_grad_(False)


def test_tensor_requires_grad_refuses_an_integer_tensor_as_the_constructor() -> None:
    with pytest.raises(TypeError, match="floating dtype"):
        rg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating dtype"):
        rg.tensor([1, 2]).requires_grad_()
    assert not rg.tensor([1, 2]).requires_grad_(False).requires_grad


# ----- Module.requires_grad_ and get_submodule -----


def small_models(torch) -> tuple[nn.Module, object]:
    """The same tree in both libraries: Sequential(Linear, Sequential(Linear, Tanh))."""
    ours = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Linear(3, 1), nn.Tanh()))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Tanh())
    )
    return ours, theirs


def test_module_requires_grad_sets_every_parameter_as_torch() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = small_models(torch)
    for model in (ours, theirs):
        assert model[1].requires_grad_(False) is model[1]
    flags = [p.requires_grad for p in ours.parameters()]
    assert flags == [p.requires_grad for p in theirs.parameters()] == [True, True, False, False]
    assert ours.requires_grad_() is ours
    assert all(p.requires_grad for p in ours.parameters())


def test_module_requires_grad_false_freezes_the_module_in_backward() -> None:
    model = nn.Sequential(nn.Linear(2, 3, generator=0), nn.Linear(3, 1, generator=1))
    model[0].requires_grad_(False)
    model(np.ones((4, 2), dtype=np.float32)).sum().backward()
    assert model[0].weight.grad is None and model[0].bias.grad is None
    assert model[1].weight.grad is not None


@pytest.mark.parametrize("target", ["", "0", "1", "1.0", "1.1"])
def test_get_submodule_finds_what_torch_finds(target: str) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = small_models(torch)
    assert type(ours.get_submodule(target)).__name__ == type(theirs.get_submodule(target)).__name__
    assert ours.get_submodule(target) is ours.get_submodule(target).get_submodule("")


@pytest.mark.parametrize("target", ["2", "1.x", "1.0.weight", "0.weight.x", "1.0.bias", "a..b"])
def test_get_submodule_errors_name_the_part_as_torch(target: str) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = small_models(torch)
    with pytest.raises(AttributeError) as expected:
        theirs.get_submodule(target)
    with pytest.raises(AttributeError) as raised:
        ours.get_submodule(target)
    assert str(expected.value) in str(raised.value)
    assert repr(target) in str(raised.value)


def test_get_submodule_refuses_a_target_that_is_not_a_str() -> None:
    with pytest.raises(TypeError, match="target must be a str"):
        nn.Sequential().get_submodule(0)


# ----- ModuleList editing -----


def linear_lists(torch, sizes: list[int]) -> tuple[nn.Sequential, object]:
    """A ModuleList of Linear(n, n) for each n, inside a Sequential, in both libraries."""
    ours = nn.Sequential(nn.ModuleList([nn.Linear(n, n) for n in sizes]))
    theirs = torch.nn.Sequential(torch.nn.ModuleList([torch.nn.Linear(n, n) for n in sizes]))
    return ours, theirs


EDITS: list[tuple[str, Callable]] = [
    ("insert at 0", lambda m, lib: m.insert(0, lib.Linear(5, 5))),
    ("insert in the middle", lambda m, lib: m.insert(2, lib.Linear(6, 6))),
    ("insert at the end", lambda m, lib: m.insert(len(m), lib.Linear(7, 7))),
    ("set", lambda m, lib: m.__setitem__(1, lib.Linear(8, 8))),
    ("set negative", lambda m, lib: m.__setitem__(-1, lib.Linear(9, 9))),
    ("set None", lambda m, lib: m.__setitem__(0, None)),
    ("delete", lambda m, lib: m.__delitem__(1)),
    ("delete negative", lambda m, lib: m.__delitem__(-2)),
    ("delete slice", lambda m, lib: m.__delitem__(slice(None, None, 2))),
    ("append", lambda m, lib: m.append(lib.Linear(4, 4))),
]


def test_module_list_edits_keep_torch_keys_and_parameter_order() -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = linear_lists(torch, [1, 2, 3, 4])
    for what, edit in EDITS:
        assert edit(ours[0], nn) is None or what == "append"
        edit(theirs[0], torch.nn)
        assert list(ours.state_dict()) == list(theirs.state_dict()), what
        shapes = [tuple(p.shape) for p in theirs.parameters()]
        assert [p.shape for p in ours.parameters()] == shapes, what
        assert len(ours[0]) == len(theirs[0]), what
        assert [type(m).__name__ for m in ours[0]] == [type(m).__name__ for m in theirs[0]], what


def test_module_list_edits_keep_parameter_names_and_scopes_in_step() -> None:
    model = nn.Sequential(nn.ModuleList([nn.Linear(1, 1), nn.Linear(2, 2)]))
    layers = model[0]
    first = layers[0]
    layers.insert(0, nn.Linear(3, 3))
    assert first.weight.name == "0.1.weight" and first._scope == "1"
    assert [p.name for p in model.parameters()] == [name for name, _ in model.named_parameters()]
    del layers[0]
    assert first.weight.name == "0.0.weight" and first._scope == "0"
    layers[1] = nn.Linear(4, 4)
    assert [p.name for p in model.parameters()] == list(model.state_dict())


def test_module_list_insert_takes_list_positions_where_torch_fails() -> None:
    layers = nn.ModuleList([nn.Linear(1, 1), nn.Linear(2, 2)])
    layers.insert(-1, nn.Linear(3, 3))
    layers.insert(10, nn.Linear(4, 4))
    assert [m.in_features for m in layers] == [1, 3, 2, 4]
    assert list(layers.state_dict())[::2] == ["0.weight", "1.weight", "2.weight", "3.weight"]


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (lambda m: m.insert(0, 3), TypeError, "item 0 is a int, not a Module"),
        (lambda m: m.insert("0", nn.Tanh()), TypeError, "insert: index must be an integer"),
        (lambda m: m.__setitem__(2, nn.Tanh()), IndexError, "index 2 is out of range for 2"),
        (lambda m: m.__setitem__(0, "x"), TypeError, "item 0 is a str"),
        (lambda m: m.__setitem__(slice(1), nn.Tanh()), TypeError, "must be an integer, got"),
        (lambda m: m.__delitem__(-3), IndexError, "index -3 is out of range for 2"),
        (lambda m: m.__delitem__(1.0), TypeError, "an integer or a slice, got float"),
    ],
)
def test_module_list_edit_errors_are_clear_and_change_nothing(
    edit: Callable, error: type, message: str
) -> None:
    layers = nn.ModuleList([nn.Linear(1, 1), nn.Tanh()])
    before = list(layers._modules.items())
    with pytest.raises(error, match=message):
        edit(layers)
    assert list(layers._modules.items()) == before


def test_sequential_append_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(2, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 2))
    assert ours.append(nn.Linear(2, 3)) is ours
    theirs.append(torch.nn.Linear(2, 3))
    assert list(ours.state_dict()) == list(theirs.state_dict())


# ----- Embedding.from_pretrained -----


def test_embedding_from_pretrained_looks_up_and_freezes_as_torch() -> None:
    torch = pytest.importorskip("torch")
    table = np.arange(12, dtype=np.float32).reshape(4, 3)
    ours = nn.Embedding.from_pretrained(table)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table))
    indices = np.array([[0, 3], [2, 2]])
    np.testing.assert_array_equal(
        ours(indices).data, theirs(torch.tensor(indices)).detach().numpy()
    )
    assert ours.weight.requires_grad is theirs.weight.requires_grad is False
    assert isinstance(ours.weight, nn.Parameter) and ours.weight.name == "weight"
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_embedding_from_pretrained_unfrozen_keeps_the_padding_row_without_gradient() -> None:
    torch = pytest.importorskip("torch")
    table = np.arange(1.0, 13.0).reshape(4, 3)  # float64 stays float64, as in torch
    ours = nn.Embedding.from_pretrained(rg.tensor(table), freeze=False, padding_idx=-1)
    theirs = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=False, padding_idx=-1)
    assert ours.padding_idx == theirs.padding_idx == 3 and ours.weight.dtype == np.float64
    assert repr(ours) == repr(theirs)
    np.testing.assert_array_equal(ours.weight.data, table)  # the padding row is not zeroed
    indices = np.array([0, 3, 3, 1])
    ours(indices).sum().backward()
    theirs(torch.tensor(indices)).sum().backward()
    np.testing.assert_array_equal(ours.weight.grad, theirs.weight.grad.numpy())


def test_embedding_from_pretrained_copies_the_table() -> None:
    table = np.ones((2, 2), dtype=np.float32)
    embedding = nn.Embedding.from_pretrained(table, freeze=False)
    table[0, 0] = 5.0
    assert embedding.weight.data[0, 0] == 1.0


@pytest.mark.parametrize(
    ("embeddings", "padding_idx", "error", "message"),
    [
        (np.ones(3, dtype=np.float32), None, ValueError, r"must be 2-D .* got shape \(3,\)"),
        (np.ones((2, 2), dtype=np.int64), None, TypeError, "must be floating, got dtype int64"),
        (np.ones((2, 2), dtype=np.float32), 2, ValueError, r"padding_idx must be in \[-2, 2\)"),
    ],
)
def test_embedding_from_pretrained_refuses_what_it_cannot_use(
    embeddings: np.ndarray, padding_idx: int | None, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        nn.Embedding.from_pretrained(embeddings, padding_idx=padding_idx)
