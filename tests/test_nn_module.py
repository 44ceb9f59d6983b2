"""Module, Parameter, Sequential, ModuleList: registration, names, modes, state dicts, repr."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import gradcheck


class TwoLayer(nn.Module):
    def __init__(self, seed: int = 0, dtype=np.float32) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        self.encoder = nn.Sequential(nn.Linear(3, 4, generator=rng, dtype=dtype), nn.Tanh())
        self.drop = nn.Dropout(0.5, generator=rng)
        self.head = nn.Linear(4, 2, generator=rng, dtype=dtype)
        self.scale = nn.Parameter(np.ones(2, dtype=dtype))

    def forward(self, x):
        return self.head(self.drop(self.encoder(x))) * self.scale


NAMES = ["scale", "encoder.0.weight", "encoder.0.bias", "head.weight", "head.bias"]


def test_parameter_is_a_float_leaf_that_requires_grad():
    p = nn.Parameter([1.0, 2.0])
    assert isinstance(p, rg.Tensor) and p.requires_grad and p.is_leaf and p.dtype == np.float32
    assert nn.Parameter(np.zeros(2)).dtype == np.float64
    assert nn.Parameter(rg.tensor([1.0, 2.0])).shape == (2,)
    assert "Parameter containing" in repr(p)
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(np.arange(3))


def test_parameter_takes_requires_grad_as_pytorch():
    frozen = nn.Parameter(np.ones(2), requires_grad=False)
    assert isinstance(frozen, nn.Parameter) and not frozen.requires_grad
    assert not nn.Parameter(np.ones(2), False).requires_grad
    assert nn.Parameter(np.ones(2), dtype=np.float32).requires_grad
    with pytest.raises(TypeError, match="requires_grad must be a bool, got"):
        nn.Parameter(np.ones(2), np.float32)
    with pytest.raises(TypeError, match="floating"):
        nn.Parameter(np.arange(3), requires_grad=False)


def test_parameter_ops_give_plain_tensors_and_gradients():
    p = nn.Parameter([1.0, -2.0])
    y = (p * p).sum()
    assert type(y) is rg.Tensor
    y.backward()
    np.testing.assert_allclose(p.grad, [2.0, -4.0])


def test_module_named_parameters_have_dotted_names_in_registration_order():
    model = TwoLayer()
    # PyTorch's order: a module's own parameters, then each child's, depth first.
    assert [name for name, _ in model.named_parameters()] == NAMES
    assert len(list(model.parameters())) == 5


def test_module_parameter_names_match_keys_after_building():
    model = TwoLayer()
    # No query has run yet: names were given at assignment time.
    assert {p.name for p in model._parameters.values()} == {"scale"}
    assert model.encoder[0].weight.name == "encoder.0.weight"
    assert model.head.bias.name == "head.bias"


def test_module_parameter_names_grow_when_nested_later():
    inner = nn.Linear(2, 2, generator=0)
    assert inner.weight.name == "weight"
    outer = nn.Sequential(nn.Sequential(inner))
    assert inner.weight.name == "0.0.weight"
    # Asking a sub-module for its parameters does not shorten the names.
    list(inner.named_parameters())
    assert inner.weight.name == "0.0.weight"
    root = nn.ModuleList([outer])
    for key, param in root.named_parameters():
        assert param.name == key


def test_module_shared_parameter_listed_once_under_first_name():
    a = nn.Linear(3, 3, generator=0)
    b = nn.Linear(3, 3, generator=1)
    b.weight = a.weight
    model = nn.Sequential(a, b)
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.bias"]
    assert a.weight.name == "0.weight"


def test_module_children_and_modules_traverse_the_tree():
    model = TwoLayer()
    assert [name for name, _ in model.named_children()] == ["encoder", "drop", "head"]
    assert len(list(model.children())) == 3
    names = [name for name, _ in model.named_modules()]
    assert names == ["", "encoder", "encoder.0", "encoder.1", "drop", "head"]
    assert len(list(model.modules())) == 6


def test_module_train_eval_reach_every_descendant():
    model = TwoLayer()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_module_eval_makes_dropout_deterministic():
    model = TwoLayer()
    x = rg.randn(5, 3, generator=1)
    model.eval()
    np.testing.assert_array_equal(model(x).data, model(x).data)
    model.train()
    assert not np.array_equal(model(x).data, model(x).data)


def test_named_parameters_takes_prefix_recurse_and_remove_duplicate():
    model = TwoLayer()
    assert [n for n, _ in model.named_parameters(recurse=False)] == ["scale"]
    assert list(model.parameters(recurse=False)) == [model.scale]
    assert [n for n, _ in model.named_parameters(prefix="net")] == [f"net.{n}" for n in NAMES]
    assert [n for n, _ in model.named_parameters()] == NAMES  # names stay without the prefix
    assert model.head.weight.name == "head.weight"
    model.tied = model.head
    names = [n for n, _ in model.named_parameters(remove_duplicate=False)]
    assert names == [*NAMES, "tied.weight", "tied.bias"]


def test_module_zero_grad_sets_grads_to_none():
    model = TwoLayer()
    model(rg.randn(2, 3, generator=0)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_module_zero_grad_set_to_none_false_keeps_zero_grads():
    model = TwoLayer()
    model(rg.randn(2, 3, generator=0)).sum().backward()
    model.zero_grad(set_to_none=False)
    for p in model.parameters():
        assert p.grad.shape == p.shape and p.grad.dtype == p.dtype and not p.grad.any()


def test_module_zero_grad_set_to_none_false_zeroes_the_array_a_caller_holds():
    """As the optimizers' zero_grad (and PyTorch): it used to put in a new array."""
    model = TwoLayer()
    weight = (
        model.parameters()[0]
        if isinstance(model.parameters(), list)
        else next(iter(model.parameters()))
    )
    weight.grad = np.ones(weight.shape, dtype=weight.dtype)
    held = weight.grad
    model.zero_grad(set_to_none=False)
    assert weight.grad is held and not held.any()


def test_module_call_runs_forward_and_base_forward_refuses():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        nn.Module()(1)


def test_module_attribute_errors_are_clear():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        Early()
    lin = nn.Linear(2, 2, generator=0)
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = rg.tensor(np.zeros((2, 2)))
    lin.bias = None
    assert [name for name, _ in lin.named_parameters()] == ["weight"]
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = lin.nothing


def test_module_register_parameter_takes_only_parameters_or_none():
    module = nn.Module()
    with pytest.raises(TypeError, match="cannot register a Tensor as parameter 'w'"):
        module.register_parameter("w", rg.tensor([1.0]))
    assert "w" not in module.__dict__ and not list(module.parameters())
    module.register_parameter("w", nn.Parameter([1.0]))
    module.register_parameter("b", None)
    assert [name for name, _ in module.named_parameters()] == ["w"]


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("", KeyError, "cannot be the empty string"),
        ("a.b", KeyError, 'name "a.b" cannot contain "."'),
        (3, TypeError, "name must be a string, got int"),
        ("training", KeyError, "attribute 'training' already exists"),
    ],
)
def test_module_names_that_cannot_be_paths_are_refused(name, error, message):
    module = nn.Module()
    with pytest.raises(error, match=message):
        module.register_parameter(name, nn.Parameter([1.0]))
    with pytest.raises(error, match=message):
        module.add_module(name, nn.Tanh())
    assert module.training is True and not list(module.named_modules())[1:]


def test_module_reassignment_and_deletion_update_registries():
    model = TwoLayer()
    model.head = nn.Identity()
    model.scale = nn.Parameter(np.ones(4, dtype=np.float32))
    assert model(rg.randn(2, 3, generator=0)).shape == (2, 4)
    del model.drop
    assert [name for name, _ in model.named_children()] == ["encoder", "head"]
    model.note = "plain attribute"
    assert model.note == "plain attribute" and "note" not in model._modules


def test_module_reassigned_parameters_and_modules_keep_their_place():
    model = TwoLayer()
    model.scale = nn.Parameter(np.zeros(2, dtype=np.float32))
    model.head.weight = nn.Parameter(np.zeros((2, 4), dtype=np.float32))
    model.encoder = nn.Sequential(nn.Linear(3, 4, generator=1), nn.Tanh())
    model.add_module("drop", None)
    model.drop = nn.Dropout(0.1)
    assert list(model.state_dict()) == NAMES
    assert [name for name, _ in model.named_children()] == ["encoder", "drop", "head"]
    assert list(model.parameters())[3] is model.head.weight
    lin = nn.Linear(2, 2, generator=0)
    lin.weight = None
    lin.register_parameter("bias", None)
    lin.weight = nn.Parameter(np.zeros((2, 2), dtype=np.float32))
    lin.register_parameter("bias", nn.Parameter(np.zeros(2, dtype=np.float32)))
    assert list(lin.state_dict()) == ["weight", "bias"]


def test_module_attribute_changing_kind_follows_pytorch():
    model = TwoLayer()
    with pytest.raises(TypeError, match=r"Tanh to parameter 'scale' of TwoLayer .*`del` the"):
        model.scale = nn.Tanh()
    with pytest.raises(TypeError, match="cannot assign int to parameter 'scale'"):
        model.scale = 3
    with pytest.raises(TypeError, match="cannot assign float to sub-module 'head'"):
        model.head = 1.0
    assert list(model.state_dict()) == NAMES and isinstance(model.head, nn.Linear)
    # Deleted, a name is free for anything, and comes back last.
    lin = nn.Linear(2, 2, generator=0)
    del lin.weight
    lin.weight = nn.Parameter(np.ones((2, 2), dtype=np.float32))
    assert list(lin.state_dict()) == ["bias", "weight"]
    del model.scale
    model.scale = nn.Tanh()
    assert [name for name, _ in model.named_children()] == ["encoder", "drop", "head", "scale"]
    # A parameter takes over a sub-module or a plain attribute of its name.
    model.drop = nn.Parameter(np.ones(1, dtype=np.float32))
    model.note = "plain"
    model.note = nn.Parameter(np.ones(1, dtype=np.float32))
    assert "drop" not in model._modules and "note" not in model.__dict__
    assert list(model.state_dict()) == ["drop", "note", *NAMES[1:]]


def test_module_checkpoint_resumes_into_a_model_with_reassigned_parameters(tmp_path):
    x, y = rg.randn(4, 3, generator=0), rg.randn(4, 2, generator=1)

    def step(model, opt):
        opt.zero_grad()
        diff = model(x) - y
        (diff * diff).mean().backward()
        opt.step()

    model = TwoLayer().eval()
    opt = rg.optim.Adam(model.parameters(), lr=0.1)
    step(model, opt)
    rg.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "m.ckpt")
    step(model, opt)
    resumed = TwoLayer(seed=5).eval()
    resumed.head.weight = nn.Parameter(np.zeros((2, 4), dtype=np.float32))
    resumed.scale = nn.Parameter(np.zeros(2, dtype=np.float32))
    ckpt = rg.load(tmp_path / "m.ckpt")
    resumed.load_state_dict(ckpt["model"])
    resumed_opt = rg.optim.Adam(resumed.parameters(), lr=0.1)
    resumed_opt.load_state_dict(ckpt["optimizer"])
    step(resumed, resumed_opt)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[name], value, err_msg=name)


def test_module_state_dict_is_an_ordered_copy():
    model = TwoLayer()
    state = model.state_dict()
    assert list(state) == [name for name, _ in model.named_parameters()]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["head.bias"][...] = 123.0
    assert not np.any(model.head.bias.data == 123.0)


def test_module_load_state_dict_round_trip():
    source, target = TwoLayer(seed=1), TwoLayer(seed=2)
    x = rg.randn(4, 3, generator=0)
    source.eval()
    target.eval()
    result = target.load_state_dict(source.state_dict())
    assert result == nn.IncompatibleKeys([], [])
    np.testing.assert_array_equal(target(x).data, source(x).data)
    # The loaded arrays are copies: changing the source leaves the target alone.
    source.head.bias.data += 1.0
    assert not np.array_equal(target.head.bias.data, source.head.bias.data)


def test_module_load_state_dict_strict_lists_every_problem_at_once():
    model = TwoLayer()
    state = model.state_dict()
    del state["head.bias"]
    state["extra.weight"] = np.zeros(3, dtype=np.float32)
    state["encoder.0.weight"] = np.zeros((5, 3), dtype=np.float32)
    state["scale"] = state["scale"].astype(np.float64)
    before = model.state_dict()
    with pytest.raises(nn.StateDictError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    for expected in (
        "missing keys: head.bias",
        "unexpected keys: extra.weight",
        "encoder.0.weight: shape (5, 3) in the state dict, (4, 3) in the model",
        "scale: dtype float64 in the state dict, float32 in the model",
    ):
        assert expected in message
    # Nothing was loaded.
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_module_load_state_dict_non_strict_reports_keys_but_refuses_shapes():
    model = TwoLayer()
    state = model.state_dict()
    del state["scale"]
    state["other"] = np.zeros(1)
    state["head.bias"] = np.full(2, 7.0, dtype=np.float32)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["scale"] and unexpected == ["other"]
    np.testing.assert_array_equal(model.head.bias.data, [7.0, 7.0])
    state["head.bias"] = np.zeros(3, dtype=np.float32)
    with pytest.raises(nn.StateDictError, match=r"head.bias: shape \(3,\)"):
        model.load_state_dict(state, strict=False)


class Tied(nn.Module):
    """An embedding whose table is also the output layer's weight, as in tied language models."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        rng = np.random.default_rng(seed)
        self.emb = nn.Embedding(5, 3, generator=rng)
        self.head = nn.Linear(3, 5, generator=rng)
        self.head.weight = self.emb.weight

    def forward(self, ids):
        return self.head(self.emb(ids))


def test_module_state_dict_lists_a_tied_parameter_under_every_name():
    model = Tied()
    assert [name for name, _ in model.named_parameters()] == ["emb.weight", "head.bias"]
    state = model.state_dict()
    assert sorted(state) == ["emb.weight", "head.bias", "head.weight"]
    np.testing.assert_array_equal(state["head.weight"], state["emb.weight"])
    target = Tied(seed=1)
    assert target.load_state_dict(state) == nn.IncompatibleKeys([], [])
    assert target.head.weight is target.emb.weight
    np.testing.assert_array_equal(target.emb.weight.data, model.emb.weight.data)


def test_module_load_state_dict_takes_a_tied_parameter_from_any_one_name():
    model, source = Tied(seed=1), Tied(seed=2)
    state = source.state_dict()
    del state["emb.weight"]
    assert model.load_state_dict(state) == nn.IncompatibleKeys([], [])
    np.testing.assert_array_equal(model.emb.weight.data, source.emb.weight.data)
    del state["head.weight"]
    missing, _ = model.load_state_dict(state, strict=False)
    assert missing == ["emb.weight", "head.weight"]


def test_module_load_state_dict_refuses_disagreeing_names_of_a_tied_parameter():
    model = Tied()
    before = model.emb.weight.data.copy()
    state = Tied(seed=1).state_dict()
    state["head.weight"] = state["head.weight"] + 1.0
    with pytest.raises(nn.StateDictError, match="head.weight: differs from emb.weight"):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model.emb.weight.data, before)


def test_tied_model_trains_clips_and_resumes_from_a_checkpoint(tmp_path):
    ids, targets = np.array([0, 3, 1, 4]), np.array([3, 1, 4, 2])

    def step(model, opt):
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(ids), targets).backward()
        nn.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()

    model = Tied()
    opt = rg.optim.Adam(model.parameters(), lr=0.1)
    step(model, opt)
    rg.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "tied.ckpt")
    step(model, opt)
    ckpt = rg.load(tmp_path / "tied.ckpt")
    resumed = Tied(seed=3)
    resumed.load_state_dict(ckpt["model"])
    resumed_opt = rg.optim.Adam(resumed.parameters(), lr=0.1)
    resumed_opt.load_state_dict(ckpt["optimizer"])
    step(resumed, resumed_opt)
    assert resumed.head.weight is resumed.emb.weight
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[name], value, err_msg=name)


@pytest.mark.parametrize("state", [None, [1, 2], "weight"])
def test_module_load_state_dict_refuses_what_is_not_a_mapping(state):
    with pytest.raises(TypeError, match="expected a mapping of parameter name -> array, got"):
        nn.Linear(2, 2, generator=0).load_state_dict(state)


def test_module_load_state_dict_accepts_tensors():
    model = nn.Linear(2, 2, generator=0)
    model.load_state_dict({k: rg.tensor(v + 1) for k, v in model.state_dict().items()})
    assert model.weight.dtype == np.float32


def test_module_repr_is_a_tree():
    model = TwoLayer()
    assert repr(model) == (
        "TwoLayer(\n"
        "  (encoder): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "    (1): Tanh()\n"
        "  )\n"
        "  (drop): Dropout(p=0.5)\n"
        "  (head): Linear(in_features=4, out_features=2, bias=True)\n"
        ")"
    )


def test_sequential_indexing_length_iteration_and_mapping():
    seq = nn.Sequential(nn.Linear(2, 3, generator=0), nn.ReLU(), nn.Linear(3, 1, generator=1))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU) and isinstance(seq[-1], nn.Linear)
    assert [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear"]
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2
    x = rg.randn(4, 2, generator=0)
    np.testing.assert_allclose(seq(x).data, seq[2](seq[1](seq[0](x))).data)
    named = nn.Sequential({"proj": nn.Linear(2, 2, generator=0), "act": nn.Tanh()})
    assert [n for n, _ in named.named_parameters()] == ["proj.weight", "proj.bias"]
    with pytest.raises(TypeError, match="item '1' is a int, not a Module"):
        nn.Sequential(nn.Tanh(), 3)


def test_module_list_registers_appended_modules():
    layers = nn.ModuleList([nn.Linear(2, 2, generator=i) for i in range(2)])
    layers.append(nn.Linear(2, 1, generator=5))
    assert len(layers) == 3 and layers[2].out_features == 1
    assert [n for n, _ in layers.named_parameters()][-2:] == ["2.weight", "2.bias"]
    with pytest.raises(TypeError, match="is a str, not a Module"):
        layers.append("not a module")


def test_module_apply_visits_children_then_self():
    visited = []
    model = TwoLayer()
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited[-1] == "TwoLayer" and visited.count("Linear") == 2


def test_module_apply_order_is_pytorchs():
    # Each module's children in order, each child's subtree before the next child.
    model = TwoLayer()
    visited = []
    model.apply(visited.append)
    encoder = model.encoder
    assert visited == [encoder[0], encoder[1], encoder, model.drop, model.head, model]


def test_module_to_converts_parameters():
    model = TwoLayer().double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model.float().head.weight.dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        model.to(np.int32)


@pytest.mark.parametrize("bad", ["cpu", "cuda:0", None])
def test_module_to_names_an_argument_that_is_not_a_dtype(bad):
    model = TwoLayer()
    with pytest.raises(TypeError, match=f"to\\(\\): expected a floating dtype .*, got {bad!r}"):
        model.to(bad)
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_module_train_refuses_a_mode_that_is_not_a_bool():
    model = TwoLayer().eval()
    with pytest.raises(ValueError, match="train\\(\\): mode must be a bool, got 'no'"):
        model.train("no")
    assert not model.training and not model.head.training
    assert model.train(np.True_).training


def test_functional_call_swaps_parameters_and_restores_them():
    model = TwoLayer(dtype=np.float64).eval()
    x = rg.tensor(np.random.default_rng(0).standard_normal((2, 3)))
    zero_head = {"head.weight": rg.tensor(np.zeros((2, 4))), "head.bias": rg.tensor(np.ones(2))}
    out = nn.functional_call(model, zero_head, x)
    np.testing.assert_array_equal(out.data, np.ones((2, 2)))
    assert model.head.weight.abs().sum().item() > 0
    with pytest.raises(KeyError, match=r"no parameter 'head\.nope'"):
        nn.functional_call(model, {"head.nope": x}, x)


def test_functional_call_gradcheck_of_a_whole_model():
    model = TwoLayer(dtype=np.float64).eval()
    names, params = zip(*model.named_parameters())
    x = rg.tensor(np.random.default_rng(1).standard_normal((3, 3)), requires_grad=True)

    def fn(x, *weights):
        return nn.functional_call(model, dict(zip(names, weights)), x)

    assert gradcheck(fn, [x, *params])


def test_module_list_slice_is_a_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2, generator=i) for i in range(3)])
    head = layers[:2]
    assert isinstance(head, nn.ModuleList) and list(head) == list(layers)[:2]
    assert list(layers[::-1]) == list(layers)[::-1]
    assert [n for n, _ in layers[1:].named_parameters()] == [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
    ]
    with pytest.raises(TypeError, match="ModuleList: index must be an integer or a slice, got str"):
        layers["0"]
    with pytest.raises(
        TypeError, match="Sequential: index must be an integer or a slice, got float"
    ):
        nn.Sequential(nn.Tanh())[0.0]


def test_sequential_and_module_list_name_a_bad_index():
    with pytest.raises(IndexError, match="Sequential: index 3 is out of range for 1 modules"):
        nn.Sequential(nn.Tanh())[3]
    with pytest.raises(IndexError, match="ModuleList: index -2 is out of range for 1 modules"):
        nn.ModuleList([nn.Tanh()])[-2]
