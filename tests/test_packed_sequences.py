"""nn.utils.rnn (padding and packing sequences) and packed input to RNN, LSTM and GRU,
against PyTorch in float64: values, gradients and errors."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import to_dot, topological_order
from retrograd.autograd.graph import ShapeError
from retrograd.nn.utils import rnn

TOL = {"rtol": 1e-10, "atol": 1e-10}
LENGTHS = [3, 5, 2, 3]  # unsorted, with a tie
SORTED = [5, 3, 3, 2]


def close(ours, theirs) -> None:
    """Our tensor or array equals torch's to 1e-10."""
    ours = ours.data if isinstance(ours, rg.Tensor) else ours
    np.testing.assert_allclose(ours, theirs.detach().numpy(), **TOL)


def same_indices(ours, theirs) -> None:
    """Two index tensors (or None) are equal."""
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def padded_input(steps=5, batch=4, features=3, batch_first=False, seed=0):
    """A float64 padded batch, ours requiring grad and torch's copy."""
    torch = pytest.importorskip("torch")
    shape = (batch, steps, features) if batch_first else (steps, batch, features)
    x = np.random.default_rng(seed).normal(size=shape)
    return rg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)


def backward_weighted(ours, theirs, seed=1) -> None:
    """Backpropagate sum(w * out) from both with the same random w."""
    torch = pytest.importorskip("torch")
    w = np.random.default_rng(seed).normal(size=ours.shape)
    (ours * rg.tensor(w)).sum().backward()
    (theirs * torch.tensor(w)).sum().backward()


def test_utils_rnn_is_importable_as_torch_names_it():
    from retrograd.nn.utils.rnn import pad_sequence

    assert nn.utils.rnn.pad_sequence is pad_sequence is rnn.pad_sequence
    assert nn.utils.rnn.PackedSequence._fields == (
        "data",
        "batch_sizes",
        "sorted_indices",
        "unsorted_indices",
    )


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_values_and_gradients_match_torch(batch_first, padding_side):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(n, 2, 3)) for n in (2, 0, 4, 1)]
    ours = [rg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = rnn.pad_sequence(ours, batch_first, -2.5, padding_side)
    expected = torch.nn.utils.rnn.pad_sequence(theirs, batch_first, -2.5, padding_side)
    assert out.shape == tuple(expected.shape)
    close(out, expected)
    backward_weighted(out, expected)
    for a, b in zip(ours, theirs):
        close(a.grad, b.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_padded_sequence_matches_torch(batch_first, enforce_sorted):
    torch = pytest.importorskip("torch")
    lengths = SORTED if enforce_sorted else LENGTHS
    x, tx = padded_input(batch_first=batch_first)
    packed = rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
    expected = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first, enforce_sorted)
    close(packed.data, expected.data)
    same_indices(packed.batch_sizes, expected.batch_sizes)
    same_indices(packed.sorted_indices, expected.sorted_indices)
    same_indices(packed.unsorted_indices, expected.unsorted_indices)
    backward_weighted(packed.data, expected.data)
    close(x.grad, tx.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 7])
def test_pad_packed_sequence_matches_torch(batch_first, total_length):
    torch = pytest.importorskip("torch")
    x, tx = padded_input()
    packed = rnn.pack_padded_sequence(x, LENGTHS, enforce_sorted=False)
    expected = torch.nn.utils.rnn.pack_padded_sequence(tx, LENGTHS, enforce_sorted=False)
    out, lengths = rnn.pad_packed_sequence(packed, batch_first, 9.0, total_length)
    t_out, t_lengths = torch.nn.utils.rnn.pad_packed_sequence(
        expected, batch_first, 9.0, total_length
    )
    assert out.shape == tuple(t_out.shape)
    close(out, t_out)
    same_indices(lengths, t_lengths)
    backward_weighted(out, t_out)
    close(x.grad, tx.grad)


@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_sequence_and_unpack_sequence_match_torch(enforce_sorted):
    torch = pytest.importorskip("torch")
    sizes = (4, 3, 3, 1) if enforce_sorted else (2, 4, 1, 4)
    arrays = [np.random.default_rng(n).normal(size=(n, 3)) for n in sizes]
    ours = [rg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    packed = rnn.pack_sequence(ours, enforce_sorted)
    expected = torch.nn.utils.rnn.pack_sequence(theirs, enforce_sorted)
    close(packed.data, expected.data)
    same_indices(packed.batch_sizes, expected.batch_sizes)
    same_indices(packed.sorted_indices, expected.sorted_indices)
    unpacked = rnn.unpack_sequence(packed)
    t_unpacked = torch.nn.utils.rnn.unpack_sequence(expected)
    assert [u.shape for u in unpacked] == [tuple(u.shape) for u in t_unpacked]
    for u, t in zip(unpacked, t_unpacked):
        close(u, t)
    total = sum((u * float(i + 1)).sum() for i, u in enumerate(unpacked))
    sum((u * float(i + 1)).sum() for i, u in enumerate(t_unpacked)).backward()
    total.backward()
    for a, b in zip(ours, theirs):
        close(a.grad, b.grad)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_matches_torch(batch_first):
    torch = pytest.importorskip("torch")
    x, tx = padded_input(batch_first=batch_first)
    ours = rnn.unpad_sequence(x, rg.tensor(np.array(LENGTHS)), batch_first)
    # torch's transposes its argument in place, refused on a leaf: give it a copy.
    theirs = torch.nn.utils.rnn.unpad_sequence(tx.clone(), torch.tensor(LENGTHS), batch_first)
    for u, t in zip(ours, theirs, strict=True):
        close(u, t)
    sum(u.sum() * float(i + 1) for i, u in enumerate(ours)).backward()
    sum(u.sum() * float(i + 1) for i, u in enumerate(theirs)).backward()
    close(x.grad, tx.grad)


def test_packed_sequence_makes_unsorted_indices_from_sorted_ones():
    packed = rnn.PackedSequence(rg.zeros(3, 2), [2, 1], [1, 0])
    assert packed.unsorted_indices.data.tolist() == [1, 0]
    assert packed.batch_sizes.dtype == np.int64
    assert rnn.invert_permutation([2, 0, 1]).data.tolist() == [1, 2, 0]


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (
            lambda x: rnn.pack_padded_sequence(x, [3, 5, 2, 3]),
            ValueError,
            r"pack_padded_sequence\(\): lengths \[3, 5, 2, 3\] must be in decreasing order",
        ),
        (
            lambda x: rnn.pack_padded_sequence(x, [6, 3, 2, 1]),
            ValueError,
            "exceed the 5 steps",
        ),
        (
            lambda x: rnn.pack_padded_sequence(x, [3, 0, 2, 1], enforce_sorted=False),
            ValueError,
            "every length must be at least 1",
        ),
        (
            lambda x: rnn.pack_padded_sequence(x, [3, 2]),
            ValueError,
            "got 2 lengths for a batch of 4",
        ),
        (
            lambda x: rnn.pack_padded_sequence(x, [3.5, 2, 1, 1]),
            TypeError,
            "1-d sequence of integers",
        ),
        (lambda x: rnn.pack_padded_sequence(x, [[3, 2, 1, 1]]), TypeError, "1-d sequence"),
        (lambda x: rnn.pack_sequence([x[:2, 0], x[:0, 1]]), ValueError, r"pack_sequence\(\)"),
        (lambda x: rnn.pad_sequence([]), ValueError, "empty list of sequences"),
        (
            lambda x: rnn.pad_sequence([x[:, 0], x[:, 0, :2]]),
            ShapeError,
            r"pad_sequence\(\): every sequence .* sequence 1 is \(5, 2\)",
        ),
        (lambda x: rnn.pad_sequence([x], padding_side="up"), ValueError, "'left' or 'right'"),
        (
            lambda x: rnn.pad_packed_sequence(rnn.pack_padded_sequence(x, SORTED), total_length=4),
            ValueError,
            "total_length=4 is less than the length of the longest sequence, 5",
        ),
        (lambda x: rnn.pad_packed_sequence(x), TypeError, "expected a PackedSequence"),
        (
            lambda x: rnn.pad_packed_sequence(rnn.PackedSequence(x[0], [3, 2])),
            ValueError,
            r"batch_sizes \[3, 2\] must be positive, non-increasing and sum to the 4 rows",
        ),
        (lambda x: rnn.unpad_sequence(x, [3, 6, 2, 1]), ValueError, "exceed the 5 steps"),
    ],
)
def test_utilities_refuse_bad_arguments_naming_them(call, error, match):
    x = rg.randn(5, 4, 3, generator=0)
    with pytest.raises(error, match=match):
        call(x)


def torch_twin(module):
    """The torch module with the same class, sizes, options and weights, in float64."""
    torch = pytest.importorskip("torch")
    kind = getattr(torch.nn, type(module).__name__)
    twin = kind(
        module.input_size,
        module.hidden_size,
        num_layers=module.num_layers,
        batch_first=module.batch_first,
        bidirectional=module.bidirectional,
    ).double()
    twin.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in module.state_dict().items()})
    return twin


def initial_state(module, batch, given, torch):
    """(ours, torch's) initial state requiring grad, or (None, None)."""
    if not given:
        return None, None
    shape = (module.num_layers * module.num_directions, batch, module.hidden_size)
    arrays = [np.random.default_rng(10 + i).normal(size=shape) for i in range(2)]
    ours = [rg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    if isinstance(module, nn.LSTM):
        return tuple(ours), tuple(theirs)
    return ours[0], theirs[0]


def as_list(state):
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("kind", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize(
    ("batch_first", "state_given", "enforce_sorted"),
    [(False, False, False), (True, True, False), (False, True, True)],
)
def test_recurrent_modules_on_packed_input_match_torch(
    kind, num_layers, bidirectional, batch_first, state_given, enforce_sorted
):
    torch = pytest.importorskip("torch")
    module = kind(
        3,
        4,
        num_layers,
        batch_first=batch_first,
        bidirectional=bidirectional,
        generator=0,
        dtype=np.float64,
    )
    twin = torch_twin(module)
    lengths = SORTED if enforce_sorted else LENGTHS
    x, tx = padded_input(batch_first=batch_first)
    h0, t_h0 = initial_state(module, len(lengths), state_given, torch)
    out, final = module(rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted), h0)
    t_packed = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first, enforce_sorted)
    t_out, t_final = twin(t_packed, t_h0)
    assert isinstance(out, rnn.PackedSequence)
    close(out.data, t_out.data)
    same_indices(out.batch_sizes, t_out.batch_sizes)
    same_indices(out.sorted_indices, t_out.sorted_indices)
    same_indices(out.unsorted_indices, t_out.unsorted_indices)
    for ours, theirs in zip(as_list(final), as_list(t_final), strict=True):
        close(ours, theirs)
    rng = np.random.default_rng(5)
    weights = [rng.normal(size=t.shape) for t in [out.data, *as_list(final)]]
    sum((t * rg.tensor(w)).sum() for t, w in zip([out.data, *as_list(final)], weights)).backward()
    parts = [t_out.data, *as_list(t_final)]
    sum((t * torch.tensor(w)).sum() for t, w in zip(parts, weights)).backward()
    close(x.grad, tx.grad)
    for ours, theirs in zip(
        as_list(h0) if state_given else [], as_list(t_h0) if state_given else []
    ):
        close(ours.grad, theirs.grad)
    t_params = dict(twin.named_parameters())
    for name, param in module.named_parameters():
        close(param.grad, t_params[name].grad)


def test_packed_output_pads_back_to_the_unpacked_run_of_each_sequence_alone():
    gru = nn.GRU(3, 4, bidirectional=True, generator=0, dtype=np.float64)
    x = rg.randn(5, 4, 3, generator=1, dtype=np.float64)
    out, h_n = gru(rnn.pack_padded_sequence(x, LENGTHS, enforce_sorted=False))
    padded, _ = rnn.pad_packed_sequence(out)
    for b, length in enumerate(LENGTHS):
        alone, alone_h = gru(x[:length, b : b + 1])
        np.testing.assert_allclose(padded.data[:length, b], alone.data[:, 0], **TOL)
        np.testing.assert_allclose(h_n.data[:, b], alone_h.data[:, 0], **TOL)
        assert not padded.data[length:, b].any()


def test_packed_integer_indices_run_as_their_one_hot_vectors():
    lstm = nn.LSTM(5, 4, generator=0, dtype=np.float64)
    indices = np.random.default_rng(0).integers(0, 5, size=(5, 4))
    one_hot = np.eye(5)[indices]
    out, (h_n, c_n) = lstm(
        rnn.pack_padded_sequence(rg.tensor(indices), LENGTHS, enforce_sorted=False)
    )
    expected, (e_h, e_c) = lstm(
        rnn.pack_padded_sequence(rg.tensor(one_hot), LENGTHS, enforce_sorted=False)
    )
    for ours, theirs in ((out.data, expected.data), (h_n, e_h), (c_n, e_c)):
        np.testing.assert_allclose(ours.data, theirs.data, **TOL)


def test_packed_data_of_the_wrong_shape_or_state_is_refused_naming_the_module():
    gru = nn.GRU(3, 4, generator=0, dtype=np.float64)
    packed = rnn.pack_padded_sequence(rg.randn(5, 4, 2, dtype=np.float64), SORTED)
    with pytest.raises(ShapeError, match=r"GRU: packed data must be \(N, features\) with 3"):
        gru(packed)
    packed = rnn.pack_padded_sequence(rg.randn(5, 4, 3, dtype=np.float64), SORTED)
    with pytest.raises(ShapeError, match=r"GRU: h0 must have shape \(1, 4, 4\)"):
        gru(packed, rg.zeros(1, 3, 4, dtype=np.float64))
    with pytest.raises(ValueError, match="GRU.*batch_sizes"):
        gru(rnn.PackedSequence(packed.data, [4, 4]))


def test_packed_run_is_drawn_with_a_scope_per_step_in_each_direction():
    rnn_module = nn.RNN(3, 4, num_layers=2, bidirectional=True, generator=0, dtype=np.float64)
    x = rg.randn(5, 4, 3, generator=1, dtype=np.float64, requires_grad=True)
    out, h_n = rnn_module(rnn.pack_padded_sequence(x, SORTED))
    loss = out.data.sum() + h_n.sum()
    loss.backward()
    scopes = {node.scope for node in topological_order([loss]) if node.scope}
    for layer in ("layer0", "layer1"):
        for t in range(5):
            assert f"{layer}/t={t}" in scopes and f"{layer}/reverse/t={t}" in scopes
    source = to_dot(loss).source
    assert all(f'label="t={t}' in source for t in range(5))
