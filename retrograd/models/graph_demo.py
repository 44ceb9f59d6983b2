"""Draw the unrolled graph of a recurrent language model: what `retrograd graph` shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from retrograd.autograd import render, to_dot
from retrograd.models.language_model import RNNLanguageModel
from retrograd.models.vocab import Vocab
from retrograd.nn.layers import check_sizes

DEFAULT_PREFIX = "time"
# The untrained model's shape when none is given (its vocabulary: 10 tokens, embedded in 4).
DEFAULT_MODEL = {"cell": "rnn", "hidden_size": 8, "layers": 1}
DEFAULT_STEPS = 4
PREFIX_NEEDS_CHECKPOINT = (
    "--prefix needs --checkpoint: the untrained model reads random tokens (--steps sets how many)"
)
MODEL_FLAGS = {"cell": "--cell", "hidden_size": "--hidden-size", "layers": "--layers"}


def draw_model_graph(
    output: Path,
    checkpoint: str | None = None,
    prefix: str | None = None,
    cell: str | None = None,
    steps: int | None = None,
    hidden_size: int | None = None,
    layers: int | None = None,
    gradients: bool = False,
    fmt: str | None = None,
    seed: int = 0,
) -> Path:
    """Unroll a model over a short input, optionally backpropagate, and render the graph.

    Without a checkpoint a small untrained model (`cell`, `hidden_size`,
    `layers`; default rnn, 8, 1) is unrolled `steps` time steps (default 4)
    over random tokens of a 10-token vocabulary, each step predicting the next
    token. With one, the trained model reads `prefix` (default "time"), one
    step per token but the last (a one-token prefix: one step, predicting the
    model's greedy continuation); `steps` cuts a longer prefix, or continues
    a shorter one with the model's greedy prediction. The checkpoint fixes
    the model: a `cell`, `hidden_size` or `layers` other than its own raises
    ValueError, and so does a `prefix` without a checkpoint.
    With `gradients`, each time step is coloured by the norm of the gradient
    reaching its hidden state, which shows vanishing or exploding gradients.
    """
    if steps is not None:
        check_sizes("draw_model_graph()", steps=steps)
    rng = np.random.default_rng(seed)
    shape = {"cell": cell, "hidden_size": hidden_size, "layers": layers}
    if checkpoint is not None:
        from retrograd.models.checkpoints import model_from_checkpoint
        from retrograd.models.generation import encode_prompt

        model, vocab, config = model_from_checkpoint(checkpoint)
        _refuse_other_model(checkpoint, model, shape)
        ids = encode_prompt(vocab, config, DEFAULT_PREFIX if prefix is None else prefix)
        # A one-token prefix is continued by one prediction: a step needs a next token.
        ids = _unroll_length(model, vocab, ids, max(len(ids) - 1, 1) if steps is None else steps)
        tokens = np.asarray([ids])
    else:
        if prefix is not None:
            raise ValueError(PREFIX_NEEDS_CHECKPOINT)
        shape = {name: DEFAULT_MODEL[name] if v is None else v for name, v in shape.items()}
        model = RNNLanguageModel(
            10, shape["hidden_size"], shape["cell"], shape["layers"], embedding_dim=4, generator=rng
        )
        tokens = rng.integers(0, 10, (1, (DEFAULT_STEPS if steps is None else steps) + 1))
    model.rnn.retain_hidden_grads = gradients
    logits, _ = model(tokens[:, :-1])
    loss = model.loss(logits, tokens[:, 1:])
    if gradients:
        loss.backward()
    graph = to_dot(loss, gradients=gradients, max_nodes=None if tokens.shape[1] <= 64 else 4000)
    return render(graph, output, fmt)


def _refuse_other_model(checkpoint: str, model: RNNLanguageModel, asked: dict) -> None:
    """ValueError naming each of cell, hidden_size, layers asked for unlike the checkpoint's."""
    own = {"cell": model.cell, "hidden_size": model.hidden_size, "layers": model.num_layers}
    conflicts = [name for name, value in asked.items() if value is not None and value != own[name]]
    if conflicts:
        ours = " and ".join(f"{MODEL_FLAGS[name]} {asked[name]}" for name in conflicts)
        theirs = " and ".join(f"{MODEL_FLAGS[name]} {own[name]}" for name in conflicts)
        verb = "conflicts" if len(conflicts) == 1 else "conflict"
        raise ValueError(
            f"{ours} {verb} with {checkpoint}, a model with {theirs}; a checkpoint's model is "
            "drawn as it was trained (leave the flag out; --steps and --prefix choose its input)"
        )


def _unroll_length(model: RNNLanguageModel, vocab: Vocab, ids: list[int], steps: int) -> list[int]:
    """`steps + 1` token ids: `ids` cut, or continued by the model's greedy prediction."""
    from retrograd.models.generation import generate, never_generated

    if len(ids) > steps:
        return ids[: steps + 1]
    return ids + generate(model, ids, steps + 1 - len(ids), banned=never_generated(vocab))
