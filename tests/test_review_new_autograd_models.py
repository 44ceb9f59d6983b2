"""Known-answer cases for today's Tensor, gradcheck, serialization and generation changes."""

import numpy as np
import pytest

import retrograd as rg


def test_setitem_python_int_into_uint8_tensor_writes_it():
    u = rg.tensor(np.array([1, 2], dtype=np.uint8))
    u[0] = 7
    u[1:] = True
    assert u.dtype == np.uint8 and u.data.tolist() == [7, 1]


def test_setitem_python_int_out_of_range_is_named():
    u = rg.tensor(np.array([1, 2], dtype=np.uint8))
    with pytest.raises(OverflowError, match=r"setitem: 300 is out of range .* uint8"):
        u[0] = 300
    with pytest.raises(OverflowError, match=r"add_: -1 is out of range .* uint8"):
        u += -1
    assert u.data.tolist() == [1, 2]


def test_setitem_python_scalars_match_torch():
    torch = pytest.importorskip("torch")
    for dtype, value in (("uint8", 200), ("int8", -5), ("int32", 9), ("float32", 1.5)):
        ours = rg.tensor(np.zeros(3, dtype=dtype))
        theirs = torch.zeros(3, dtype=getattr(torch, dtype))
        ours[1] = value
        theirs[1] = value
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def _tiny_language_model():
    from retrograd.models import RNNLanguageModel, TrainConfig, Vocab

    vocab = Vocab(list("the time machine"))
    return RNNLanguageModel(len(vocab), 4, generator=0), vocab, TrainConfig()


def test_sample_text_greedy_warning_names_sample_text_at_the_callers_line():
    from retrograd.models.generation import sample_text

    model, vocab, config = _tiny_language_model()
    with pytest.warns(UserWarning, match=r"^sample_text\(\): top_k=3 has no effect") as caught:
        greedy_with_top_k = sample_text(model, vocab, config, "the", 5, top_k=3)
    assert len(caught) == 1 and caught[0].filename == __file__
    assert greedy_with_top_k == sample_text(model, vocab, config, "the", 5)


def test_sample_text_refuses_a_bad_top_p_in_its_own_name_even_when_greedy():
    from retrograd.models.generation import sample_text

    model, vocab, config = _tiny_language_model()
    with pytest.raises(ValueError, match=r"^sample_text\(\): top_p must be a number in \(0, 1\]"):
        sample_text(model, vocab, config, "the", 5, top_p=0.0)


@pytest.mark.parametrize(("top_k", "error"), [(0, ValueError), (2.5, TypeError)])
def test_generate_and_sample_text_name_themselves_for_a_bad_top_k(top_k, error):
    from retrograd.models.generation import generate, sample_text

    model, vocab, config = _tiny_language_model()
    with pytest.raises(error, match=r"^generate\(\): top_k must be an integer >= 1"):
        generate(model, [1], 3, temperature=1.0, top_k=top_k, generator=0)
    with pytest.raises(error, match=r"^sample_text\(\): top_k must be an integer >= 1"):
        sample_text(model, vocab, config, "the", 3, 1.0, top_k, 0)
