"""`SequenceClassifier`: many-to-one recurrent classification from the last hidden state."""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd import nn
from retrograd.autograd import Tensor, as_generator
from retrograd.models.language_model import CELLS


class SequenceClassifier(nn.Module):
    """Reads a (batch, steps, features) sequence and returns class logits.

    With `num_classes=1` the head gives one logit per sequence, for a sigmoid
    and `BCEWithLogitsLoss`; with more classes it gives (batch, classes) logits
    for `CrossEntropyLoss`.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 32,
        num_classes: int = 1,
        cell: str = "rnn",
        num_layers: int = 1,
        generator: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        rng = as_generator(generator)
        self.num_classes = num_classes
        self.rnn = CELLS[cell](
            input_size, hidden_size, num_layers, batch_first=True, generator=rng, dtype=dtype
        )
        self.head = nn.Linear(hidden_size, num_classes, generator=rng, dtype=dtype)

    def forward(self, x: Any) -> Tensor:
        """Logits: shape (batch,) for one class, (batch, classes) otherwise."""
        outputs, _ = self.rnn(x)
        last = outputs[:, -1]
        logits = self.head(last)
        return logits.reshape(-1) if self.num_classes == 1 else logits
