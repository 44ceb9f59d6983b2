"""`RNNLanguageModel`: tokens -> (one-hot or embedding) -> RNN/LSTM/GRU -> linear head.

The model is a plain composition of `retrograd.nn` modules. Backpropagation
through time is not written here or anywhere else: the recurrent layer is a
Python loop over time steps, and `loss.backward()` walks the unrolled graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd import nn
from retrograd.autograd import Tensor, as_generator, no_grad
from retrograd.nn import functional as F

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

State = Tensor | tuple[Tensor, Tensor]


class RNNLanguageModel(nn.Module):
    """Predicts the next token at every position of a (batch, steps) array of token ids.

    With `embedding_dim=None` the input is one-hot, as in the d2l chapter;
    otherwise an `Embedding` of that size feeds the recurrent layer.
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int = 256,
        cell: str = "gru",
        num_layers: int = 1,
        embedding_dim: int | None = None,
        generator: np.random.Generator | int | None = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if vocab_size < 2 or hidden_size < 1 or num_layers < 1:
            raise ValueError(
                f"need vocab_size >= 2, hidden_size >= 1, num_layers >= 1; got "
                f"{vocab_size}, {hidden_size}, {num_layers}"
            )
        rng = as_generator(generator)
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.cell = cell
        self.num_layers = num_layers
        self.embedding_dim = embedding_dim
        self.dtype = np.dtype(dtype)
        if embedding_dim is None:
            self.embedding = None
            input_size = vocab_size
        else:
            self.embedding = nn.Embedding(vocab_size, embedding_dim, generator=rng, dtype=dtype)
            input_size = embedding_dim
        self.rnn = CELLS[cell](input_size, hidden_size, num_layers, generator=rng, dtype=dtype)
        self.head = nn.Linear(hidden_size, vocab_size, generator=rng, dtype=dtype)

    def config(self) -> dict:
        """The constructor arguments, to rebuild the model from a checkpoint."""
        return {
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "cell": self.cell,
            "num_layers": self.num_layers,
            "embedding_dim": self.embedding_dim,
            "dtype": self.dtype.name,
        }

    def begin_state(self, batch_size: int) -> State:
        """The zero initial state: h of shape (layers, batch, hidden), plus c for an LSTM."""
        shape = (self.num_layers, batch_size, self.hidden_size)
        h = Tensor(np.zeros(shape, dtype=self.dtype))
        return (h, Tensor(np.zeros(shape, dtype=self.dtype))) if self.cell == "lstm" else h

    def forward(self, tokens: Any, state: State | None = None) -> tuple[Tensor, State]:
        """Logits of shape (batch, steps, vocab) and the final state."""
        ids = np.asarray(tokens.data if isinstance(tokens, Tensor) else tokens)
        if ids.ndim != 2 or ids.dtype.kind not in "iu":
            raise ValueError(
                f"tokens must be an integer array of shape (batch, steps), got "
                f"{ids.dtype} array of shape {ids.shape}"
            )
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            bad = ids[(ids < 0) | (ids >= self.vocab_size)].flat[0]
            raise IndexError(
                f"token id {bad} is out of range for a vocabulary of {self.vocab_size}"
            )
        time_major = ids.T
        # Without an embedding, the ids stand for one-hot vectors: the RNN looks them up.
        inputs = time_major if self.embedding is None else self.embedding(time_major)
        outputs, state = self.rnn(inputs, state)
        logits = self.head(outputs)  # (steps, batch, vocab)
        return logits.permute(1, 0, 2), state

    def loss(self, logits: Tensor, targets: Any, ignore_index: int = -100) -> Tensor:
        """Mean cross-entropy of (batch, steps, vocab) logits against (batch, steps) targets.

        The mean does not depend on the order of the positions, so they are
        flattened in the order the logits lie in memory: the model's logits are
        time-major there, and flattening them batch-major would copy them (and
        their gradient in backward).
        """
        targets = np.asarray(targets)
        data = logits.data
        if data.ndim == 3 and targets.ndim == 2 and data.strides[1] > data.strides[0]:
            logits, targets = logits.permute(1, 0, 2), targets.T
        return F.cross_entropy(
            logits.reshape(-1, self.vocab_size), targets.reshape(-1), ignore_index=ignore_index
        )


def _batch_size(state: State) -> int:
    return (state[0] if isinstance(state, tuple) else state).shape[1]


def token_count(targets: Any, ignore_index: int = -100) -> int:
    """How many targets are tokens: those not equal to `ignore_index` (padding).

    The weight of a batch's mean loss wherever losses are averaged over
    batches (training's running perplexity, `perplexity`).
    """
    return int(np.count_nonzero(np.asarray(targets) != ignore_index))


def detach_state(state: State) -> State:
    """The state cut from the graph: truncated BPTT between sequential batches."""
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


@no_grad()
def perplexity(
    model: RNNLanguageModel,
    batches: Any,
    carry_state: bool | None = None,
    ignore_index: int = -100,
) -> float:
    """exp(mean cross-entropy per token) over an iterable of (X, Y) batches.

    With `carry_state` each batch starts from the previous batch's final
    state (sequential batches continue each other row by row); without it,
    from a zero state. None means the batches' own `carries_state` when they
    have one (random windows do not), else True.

    Targets equal to `ignore_index` (padding) are not tokens: each batch's
    mean loss is weighted by the number of the other targets, so padded
    batches count exactly as many tokens as they predict.
    """
    if carry_state is None:
        carry_state = getattr(batches, "carries_state", True)
    total, count, state = 0.0, 0, None
    for x, y in batches:
        if state is None or not carry_state:
            state = model.begin_state(x.shape[0])
        elif _batch_size(state) != x.shape[0]:
            raise ValueError(
                f"perplexity(): a batch of {x.shape[0]} rows cannot continue the state of "
                f"{_batch_size(state)} rows; pass carry_state=False for batches that do not "
                "continue each other (e.g. sentences)"
            )
        logits, state = model(x, state)
        tokens = token_count(y, ignore_index)
        if tokens:
            total += float(model.loss(logits, y, ignore_index).item()) * tokens
            count += tokens
    if count == 0:
        raise ValueError("perplexity(): no targets to evaluate (no batches, or all padding)")
    return float(np.exp(total / count))
