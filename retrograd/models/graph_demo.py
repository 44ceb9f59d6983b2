"""Draw the unrolled graph of a recurrent language model: what `retrograd graph` shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from retrograd.autograd import render, to_dot
from retrograd.models.language_model import RNNLanguageModel


def draw_model_graph(
    output: Path,
    checkpoint: str | None = None,
    prefix: str = "time",
    cell: str = "rnn",
    steps: int = 4,
    hidden_size: int = 8,
    layers: int = 1,
    gradients: bool = False,
    fmt: str | None = None,
    seed: int = 0,
) -> Path:
    """Unroll a model over a short input, optionally backpropagate, and render the graph.

    Without a checkpoint a small untrained model is unrolled `steps` time
    steps over random tokens of a 10-token vocabulary, each step predicting
    the next token; with one, the trained model reads `prefix`.
    With `gradients`, each time step is coloured by the norm of the gradient
    reaching its hidden state, which shows vanishing or exploding gradients.
    """
    rng = np.random.default_rng(seed)
    if checkpoint is not None:
        from retrograd.models.training import encode_prompt, model_from_checkpoint

        model, vocab, config = model_from_checkpoint(checkpoint)
        tokens = np.asarray([encode_prompt(vocab, config, prefix)])
    else:
        model = RNNLanguageModel(10, hidden_size, cell, layers, embedding_dim=4, generator=rng)
        tokens = rng.integers(0, 10, (1, steps + 1))
    model.rnn.retain_hidden_grads = gradients
    logits, _ = model(tokens[:, :-1] if tokens.shape[1] > 1 else tokens)
    targets = tokens[:, 1:] if tokens.shape[1] > 1 else tokens
    loss = model.loss(logits, targets)
    if gradients:
        loss.backward()
    graph = to_dot(loss, gradients=gradients, max_nodes=None if tokens.shape[1] <= 64 else 4000)
    return render(graph, output, fmt)
