"""Layers, losses, initialisers and the functional namespace: values, gradients, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retrograd as rg
from retrograd import nn
from retrograd.autograd import ShapeError, gradcheck
from retrograd.nn import functional as F
from retrograd.nn import init
from retrograd.testing import arrays

F64 = np.float64


def leaf(array):
    return rg.tensor(np.asarray(array, dtype=F64), requires_grad=True)


def gradcheck_module(module, *inputs):
    """gradcheck of a module as a function of its inputs and all of its parameters."""
    names, params = zip(*module.named_parameters())
    count = len(inputs)

    def fn(*args):
        return nn.functional_call(module, dict(zip(names, args[count:])), *args[:count])

    return gradcheck(fn, [*inputs, *params])


# ----- Linear -----
def test_linear_shapes_and_pytorch_layout():
    layer = nn.Linear(5, 3, generator=0)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32
    assert layer(rg.randn(7, 5, generator=1)).shape == (7, 3)
    assert layer(rg.randn(2, 4, 5, generator=1)).shape == (2, 4, 3)


def test_linear_computes_x_wt_plus_b():
    layer = nn.Linear(4, 2, generator=0, dtype=F64)
    x = np.random.default_rng(1).standard_normal((3, 4))
    expected = x @ layer.weight.data.T + layer.bias.data
    np.testing.assert_allclose(layer(rg.tensor(x)).data, expected, rtol=1e-12)


def test_linear_init_is_uniform_within_one_over_sqrt_fan_in():
    layer = nn.Linear(100, 50, generator=3)
    bound = 1 / np.sqrt(100)
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.9 * bound


def test_linear_same_seed_same_weights():
    a, b = nn.Linear(4, 4, generator=7), nn.Linear(4, 4, generator=7)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    c = nn.Linear(4, 4, generator=8)
    assert not np.array_equal(a.weight.data, c.weight.data)


def test_linear_without_bias():
    layer = nn.Linear(3, 2, bias=False, generator=0, dtype=F64)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    x = leaf(np.ones((1, 3)))
    np.testing.assert_allclose(layer(x).data, layer.weight.data.sum(axis=1)[None])


def test_linear_errors_name_the_problem():
    layer = nn.Linear(3, 2, generator=0)
    with pytest.raises(ShapeError, match=r"input of shape \(4, 5\)"):
        layer(rg.randn(4, 5, generator=0))
    with pytest.raises(TypeError, match="input dtype float64 does not match parameter dtype"):
        layer(rg.tensor(np.zeros((1, 3))))
    with pytest.raises(ValueError, match="in_features must be a positive integer"):
        nn.Linear(0, 2)


def test_linear_gradcheck_float64():
    layer = nn.Linear(4, 3, generator=0, dtype=F64)
    x = leaf(np.random.default_rng(0).standard_normal((5, 4)))
    assert gradcheck_module(layer, x)


@settings(max_examples=15)
@given(
    batch=st.integers(1, 4),
    sizes=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    seed=st.integers(0, 100),
)
def test_linear_gradients_over_sizes(batch, sizes, seed):
    layer = nn.Linear(*sizes, generator=seed, dtype=F64)
    x = leaf(np.random.default_rng(seed).standard_normal((batch, sizes[0])))
    assert gradcheck_module(layer, x)


# ----- Embedding -----
def test_embedding_looks_up_rows_of_any_index_shape():
    emb = nn.Embedding(10, 3, generator=0)
    idx = np.array([[1, 2, 2], [9, 0, 1]])
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx])
    np.testing.assert_array_equal(emb(rg.tensor(idx)).data, out.data)


def test_embedding_repeated_indices_sum_gradients():
    emb = nn.Embedding(5, 2, generator=0, dtype=F64)
    idx = np.array([3, 1, 3, 3])
    upstream = np.arange(8.0).reshape(4, 2)
    emb(idx).backward(upstream)
    expected = np.zeros((5, 2))
    np.add.at(expected, idx, upstream)
    np.testing.assert_allclose(emb.weight.grad, expected)


def test_embedding_out_of_range_index_is_named():
    emb = nn.Embedding(4, 2, generator=0)
    with pytest.raises(IndexError, match=r"index 7 at position \(1, 0\) is out of range for 4"):
        emb(np.array([[0, 1], [7, 2]]))
    with pytest.raises(IndexError, match="index -1 at position"):
        emb(np.array([-1]))
    with pytest.raises(TypeError, match="indices must be integers"):
        emb(np.array([0.0]))


def test_embedding_padding_idx_row_starts_zero_and_gets_no_gradient():
    emb = nn.Embedding(5, 2, padding_idx=-1, generator=0, dtype=F64)
    assert emb.padding_idx == 4 and "padding_idx=4" in repr(emb)
    np.testing.assert_array_equal(emb.weight.data[4], [0.0, 0.0])
    emb.weight.data[4] = [7.0, 8.0]  # a changed padding row is still what padding reads
    idx = np.array([[4, 1], [4, 4]])
    out = emb(idx)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx])
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(emb.weight.grad[4], [0.0, 0.0])
    np.testing.assert_array_equal(emb.weight.grad[1], [1.0, 1.0])
    np.testing.assert_array_equal(F.embedding(idx, emb.weight, padding_idx=4).data, out.data)


@pytest.mark.parametrize("bad", [5, -6])
def test_embedding_padding_idx_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match=f"padding_idx must be in \\[-5, 5\\), got {bad}"):
        nn.Embedding(5, 2, padding_idx=bad, generator=0)
    with pytest.raises(ValueError, match=f"embedding: padding_idx must be in .* got {bad}"):
        F.embedding([0], nn.Parameter(np.zeros((5, 2))), padding_idx=bad)
    with pytest.raises(TypeError, match="padding_idx must be an integer or None, got 1.0"):
        nn.Embedding(5, 2, padding_idx=1.0, generator=0)


def test_embedding_init_is_standard_normal():
    weight = nn.Embedding(400, 50, generator=0).weight.data
    assert abs(weight.mean()) < 0.02 and abs(weight.std() - 1) < 0.02


def test_embedding_gradcheck_float64():
    emb = nn.Embedding(6, 3, generator=0, dtype=F64)
    assert gradcheck_module(emb, np.array([[0, 5, 0], [2, 2, 2]]))


# ----- activations, dropout, identity -----
@pytest.mark.parametrize(
    ("layer", "reference"),
    [
        (nn.Tanh(), np.tanh),
        (nn.Sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
        (nn.ReLU(), lambda a: np.maximum(a, 0)),
        (nn.Identity(), lambda a: a),
    ],
)
def test_activation_values_and_gradients(layer, reference):
    x = leaf([[-1.5, -0.3, 0.4, 2.0]])
    np.testing.assert_allclose(layer(x).data, reference(x.data), rtol=1e-12)
    assert gradcheck(layer, [x])


def test_dropout_zeroes_and_rescales_in_training():
    drop = nn.Dropout(0.25, generator=0)
    out = drop(rg.ones(200, 50)).data
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.02


def test_dropout_is_seeded_and_identity_in_eval():
    x = rg.randn(4, 6, generator=0)
    a, b = nn.Dropout(0.5, generator=3), nn.Dropout(0.5, generator=3)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    a.eval()
    assert a(x) is x
    assert nn.Dropout(0.0, generator=0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0, generator=0)(x).data, 0.0)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\]"):
        nn.Dropout(1.5)


def test_dropout_gradient_uses_the_same_mask():
    x = leaf(np.ones((3, 8)))
    out = F.dropout(x, 0.5, generator=np.random.default_rng(0))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)


def test_dropout_gradcheck_float64_with_a_fixed_mask():
    x = leaf(np.random.default_rng(0).standard_normal((3, 5)))
    assert gradcheck(lambda a: F.dropout(a, 0.4, generator=np.random.default_rng(7)), [x])


# ----- losses -----
def reference_cross_entropy(logits, target):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(target)), target]


def test_cross_entropy_loss_matches_reference_and_reductions():
    rng = np.random.default_rng(0)
    logits, target = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    per_row = reference_cross_entropy(logits, target)
    for reduction, expected in (("mean", per_row.mean()), ("sum", per_row.sum())):
        loss = nn.CrossEntropyLoss(reduction=reduction)(rg.tensor(logits), target)
        np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    none = nn.CrossEntropyLoss(reduction="none")(rg.tensor(logits), target)
    np.testing.assert_allclose(none.data, per_row, rtol=1e-12)


def test_cross_entropy_loss_ignore_index_and_spatial_logits():
    rng = np.random.default_rng(1)
    logits, target = rng.standard_normal((2, 3, 4)), np.array([[0, 2, -1, 1], [-1, -1, 1, 0]])
    loss = nn.CrossEntropyLoss(ignore_index=-1)(rg.tensor(logits), target)
    flat_logits = logits.transpose(0, 2, 1).reshape(-1, 3)
    keep = target.reshape(-1) != -1
    expected = reference_cross_entropy(flat_logits[keep], target.reshape(-1)[keep]).mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)


def test_cross_entropy_loss_mean_over_only_padding_is_zero_with_zero_gradient():
    logits = rg.tensor(np.ones((3, 4)), requires_grad=True)
    loss = nn.CrossEntropyLoss()(logits, np.full(3, -100))
    loss.backward()
    assert loss.item() == 0.0
    np.testing.assert_array_equal(logits.grad, np.zeros((3, 4)))


def test_cross_entropy_loss_stable_for_huge_logits():
    logits = rg.tensor(np.array([[1000.0, 0.0], [0.0, -1000.0]], dtype=np.float32))
    loss = nn.CrossEntropyLoss(reduction="none")(logits, np.array([1, 1]))
    np.testing.assert_allclose(loss.data, [1000.0, 1000.0])


def test_cross_entropy_loss_keeps_a_nan_logit_in_its_row():
    logits = np.array([[0.5, np.nan, 2.0], [3.0, -1.0, 7.0], [-4.0, -9.0, -5.0]], np.float32)
    with np.errstate(invalid="ignore"):
        loss = nn.CrossEntropyLoss(reduction="none")(rg.tensor(logits), np.array([0, 2, 1]))
    assert np.isnan(loss.data[0])
    np.testing.assert_allclose(
        loss.data[1:], reference_cross_entropy(logits[1:].astype(np.float64), [2, 1]), atol=1e-7
    )


def test_bce_with_logits_matches_reference_and_is_stable():
    x = np.array([-800.0, -3.0, 0.0, 0.5, 40.0, 800.0])
    y = np.array([1.0, 0.0, 1.0, 0.3, 0.0, 1.0])
    loss = nn.BCEWithLogitsLoss(reduction="none")(rg.tensor(x), y)
    expected = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    np.testing.assert_allclose(loss.data, expected, rtol=1e-12, atol=1e-15)
    assert np.isfinite(loss.data).all()


def test_bce_with_logits_gradient_is_sigmoid_minus_target_even_at_zero():
    x = leaf([-2.0, 0.0, 0.0, 3.0])
    y = np.array([1.0, 0.0, 1.0, 0.5])
    nn.BCEWithLogitsLoss(reduction="sum")(x, y).backward()
    np.testing.assert_allclose(x.grad, 1 / (1 + np.exp(-x.data)) - y, rtol=1e-12)


def test_mse_loss_values_and_errors():
    x, y = rg.tensor([[1.0, 2.0], [3.0, 5.0]]), np.array([[1.0, 0.0], [3.0, 4.0]])
    assert nn.MSELoss()(x, y).item() == pytest.approx(5 / 4)
    assert nn.MSELoss(reduction="sum")(x, y).item() == pytest.approx(5)
    np.testing.assert_allclose(nn.MSELoss(reduction="none")(x, y).data, [[0, 4], [0, 1]])
    with pytest.raises(ShapeError, match=r"target shape \(2,\) differs from input shape"):
        nn.MSELoss()(x, np.zeros(2))
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="avg")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_gradcheck_float64(reduction):
    rng = np.random.default_rng(2)
    logits = leaf(rng.standard_normal((4, 3)))
    target = rng.integers(0, 3, 4)
    assert gradcheck(lambda z: F.cross_entropy(z, target, reduction), [logits])
    ignored = np.array([2, -100, 0, -100])  # ignored rows take the masked path
    assert gradcheck(lambda z: F.cross_entropy(z, ignored, reduction), [logits])
    probs = leaf(rng.uniform(0, 1, (4, 3)))
    assert gradcheck(
        lambda z, p: F.binary_cross_entropy_with_logits(z, p, reduction), [logits, probs]
    )
    assert gradcheck(lambda z, p: F.mse_loss(z, p, reduction), [logits, probs])


@settings(max_examples=20)
@given(
    logits=st.integers(1, 5).flatmap(lambda n: arrays((n, 3), (-30.0, 30.0))),
    seed=st.integers(0, 1000),
)
def test_bce_and_cross_entropy_gradients_over_values(logits, seed):
    rng = np.random.default_rng(seed)
    target = rng.integers(0, 3, len(logits))
    assert gradcheck(lambda z: F.cross_entropy(z, target), [leaf(logits)])
    probs = rng.uniform(0, 1, logits.shape)
    assert gradcheck(lambda z: F.binary_cross_entropy_with_logits(z, probs), [leaf(logits)])


# ----- functional -----
def test_functional_softmax_and_log_softmax():
    x = rg.tensor(np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]]))
    probs = F.softmax(x).data
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0)
    np.testing.assert_allclose(probs[1], [1.0, 0.0, 0.0])
    # log_softmax stays exact where the probabilities underflow.
    np.testing.assert_allclose(F.log_softmax(x).data[1], [0.0, -1000.0, -2000.0])
    np.testing.assert_allclose(np.exp(F.log_softmax(x).data[0]), probs[0])
    assert F.softmax(x, axis=0).shape == (2, 3)


@pytest.mark.parametrize(
    ("module", "args"),
    [
        (nn.Linear(3, 2, generator=0), (np.ones((2, 3), np.float32),)),
        (nn.Tanh(), (np.ones((2, 3)),)),
        (nn.Sigmoid(), (np.ones((2, 3)),)),
        (nn.ReLU(), (np.ones((2, 3)),)),
        (nn.Dropout(0.5, generator=0), (np.ones((2, 3)),)),
        (nn.CrossEntropyLoss(), (np.zeros((2, 3), np.float32), [0, 1])),
        (nn.BCEWithLogitsLoss(), (np.zeros(3), np.ones(3))),
        (nn.MSELoss(), (np.zeros(3), np.ones(3))),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, nn.Module) else "arrays",
)
def test_modules_take_array_inputs_as_constants(module, args):
    from_arrays = module(*args)
    assert isinstance(from_arrays, rg.Tensor)
    if isinstance(module, nn.Dropout):
        module.generator = np.random.default_rng(0)
    np.testing.assert_array_equal(from_arrays.data, module(rg.tensor(args[0]), *args[1:]).data)


def test_functional_forms_equal_modules():
    x = rg.tensor(np.linspace(-2, 2, 6).reshape(2, 3))
    for fn, layer in ((F.tanh, nn.Tanh()), (F.sigmoid, nn.Sigmoid()), (F.relu, nn.ReLU())):
        np.testing.assert_array_equal(fn(x).data, layer(x).data)
    layer = nn.Linear(3, 2, generator=0, dtype=F64)
    np.testing.assert_array_equal(F.linear(x, layer.weight, layer.bias).data, layer(x).data)
    np.testing.assert_array_equal(F.one_hot(np.array([2, 0]), 3).data, [[0, 0, 1], [1, 0, 0]])
    emb = nn.Embedding(4, 2, generator=0)
    np.testing.assert_array_equal(F.embedding([3, 1], emb.weight).data, emb([3, 1]).data)


# ----- init -----
def test_init_uniform_and_normal_statistics():
    t = rg.zeros(200, 300)
    init.uniform_(t, -0.5, 2.0, generator=0)
    assert t.data.min() >= -0.5 and t.data.max() <= 2.0 and abs(t.data.mean() - 0.75) < 0.01
    init.normal_(t, 1.0, 0.01, generator=0)
    assert abs(t.data.mean() - 1.0) < 1e-3 and abs(t.data.std() - 0.01) < 1e-3
    assert t.dtype == np.float32


def test_init_xavier_bounds_and_std():
    w = rg.zeros(300, 200)
    bound = np.sqrt(6 / 500)
    init.xavier_uniform_(w, generator=1)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.95 * bound
    init.xavier_normal_(w, gain=2.0, generator=1)
    assert abs(w.data.std() - 2.0 * np.sqrt(2 / 500)) < 2e-3
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(rg.zeros(3), generator=0)


def test_init_rnn_uniform_constant_and_zeros():
    t = rg.zeros(50, 40)
    init.rnn_uniform_(t, hidden_size=16, generator=0)
    assert np.abs(t.data).max() <= 0.25 and np.abs(t.data).max() > 0.24
    init.constant_(t, 3.0)
    assert np.all(t.data == 3.0)
    init.zeros_(t)
    assert np.all(t.data == 0.0)
    assert np.all(init.ones_(rg.zeros(2)).data == 1.0)


def test_init_d2l_normal_on_a_module():
    rnn = nn.RNN(28, 64, generator=0)
    init.d2l_normal_(rnn, generator=1)
    assert np.all(rnn.bias_ih_l0.data == 0) and np.all(rnn.bias_hh_l0.data == 0)
    assert abs(rnn.weight_hh_l0.data.std() - 0.01) < 1e-3


def test_init_needs_an_explicit_generator():
    with pytest.raises(TypeError, match="pass generator="):
        init.normal_(rg.zeros(2), generator=None)
    with pytest.raises(TypeError, match="Generator or an int seed"):
        init.uniform_(rg.zeros(2), generator="seed")
    a, b = rg.zeros(5), rg.zeros(5)
    init.normal_(a, generator=4)
    init.normal_(b, generator=np.random.default_rng(4))
    np.testing.assert_array_equal(a.data, b.data)
