"""Known answers for the language-model data pipeline, generation and commands, checked
against what the d2l chapter does."""

import numpy as np
import pytest

from retrograd.models.batching import LanguageModelBatches


def _d2l_random_batches(corpus_length: int, batch_size: int, num_steps: int, offset: int) -> int:
    """How many batches d2l's seq_data_iter_random yields after dropping `offset` tokens."""
    return (corpus_length - offset - 1) // num_steps // batch_size


@pytest.mark.parametrize(("length", "batch_size", "num_steps"), [(5, 1, 1), (6, 1, 3), (62, 3, 4)])
def test_random_batches_use_every_window_d2l_uses(length, batch_size, num_steps):
    expected = min(
        _d2l_random_batches(length, batch_size, num_steps, offset) for offset in range(num_steps)
    )
    batches = LanguageModelBatches(np.arange(length), batch_size, num_steps, "random")
    assert len(batches) == len(list(batches)) == expected
