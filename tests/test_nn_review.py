"""Edge cases of layers, losses, recurrent modules and initialisers, against PyTorch's rules."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F
from retrograd.nn import init

F32 = np.float32


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: nn.Linear(2.5, 2), "in_features"),
        (lambda: nn.Linear(3, "4"), "out_features"),
        (lambda: nn.Embedding(5.0, 3), "num_embeddings"),
        (lambda: nn.GRUCell(3, 4.0), "hidden_size"),
        (lambda: nn.LSTM(3, 4, num_layers=1.5), "num_layers"),
        (lambda: nn.RNN(None, 4), "input_size"),
    ],
)
def test_sizes_that_are_not_integers_are_named(make, name):
    with pytest.raises(TypeError, match=rf": {name} must be a positive integer, got"):
        make()


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: nn.Linear(0, 2), "in_features"),
        (lambda: nn.Embedding(4, -1), "embedding_dim"),
        (lambda: nn.GRU(3, 4, num_layers=0), "num_layers"),
    ],
)
def test_sizes_below_one_are_named(make, name):
    with pytest.raises(ValueError, match=rf": {name} must be a positive integer, got"):
        make()


@pytest.mark.parametrize(
    ("module", "state", "what"),
    [
        (nn.RNN(2, 3, num_layers=2, generator=0), np.zeros((2, 1, 3)), "h0"),
        (nn.LSTM(2, 3, generator=0), (np.zeros((1, 1, 3), F32), np.zeros((1, 1, 3))), "c0"),
        (nn.GRUCell(2, 3, generator=0), np.zeros((1, 3)), "h"),
    ],
)
def test_a_state_of_the_wrong_dtype_is_named_not_called_the_input(module, state, what):
    x = np.zeros((4, 1, 2) if isinstance(module, nn.RNN | nn.LSTM) else (1, 2), F32)
    with pytest.raises(TypeError, match=rf"{type(module).__name__}: {what} dtype float64 does not"):
        module(x, state)


@pytest.mark.parametrize("fill", [init.uniform_, init.normal_, init.xavier_uniform_])
def test_random_init_refuses_an_integer_tensor(fill):
    tensor = rg.tensor(np.zeros((3, 4), dtype=np.int64))
    with pytest.raises(TypeError, match=r"_\(\): needs a floating tensor, got dtype int64"):
        fill(tensor, generator=0)
    assert not tensor.data.any()


def test_init_refuses_nan_std_and_infinite_bounds():
    tensor = rg.zeros(3, 4)
    with pytest.raises(ValueError, match="normal_\\(\\): std must be non-negative, got nan"):
        init.normal_(tensor, 0.0, float("nan"), generator=0)
    with pytest.raises(ValueError, match="uniform_\\(\\): bounds must be finite, got a=0.0, b=inf"):
        init.uniform_(tensor, 0.0, float("inf"), generator=0)
    assert not tensor.data.any()


@pytest.mark.parametrize("bad", [1.0, 2.5, "0", None, True])
def test_cross_entropy_loss_refuses_an_ignore_index_that_is_not_an_integer(bad):
    with pytest.raises(TypeError, match="CrossEntropyLoss: ignore_index must be an integer"):
        nn.CrossEntropyLoss(ignore_index=bad)


def test_cross_entropy_loss_takes_a_numpy_integer_ignore_index():
    loss = nn.CrossEntropyLoss(ignore_index=np.int64(1))
    assert repr(loss) == "CrossEntropyLoss(ignore_index=1)"
    logits = np.array([[0.0, 5.0], [1.0, 0.0]], F32)
    assert loss(logits, np.array([1, 0])).item() == pytest.approx(np.log(1 + np.exp(-1.0)))


@pytest.mark.parametrize(
    ("loss", "fn", "what"),
    [
        (nn.MSELoss(), "mse_loss", "input"),
        (nn.MSELoss(reduction="sum"), "mse_loss", "input"),
        (nn.BCEWithLogitsLoss(), "binary_cross_entropy_with_logits", "logits"),
    ],
)
@pytest.mark.parametrize("dtype", [np.int64, np.bool_])
def test_losses_refuse_integer_and_bool_inputs(loss, fn, what, dtype):
    with pytest.raises(TypeError, match=rf"{fn}\(\): {what} must be floating, got dtype"):
        loss(np.array([1, 0, 1], dtype=dtype), np.array([1.0, 0.0, 0.0], F32))


@pytest.mark.parametrize(
    ("module", "x", "part"),
    [
        (nn.LSTM(2, 3, generator=0), np.zeros((4, 1, 2), F32), np.ones((1, 1, 3), F32)),
        (nn.LSTMCell(2, 3, generator=0), np.zeros((1, 2), F32), np.ones((1, 3), F32)),
    ],
)
def test_lstm_state_pair_with_a_none_is_refused(module, x, part):
    for state in ((None, part), (part, None)):
        with pytest.raises(TypeError, match="must be a pair of tensors"):
            module(x, state)


@pytest.mark.parametrize("bad", ["0.5", None, True, [0.5]])
def test_dropout_refuses_a_p_that_is_not_a_number(bad):
    with pytest.raises(TypeError, match=r"Dropout: p must be a number in \[0, 1\], got"):
        nn.Dropout(bad)
    with pytest.raises(TypeError, match=r"dropout\(\): p must be a number in \[0, 1\], got"):
        F.dropout(rg.ones(3), bad, generator=0)


def test_init_constant_and_d2l_normal_name_a_wrong_argument():
    tensor = rg.zeros(2, 2)
    for bad in ("a", None, True):
        with pytest.raises(TypeError, match="constant_\\(\\): value must be a real number, got"):
            init.constant_(tensor, bad)
    with pytest.raises(TypeError, match="d2l_normal_\\(\\): expected a Module, got Tensor"):
        init.d2l_normal_(tensor, generator=0)
    assert init.constant_(tensor, np.float32(2.5)).data.tolist() == [[2.5, 2.5], [2.5, 2.5]]


@pytest.mark.parametrize(
    ("module", "x", "state", "what"),
    [
        (nn.GRU(2, 3, generator=0), np.zeros((4, 1, 2), F32), "zeros", "h0"),
        (nn.LSTM(2, 3, generator=0), np.zeros((4, 1, 2), F32), (rg.zeros(1, 1, 3), {}), "c0"),
        (nn.RNNCell(2, 3, generator=0), np.zeros((1, 2), F32), object(), "h"),
    ],
)
def test_a_state_that_is_not_an_array_is_named(module, x, state, what):
    with pytest.raises(TypeError, match=rf"{type(module).__name__}: {what} must be a tensor or"):
        module(x, state)


@pytest.mark.parametrize(
    ("fill", "argument"),
    [
        (lambda t: init.uniform_(t, "0", 1.0, generator=0), r"uniform_\(\): a"),
        (lambda t: init.normal_(t, 0.0, "1", generator=0), r"normal_\(\): std"),
        (lambda t: init.normal_(t, None, generator=0), r"normal_\(\): mean"),
        (lambda t: init.constant_(t, 1j), r"constant_\(\): value"),
    ],
)
def test_init_names_an_argument_that_is_not_a_real_number(fill, argument):
    """A string failed in math.isfinite or in a comparison, naming neither the function nor
    the argument; a complex constant was cast to its real part with NumPy's warning."""
    tensor = rg.zeros(2, 2)
    with pytest.raises(TypeError, match=rf"{argument} must be a real number, got"):
        fill(tensor)
    assert not tensor.data.any()


def test_normal_init_refuses_a_mean_that_is_not_finite():
    """std NaN was refused, but a NaN or infinite mean filled the tensor with it."""
    tensor = rg.zeros(2, 2)
    for mean in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"normal_\(\): mean must be finite, got"):
            init.normal_(tensor, mean, generator=0)
    assert not tensor.data.any()
