"""retrograd.nn's new losses and layers on malformed but plausible arguments: each error
names the function and the argument at fault, never NumPy's or Python's own."""

import numpy as np
import pytest

import retrograd as rg
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
