"""retrograd.nn's new losses and layers on malformed but plausible arguments: each error
names the function and the argument at fault, never NumPy's or Python's own."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.nn import functional as F

CLASS_LOSSES = (F.cross_entropy, F.nll_loss)


@pytest.mark.parametrize("loss", CLASS_LOSSES)
@pytest.mark.parametrize("target", [["a", "b"], None, [[0], [1, 2]]])
def test_class_loss_target_not_numbers_names_the_target(loss, target):
    scores = rg.tensor(np.zeros((2, 3), np.float32))
    with pytest.raises(TypeError, match=rf"{loss.__name__}\(\): target must be an array"):
        loss(scores, target)


@pytest.mark.parametrize("loss", CLASS_LOSSES)
def test_class_loss_ragged_scores_name_the_scores(loss):
    name = "logits" if loss is F.cross_entropy else "input"
    with pytest.raises(TypeError, match=rf"{loss.__name__}\(\): {name} must be a tensor"):
        loss([[0.0, 1.0], [2.0]], [0, 1])


ELEMENTWISE = (
    (F.l1_loss, "input"),
    (F.mse_loss, "input"),
    (F.huber_loss, "input"),
    (F.smooth_l1_loss, "input"),
    (F.binary_cross_entropy, "input"),
    (F.binary_cross_entropy_with_logits, "logits"),
)


@pytest.mark.parametrize(("loss", "what"), ELEMENTWISE)
@pytest.mark.parametrize("kind", [list, np.asarray])
def test_elementwise_loss_of_a_non_tensor_input_names_the_input(loss, what, kind):
    x = kind([[0.25, 0.5]])
    with pytest.raises(TypeError, match=rf"{loss.__name__}\(\): {what} must be a Tensor"):
        loss(x, [[0.0, 1.0]])


def test_layer_norm_of_an_array_is_refused_not_returned_as_an_array():
    with pytest.raises(TypeError, match=r"layer_norm\(\): input must be a Tensor, got ndarray"):
        F.layer_norm(np.ones((2, 3)), 3)


@pytest.mark.parametrize("shape", [(0, 2), (2, 0)])
def test_embedding_from_pretrained_empty_table_names_the_embeddings(shape):
    with pytest.raises(ValueError, match=r"from_pretrained\(\): embeddings .* got shape"):
        nn.Embedding.from_pretrained(np.zeros(shape, np.float32))


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda dtype: nn.Linear(2, 3, dtype=dtype), "Linear"),
        (lambda dtype: nn.Embedding(3, 2, dtype=dtype), "Embedding"),
        (lambda dtype: nn.LayerNorm(3, dtype=dtype), "LayerNorm"),
        (lambda dtype: nn.GRU(2, 3, dtype=dtype), "GRU"),
        (lambda dtype: nn.LSTMCell(2, 3, dtype=dtype), "LSTMCell"),
    ],
)
def test_a_layer_with_a_non_floating_dtype_is_refused_naming_the_layer(make, name):
    with pytest.raises(TypeError, match=rf"{name}: dtype must be floating .*got int64"):
        make(np.int64)
    with pytest.raises(TypeError, match=rf"{name}: dtype 'banana' is not a NumPy dtype"):
        make("banana")
    assert make("float64").parameters().__next__().dtype == np.float64
