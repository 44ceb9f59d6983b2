"""Editing a `Sequential` in place as in PyTorch: `insert`, `extend`, `pop`, `s[i] = module`,
`del s[i]`, `a + b` and `a += b` keep torch's state dict keys, parameters, results and errors,
and keep parameter names and scope labels in step with the keys."""

from collections import OrderedDict
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from retrograd import nn


def paired_modules(torch, count: int) -> tuple[list[nn.Module], list[object]]:
    """`count` modules (Linear(3, 3) and Tanh in turn) in both libraries, with equal weights."""
    torch.manual_seed(0)
    ours, theirs = [], []
    for i in range(count):
        if i % 2:
            ours.append(nn.Tanh())
            theirs.append(torch.nn.Tanh())
            continue
        layer = torch.nn.Linear(3, 3)
        mine = nn.Linear(3, 3)
        mine.load_state_dict({k: v.detach().numpy() for k, v in layer.state_dict().items()})
        ours.append(mine)
        theirs.append(layer)
    return ours, theirs


# Each edit takes the Sequential, the library and a source of new modules, and returns the
# Sequential to go on with (a new one for `+`).
EDITS: list[tuple[str, Callable]] = [
    ("insert at 0", lambda m, lib, new: m.insert(0, new())),
    ("insert in the middle", lambda m, lib, new: m.insert(2, new())),
    ("insert at the end", lambda m, lib, new: m.insert(len(m), new())),
    ("insert negative", lambda m, lib, new: m.insert(-1, new())),
    ("set", lambda m, lib, new: m.__setitem__(1, new()) or m),
    ("set negative", lambda m, lib, new: m.__setitem__(-1, new()) or m),
    ("delete", lambda m, lib, new: m.__delitem__(1) or m),
    ("delete negative", lambda m, lib, new: m.__delitem__(-2) or m),
    ("delete slice", lambda m, lib, new: m.__delitem__(slice(None, None, 2)) or m),
    ("pop", lambda m, lib, new: m.pop(0) and m),
    ("pop negative", lambda m, lib, new: m.pop(-1) and m),
    ("append", lambda m, lib, new: m.append(new())),
    ("extend", lambda m, lib, new: m.extend([new(), new()])),
    ("pop slice", lambda m, lib, new: m.pop(slice(0, 1)) and m),
    ("+=", lambda m, lib, new: m.__iadd__(lib.Sequential(new()))),
    ("+", lambda m, lib, new: m + lib.Sequential(new(), new())),
]


def assert_same_model(torch, ours: nn.Sequential, theirs, what: str) -> None:
    """Same keys, parameters in the same order, same layers and the same result as torch."""
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state), what
    for (key, mine), theirs_param in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_array_equal(mine.data, theirs_param.detach().numpy(), err_msg=key)
    assert [type(m).__name__ for m in ours[0]] == [type(m).__name__ for m in theirs[0]], what
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(
        ours(x).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-6, atol=1e-6, err_msg=what
    )


def assert_names_in_step(model: nn.Sequential, what: str) -> None:
    """Parameter names are their keys, and every layer's scope label is its key."""
    assert [p.name for p in model.parameters()] == [n for n, _ in model.named_parameters()], what
    assert all(m._scope == key for key, m in model[0]._modules.items()), what


def test_sequential_edits_keep_torch_keys_parameters_and_results() -> None:
    torch = pytest.importorskip("torch")
    ours_modules, theirs_modules = paired_modules(torch, 24)
    mine: Iterator[nn.Module] = iter(ours_modules[4:])
    yours = iter(theirs_modules[4:])
    ours = nn.Sequential(nn.Sequential(*ours_modules[:4]))
    theirs = torch.nn.Sequential(torch.nn.Sequential(*theirs_modules[:4]))
    for what, edit in EDITS:
        ours[0] = edit(ours[0], nn, lambda: next(mine))
        theirs[0] = edit(theirs[0], torch.nn, lambda: next(yours))
        assert len(ours[0]) == len(theirs[0]), what
        assert_same_model(torch, ours, theirs, what)
        assert_names_in_step(ours, what)


def test_sequential_edits_return_what_torch_returns() -> None:
    torch = pytest.importorskip("torch")
    for lib in (nn, torch.nn):
        seq = lib.Sequential(lib.Tanh(), lib.ReLU(), lib.Sigmoid())
        assert seq.insert(0, lib.Tanh()) is seq and seq.extend([lib.Tanh()]) is seq
        assert isinstance(seq.pop(1), lib.Tanh) and isinstance(seq.pop(-2), lib.Sigmoid)
        part = seq.pop(slice(1, 3))
        assert isinstance(part, lib.Sequential) and list(part._modules) == ["1", "2"]
        joined = seq + lib.Sequential(lib.ReLU())
        assert joined is not seq and list(joined._modules) == ["0", "1"] and len(seq) == 1
        seq += lib.Sequential(lib.ReLU())
        assert len(seq) == 2 and [type(m).__name__ for m in seq] == ["Tanh", "ReLU"]


def named(lib) -> object:
    """Sequential(OrderedDict(proj=Linear(2, 2), act=Tanh())) in `lib`."""
    return lib.Sequential(OrderedDict(proj=lib.Linear(2, 2), act=lib.Tanh()))


NAMED_EDITS: list[tuple[str, Callable]] = [
    ("set keeps the name", lambda m, lib: m.__setitem__(0, lib.Linear(2, 2)) or m),
    ("insert at the end keeps the names", lambda m, lib: m.insert(2, lib.ReLU())),
    ("append keeps the names", lambda m, lib: m.append(lib.ReLU())),
    ("delete renumbers", lambda m, lib: m.__delitem__(1) or m),
    ("+ renumbers", lambda m, lib: m + lib.Sequential(lib.ReLU())),
]


@pytest.mark.parametrize(("what", "edit"), NAMED_EDITS)
def test_named_sequential_edits_keep_torch_keys(what: str, edit: Callable) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = edit(named(nn), nn), edit(named(torch.nn), torch.nn)
    assert list(ours._modules) == list(theirs._modules), what
    assert list(ours.state_dict()) == list(theirs.state_dict()), what
    assert [p.name for p in ours.parameters()] == list(ours.state_dict()), what


def test_named_sequential_insert_renumbers_where_torch_fails() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(KeyError):
        named(torch.nn).insert(0, torch.nn.ReLU())
    seq = named(nn)
    proj = seq.proj
    seq.insert(0, nn.ReLU())
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is proj
    assert proj.weight.name == "1.weight" and proj._scope == "1"


def test_sequential_insert_and_delete_move_names_and_scopes_under_a_parent() -> None:
    model = nn.Sequential(nn.Sequential(nn.Linear(1, 1), nn.Linear(2, 2)))
    layers = model[0]
    first = layers[0]
    layers.insert(0, nn.Linear(3, 3))
    assert first.weight.name == "0.1.weight" and first._scope == "1"
    assert_names_in_step(model, "insert")
    del layers[0]
    assert first.weight.name == "0.0.weight" and first._scope == "0"
    layers[1] = nn.Linear(4, 4)
    assert_names_in_step(model, "set")


def test_sequential_plus_gives_the_new_sequential_names_and_scopes() -> None:
    head = nn.Sequential(OrderedDict(proj=nn.Linear(2, 2)))
    tail = nn.Sequential(nn.Tanh(), nn.Linear(2, 1))
    joined = nn.Sequential(head + tail)
    assert_names_in_step(joined, "+")
    assert [p.name for p in joined.parameters()][::2] == ["0.0.weight", "0.2.weight"]


BAD_EDITS: list[tuple[Callable, type, str]] = [
    (lambda m, lib: m.insert(3, lib.Tanh()), IndexError, "index 3 is out of range for 2"),
    (lambda m, lib: m.insert(-3, lib.Tanh()), IndexError, "it takes -2 to 2"),
    (lambda m, lib: m.insert("0", lib.Tanh()), TypeError, "insert: index must be an integer"),
    (lambda m, lib: m.__setitem__(2, lib.Tanh()), IndexError, "index 2 is out of range for 2"),
    (lambda m, lib: m.__setitem__(5, "x"), IndexError, "index 5 is out of range for 2"),
    (lambda m, lib: m.__setitem__(0, "x"), TypeError, "item 0 is a str, not a Module"),
    (lambda m, lib: m.__setitem__(slice(1), lib.Tanh()), TypeError, "an integer, got slice"),
    (lambda m, lib: m.__delitem__(-3), IndexError, "index -3 is out of range for 2"),
    (lambda m, lib: m.__delitem__(1.0), TypeError, "an integer or a slice, got float"),
    (lambda m, lib: m.pop(2), IndexError, "index 2 is out of range for 2"),
    (lambda m, lib: m + 3, ValueError, r"\+: only a Sequential can be added, got int"),
    (lambda m, lib: m + lib.ModuleList(), ValueError, "only a Sequential .* got ModuleList"),
    (lambda m, lib: m.__iadd__([lib.Tanh()]), ValueError, "only a Sequential .* got list"),
    (lambda m, lib: m.extend(3), TypeError, "extend: modules must be an iterable, got int"),
    (lambda m, lib: m.extend([lib.Tanh(), 3]), TypeError, "extend: item 1 is a int"),
]


@pytest.mark.parametrize(("edit", "error", "message"), BAD_EDITS)
def test_sequential_edit_errors_are_torch_errors_and_change_nothing(
    edit: Callable, error: type, message: str
) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(error):
        edit(torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Tanh()), torch.nn)
    seq = nn.Sequential(nn.Linear(1, 1), nn.Tanh())
    before = list(seq._modules.items())
    with pytest.raises(error, match=f"Sequential.*{message}"):
        edit(seq, nn)
    assert list(seq._modules.items()) == before


@pytest.mark.parametrize("module", [3, None])
def test_sequential_insert_refuses_a_non_module_with_a_type_error(module: object) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(AssertionError):  # torch's own error type here
        torch.nn.Sequential().insert(0, module)
    seq = nn.Sequential(nn.Tanh())
    with pytest.raises(TypeError, match=r"Sequential.insert: module is a \w+, not a Module"):
        seq.insert(0, module)
    assert len(seq) == 1


def test_module_list_pop_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    for lib in (nn, torch.nn):
        layers = lib.ModuleList([lib.Linear(1, 1), lib.Tanh(), lib.Linear(2, 2)])
        assert isinstance(layers.pop(1), lib.Tanh)
        assert list(layers.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
