"""Equivalence with PyTorch: state dicts move unchanged; outputs and gradients agree.

Skipped where torch is not installed (CI installs it).
"""

import sys

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


KINDS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
DTYPES = {"float32": (np.float32, 1e-5), "float64": (np.float64, 1e-10)}


def to_torch(torch, array, requires_grad=False):
    return torch.tensor(np.array(array), requires_grad=requires_grad)


def assert_close(ours, theirs, tol):
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=tol, atol=tol)


def twin_recurrent(torch, kind, layers, batch_first, dtype, seed=0):
    ours = getattr(nn, KINDS[kind])(
        4, 5, num_layers=layers, batch_first=batch_first, generator=seed, dtype=dtype
    )
    theirs = getattr(torch.nn, KINDS[kind])(4, 5, num_layers=layers, batch_first=batch_first)
    if dtype == np.float64:
        theirs = theirs.double()
    theirs.load_state_dict(nn.to_torch_state_dict(ours))
    return ours, theirs


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_recurrent_matches_torch_outputs_and_gradients(torch, kind, layers, batch_first, dtype):
    np_dtype, tol = DTYPES[dtype]
    ours, theirs = twin_recurrent(torch, kind, layers, batch_first, np_dtype)
    rng = np.random.default_rng(1)
    steps, batch = 6, 3
    x = rng.standard_normal((batch, steps, 4) if batch_first else (steps, batch, 4))
    h0 = rng.standard_normal((layers, batch, 5)) * 0.5
    c0 = rng.standard_normal((layers, batch, 5)) * 0.5
    out_weights = rng.standard_normal((*x.shape[:2], 5))
    arrays = [a.astype(np_dtype) for a in (x, h0, c0)]
    ours_in = [rg.tensor(a, requires_grad=True) for a in arrays]
    theirs_in = [to_torch(torch, a, requires_grad=True) for a in arrays]

    def loss(out, final, weights):
        h_n, c_n = final if kind == "lstm" else (final, None)
        total = (out * weights).sum() + (h_n * h_n).sum()
        return total if c_n is None else total + (c_n * c_n * 0.5).sum()

    state_ours = tuple(ours_in[1:]) if kind == "lstm" else ours_in[1]
    state_theirs = tuple(theirs_in[1:]) if kind == "lstm" else theirs_in[1]
    out_ours, final_ours = ours(ours_in[0], state_ours)
    out_theirs, final_theirs = theirs(theirs_in[0], state_theirs)
    assert_close(out_ours.data, out_theirs, tol)
    if kind == "lstm":
        assert_close(final_ours[0].data, final_theirs[0], tol)
        assert_close(final_ours[1].data, final_theirs[1], tol)
    else:
        assert_close(final_ours.data, final_theirs, tol)

    loss(out_ours, final_ours, rg.tensor(out_weights.astype(np_dtype))).backward()
    loss(out_theirs, final_theirs, to_torch(torch, out_weights.astype(np_dtype))).backward()
    used = 3 if kind == "lstm" else 2
    for a, b in zip(ours_in[:used], theirs_in[:used]):
        assert_close(a.grad, b.grad, tol * 10)
    torch_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        assert_close(param.grad, torch_params[name].grad, tol * 10)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_cells_match_torch(torch, kind):
    name = KINDS[kind] + "Cell"
    ours = getattr(nn, name)(4, 3, generator=2, dtype=np.float64)
    theirs = getattr(torch.nn, name)(4, 3).double()
    theirs.load_state_dict(nn.to_torch_state_dict(ours))
    rng = np.random.default_rng(0)
    x, h, c = rng.standard_normal((2, 4)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    ours_in = [rg.tensor(a, requires_grad=True) for a in (x, h, c)]
    theirs_in = [to_torch(torch, a, requires_grad=True) for a in (x, h, c)]
    if kind == "lstm":
        h_ours, c_ours = ours(ours_in[0], (ours_in[1], ours_in[2]))
        h_theirs, c_theirs = theirs(theirs_in[0], (theirs_in[1], theirs_in[2]))
        (h_ours.sum() + (c_ours * c_ours).sum()).backward()
        (h_theirs.sum() + (c_theirs * c_theirs).sum()).backward()
    else:
        h_ours, h_theirs = ours(ours_in[0], ours_in[1]), theirs(theirs_in[0], theirs_in[1])
        (h_ours * h_ours).sum().backward()
        (h_theirs * h_theirs).sum().backward()
    assert_close(h_ours.data, h_theirs, 1e-12)
    for a, b in zip(ours_in[: 3 if kind == "lstm" else 2], theirs_in):
        assert_close(a.grad, b.grad, 1e-12)
    torch_params = dict(theirs.named_parameters())
    for pname, param in ours.named_parameters():
        assert_close(param.grad, torch_params[pname].grad, 1e-12)


def test_state_dict_from_torch_loads_and_matches(torch):
    theirs = torch.nn.GRU(3, 4, num_layers=2, batch_first=True)
    rng = np.random.default_rng(5)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    ours = nn.GRU(3, 4, num_layers=2, batch_first=True, generator=0)
    result = ours.load_state_dict(nn.from_torch_state_dict(theirs))
    assert result == ([], [])
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    assert_close(ours(rg.tensor(x))[0].data, theirs(torch.from_numpy(x))[0], 1e-5)
    again = nn.from_torch_state_dict(nn.to_torch_state_dict(ours))
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(again[name], value)
        assert again[name].dtype == value.dtype


def test_tied_weights_move_both_ways(torch):
    ours = nn.Sequential(nn.Embedding(5, 3, generator=0), nn.Linear(3, 5, generator=1))
    ours[1].weight = ours[0].weight
    theirs = torch.nn.Sequential(torch.nn.Embedding(5, 3), torch.nn.Linear(3, 5))
    theirs[1].weight = theirs[0].weight
    assert theirs.load_state_dict(nn.to_torch_state_dict(ours)) == ([], [])
    ids = np.array([[0, 4, 2]])
    assert_close(ours(ids).data, theirs(torch.from_numpy(ids)), 1e-6)
    with torch.no_grad():
        theirs[0].weight.mul_(2.0)
    assert ours.load_state_dict(nn.from_torch_state_dict(theirs)) == ([], [])
    assert ours[1].weight is ours[0].weight
    assert_close(ours[0].weight.data, theirs[0].weight, 0)


def test_state_dict_conversion_copies(torch):
    ours = nn.Linear(2, 2, generator=0)
    state = nn.to_torch_state_dict(ours)
    state["weight"].zero_()
    assert np.abs(ours.weight.data).sum() > 0
    back = nn.from_torch_state_dict(state)
    back["bias"][...] = 9.0
    assert not np.any(state["bias"].numpy() == 9.0)


def test_from_torch_state_dict_refuses_non_tensors(torch):
    with pytest.raises(TypeError, match=r"'weight' is a ndarray, not a torch\.Tensor"):
        nn.from_torch_state_dict({"weight": np.zeros(2)})


def test_torch_compat_without_torch_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="pip install torch"):
        nn.to_torch_state_dict(nn.Linear(2, 2, generator=0))
    with pytest.raises(ImportError, match="from_torch_state_dict"):
        nn.from_torch_state_dict({})


def test_linear_matches_torch(torch):
    ours = nn.Linear(5, 3, generator=0, dtype=np.float64)
    theirs = torch.nn.Linear(5, 3).double()
    theirs.load_state_dict(nn.to_torch_state_dict(ours))
    x = np.random.default_rng(0).standard_normal((2, 4, 5))
    xo, xt = rg.tensor(x, requires_grad=True), to_torch(torch, x, requires_grad=True)
    yo, yt = ours(xo), theirs(xt)
    assert_close(yo.data, yt, 1e-12)
    (yo * yo).sum().backward()
    (yt * yt).sum().backward()
    assert_close(xo.grad, xt.grad, 1e-12)
    assert_close(ours.weight.grad, theirs.weight.grad, 1e-12)
    assert_close(ours.bias.grad, theirs.bias.grad, 1e-12)


@pytest.mark.parametrize(
    ("padding_idx", "idx"),
    [(None, [[1, 1, 6], [0, 1, 6]]), (2, [[2, 1, 2], [0, 5, 2]])],
    ids=["repeated_indices", "padding_idx"],
)
def test_embedding_matches_torch(torch, padding_idx, idx):
    ours = nn.Embedding(7, 3, padding_idx=padding_idx, generator=0, dtype=np.float64)
    theirs = torch.nn.Embedding(7, 3, padding_idx=padding_idx).double()
    if padding_idx is not None:  # the padding row starts at zeros on both sides
        assert_close(ours.weight.data[padding_idx], theirs.weight.detach()[padding_idx], 0)
    theirs.load_state_dict(nn.to_torch_state_dict(ours))
    idx = np.array(idx)
    yo, yt = ours(idx), theirs(torch.from_numpy(idx))
    assert_close(yo.data, yt, 0)
    weights = np.random.default_rng(0).standard_normal(yo.shape)
    (yo * rg.tensor(weights)).sum().backward()
    (yt * torch.from_numpy(weights)).sum().backward()
    assert_close(ours.weight.grad, theirs.weight.grad, 1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch(torch, reduction):
    tf = torch.nn.functional
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((4, 5, 3)) * 4
    target = rng.integers(0, 5, (4, 3))
    target[0, 1] = -1
    probs = rng.uniform(0, 1, (4, 5, 3))
    cases = [
        (
            lambda z: nn.CrossEntropyLoss(reduction, ignore_index=-1)(z, target),
            lambda z: tf.cross_entropy(
                z, torch.from_numpy(target), ignore_index=-1, reduction=reduction
            ),
        ),
        (
            lambda z: nn.BCEWithLogitsLoss(reduction)(z, probs),
            lambda z: tf.binary_cross_entropy_with_logits(
                z, torch.from_numpy(probs), reduction=reduction
            ),
        ),
        (
            lambda z: nn.MSELoss(reduction)(z, probs),
            lambda z: tf.mse_loss(z, torch.from_numpy(probs), reduction=reduction),
        ),
    ]
    for ours_fn, theirs_fn in cases:
        zo, zt = rg.tensor(logits, requires_grad=True), to_torch(torch, logits, requires_grad=True)
        lo, lt = ours_fn(zo), theirs_fn(zt)
        assert_close(lo.data, lt, 1e-12)
        lo.sum().backward()
        lt.sum().backward()
        assert_close(zo.grad, zt.grad, 1e-12)


@pytest.mark.parametrize("convert", ["bfloat16", "sparse"])
def test_from_torch_state_dict_names_a_tensor_numpy_cannot_hold(torch, convert):
    weight = torch.nn.Linear(2, 3).weight.detach()
    weight = weight.to(torch.bfloat16) if convert == "bfloat16" else weight.to_sparse()
    with pytest.raises(TypeError, match=r"from_torch_state_dict\(\): 'weight' \(torch\.\w+"):
        nn.from_torch_state_dict({"weight": weight})


def test_state_dict_conversions_refuse_what_is_not_a_state_dict(torch):
    with pytest.raises(TypeError, match=r"from_torch_state_dict\(\): expected a torch module"):
        nn.from_torch_state_dict([torch.zeros(2)])
    with pytest.raises(TypeError, match=r"to_torch_state_dict\(\): expected a retrograd Module"):
        nn.to_torch_state_dict(torch.nn.Linear(2, 3))
    with pytest.raises(TypeError, match=r"to_torch_state_dict\(\): 'name' \(dtype <U3\)"):
        nn.to_torch_state_dict({"name": np.array("abc")})
