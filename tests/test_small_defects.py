"""Argument checks at the public edges: ignore_index, unbatched logits, seeds, batch sizes,
and the dtype advice of layers given a list."""

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn
from retrograd.autograd import ShapeError, cross_entropy
from retrograd.models.batching import LanguageModelBatches, sentence_batches
from retrograd.nn import functional as F

LOGITS = np.zeros((3, 4), dtype=np.float32)


@pytest.mark.parametrize("loss", [cross_entropy, F.cross_entropy], ids=["autograd", "nn"])
@pytest.mark.parametrize("bad", [2.5, "2", True, None])
def test_cross_entropy_function_refuses_an_ignore_index_that_is_not_an_integer(loss, bad):
    with pytest.raises(TypeError, match=r"cross_entropy\(\): ignore_index must be an integer"):
        loss(rg.tensor(LOGITS), [0, 1, 2], ignore_index=bad)


def test_cross_entropy_function_takes_a_numpy_integer_ignore_index():
    loss = cross_entropy(rg.tensor(LOGITS), [0, 1, 2], ignore_index=np.int64(2), reduction="sum")
    assert np.isclose(loss.item(), 2 * np.log(4))


def test_cross_entropy_unbatched_logits_refuse_a_batched_target_naming_the_0_d_one():
    with pytest.raises(ShapeError, match=r"class indices\) of shape \(\), .* shape \(4,\)"):
        cross_entropy(rg.tensor(LOGITS[0]), [1])


def test_cross_entropy_refuses_scalar_logits_naming_their_shape():
    with pytest.raises(ShapeError, match=r"logits must be \(N, C\).*got shape \(\)"):
        cross_entropy(rg.tensor(np.float32(1.0)), 0)


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (-1, ValueError),
        (np.int64(-3), ValueError),
        (1.5, TypeError),
        ("7", TypeError),
        (True, TypeError),
    ],
)
@pytest.mark.parametrize(
    "make",
    [lambda g: rg.randn(2, generator=g), lambda g: nn.Linear(2, 2, generator=g)],
    ids=["randn", "Linear"],
)
def test_a_bad_seed_is_named_as_the_generator_argument(make, bad, error):
    with pytest.raises(
        error, match=r"generator must be a numpy.random.Generator or an int seed >= 0"
    ):
        make(bad)


def test_a_zero_seed_and_a_numpy_integer_seed_are_taken():
    np.testing.assert_array_equal(
        rg.randn(3, generator=0).data, rg.randn(3, generator=np.int8(0)).data
    )


@pytest.mark.parametrize(
    ("bad", "error"),
    [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)],
)
def test_sentence_batches_refuses_a_batch_size_that_is_not_a_positive_integer(bad, error):
    with pytest.raises(error, match=r"sentence_batches\(\): batch_size must be a positive integer"):
        list(sentence_batches([[1, 5, 2], [1, 6, 7, 2]], bad, pad_index=0))


@pytest.mark.parametrize(
    ("name", "sizes", "error"),
    [
        ("batch_size", (0, 2), ValueError),
        ("num_steps", (2, -1), ValueError),
        ("batch_size", (1.5, 2), TypeError),
        ("num_steps", (2, "3"), TypeError),
    ],
)
def test_language_model_batches_names_a_size_that_is_not_a_positive_integer(name, sizes, error):
    with pytest.raises(error, match=rf"LanguageModelBatches: {name} must be a positive integer"):
        LanguageModelBatches(np.arange(100), *sizes)


def test_a_layer_given_a_list_of_the_wrong_dtype_is_told_how_to_convert_a_list():
    layer = nn.Linear(2, 2, generator=0, dtype=np.float64)
    with pytest.raises(TypeError, match=r"a list: rg.tensor\(data, dtype=np.float64\)"):
        layer([[1.0, 2.0]])
    out = layer(rg.tensor([[1.0, 2.0]], dtype=np.float64))
    assert out.dtype == np.float64


def test_numpy_type_errors_in_a_forward_name_the_op_and_dtypes():
    """NumPy refuses `-` on booleans deep inside an op's forward; the error names the op and
    the operands' dtypes instead of NumPy's words alone."""
    with pytest.raises(TypeError, match=r"^neg: not defined for operands of dtypes bool: "):
        -rg.tensor([True, False])


def test_zero_on_a_boolean_tensor_sets_false():
    """As torch: zero_() writes False, not an int64 0 refused as an unsafe cast."""
    flags = rg.tensor([True, False, True])
    flags.zero_()
    assert flags.dtype == np.bool_ and not flags.numpy().any()
