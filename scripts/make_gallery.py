"""Regenerate the pictures of docs/gallery.md in docs/images/: `python scripts/make_gallery.py`.

Four pictures, each from fixed seeds so that running the script again draws
the same thing:

- a character RNN language model unrolled 3 steps, after `backward()`, each
  step coloured by the gradient reaching its hidden state;
- one step of an LSTM cell, its four gates and the cell-state path;
- the gradient reaching each of 30 hidden states of a tanh RNN on The Time
  Machine, untrained and after a few hundred training steps;
- the graph of `b = a + a; c = b + b`, the classic test of gradient
  accumulation.

The graphs are Graphviz SVG (they need the `dot` program); the plot is a
matplotlib SVG with text kept as text, which keeps every file small.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from retrograd import nn
from retrograd.autograd import Tensor, gradient_norms, plot_gradient_norms, render, to_dot
from retrograd.autograd.drawing import Graph
from retrograd.models.config import TrainConfig
from retrograd.models.language_model import RNNLanguageModel
from retrograd.models.training import Trainer

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
NORMS_IMAGE = "gradient-norms-30-steps.svg"
NORM_STEPS = 30
TRAIN_STEPS = 400
HIDDEN_SIZE = 64
SEED = 0

Table = list[tuple[int, float]]


def rnn_three_steps() -> Graph:
    """A tanh-RNN language model (vocabulary 10, embedding 3, hidden 4) reading 3 tokens.

    The loss is the mean cross-entropy of its three next-token predictions;
    after `backward()` every step's hidden state holds its gradient, which
    colours the step.
    """
    rng = np.random.default_rng(SEED)
    model = RNNLanguageModel(10, 4, "rnn", embedding_dim=3, generator=rng)
    model.rnn.retain_hidden_grads = True
    tokens = rng.integers(0, 10, (1, 4))
    logits, _ = model(tokens[:, :-1])
    loss = model.loss(logits, tokens[:, 1:])
    loss.backward()
    return to_dot(loss)


def lstm_step() -> Graph:
    """One step of an `LSTMCell` (input 3, hidden 4) from a given state, drawn from (h_t, c_t)."""
    rng = np.random.default_rng(SEED)
    cell = nn.LSTMCell(3, 4, generator=rng)
    x = Tensor(rng.standard_normal((1, 3)).astype(np.float32), name="x[t]")
    h = Tensor(rng.standard_normal((1, 4)).astype(np.float32), name="h[t-1]")
    c = Tensor(rng.standard_normal((1, 4)).astype(np.float32), name="c[t-1]")
    h_next, c_next = cell(x, (h, c))
    h_next.name, c_next.name = "h[t]", "c[t]"
    return to_dot([h_next, c_next])


def add_twice() -> Graph:
    """`b = a + a; c = b + b` with values and, after `backward()`, dc/db = 2 and dc/da = 4."""
    a = Tensor(np.float64(2.0), requires_grad=True, name="a")
    b = a + a
    c = b + b
    b.name, c.name = "b", "c"
    b.retain_grad()
    c.backward()
    return to_dot(c, values=True)


GRAPHS: dict[str, Callable[[], Graph]] = {
    "rnn-3-steps.svg": rnn_three_steps,
    "lstm-step.svg": lstm_step,
    "add-twice.svg": add_twice,
}


def last_step_norms(model: RNNLanguageModel, tokens: np.ndarray) -> Table:
    """‖∂L/∂h_t‖ for every step t, where L is the loss of the last step's prediction only.

    With the loss of one prediction, the curve shows how far back in time
    that prediction's gradient reaches before it vanishes.
    """
    model.rnn.retain_hidden_grads = True
    logits, _ = model(tokens[:, :-1])
    loss = model.loss(logits[:, -1:, :], tokens[:, -1:])
    model.zero_grad()
    loss.backward()
    table = gradient_norms(loss)
    model.rnn.retain_hidden_grads = False
    model.rnn.hidden_states = []
    return table


def gradient_norm_tables(
    train_steps: int = TRAIN_STEPS, hidden_size: int = HIDDEN_SIZE
) -> dict[str, Table]:
    """Per-step gradient norms of a character tanh RNN, untrained and after `train_steps` steps.

    The model reads one-hot characters of The Time Machine; it is trained
    with Adam on batches of 32 sequences of 30 characters (truncated BPTT,
    the standard `Trainer`), its files going to a temporary directory. Both
    curves are measured on the same 8 held-out sequences of 30 characters.
    """
    if train_steps < 1:
        raise ValueError(f"train_steps must be at least 1, got {train_steps}")
    batch_size = 32
    with tempfile.TemporaryDirectory() as out_dir:
        config = TrainConfig(
            cell="rnn",
            hidden_size=hidden_size,
            embedding_dim=None,
            batch_size=batch_size,
            num_steps=NORM_STEPS,
            epochs=1_000,
            max_tokens=train_steps * batch_size * NORM_STEPS,
            optimizer="adam",
            lr=0.01,
            schedule="none",
            sample_every=0,
            seed=SEED,
            out_dir=out_dir,
            progress=False,
        )
        trainer = Trainer(config, log=lambda _: None)
        rows = 8
        tokens = trainer.data.valid[: rows * (NORM_STEPS + 1)].reshape(rows, NORM_STEPS + 1)
        untrained = last_step_norms(trainer.model, tokens)
        trainer.run()
        trained = last_step_norms(trainer.model, tokens)
    return {"untrained": untrained, f"trained ({train_steps} steps)": trained}


def plot_norm_tables(tables: dict[str, Table], path: Path) -> Path:
    """Plot the tables on one log-scale axis and save an SVG whose bytes depend only on the data."""
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "the gradient-norm plot needs matplotlib: pip install 'retrograd[plot]'"
        ) from None

    settings = {"svg.fonttype": "none", "svg.hashsalt": "retrograd-gallery"}
    with matplotlib.rc_context(settings):
        figure = Figure(figsize=(6.4, 3.6), layout="constrained")
        ax = figure.subplots()
        for label, table in tables.items():
            plot_gradient_norms(table, ax=ax, label=label)
        ax.set_ylabel(r"$\|\partial L_\mathrm{last} / \partial h_t\|$")
        ax.set_title("gradient of the last prediction's loss reaching each hidden state")
        ax.grid(True, which="major", alpha=0.3)
        figure.savefig(path, format="svg", metadata={"Date": None})
    return path


def write_graphs(out_dir: Path) -> list[Path]:
    """Render every graph of the gallery into `out_dir` as SVG (needs Graphviz)."""
    return [render(draw(), out_dir / name) for name, draw in GRAPHS.items()]


def make_gallery(
    out_dir: Path = IMAGES, train_steps: int = TRAIN_STEPS, hidden_size: int = HIDDEN_SIZE
) -> list[Path]:
    """Write all the gallery's pictures into `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = write_graphs(out_dir)
    tables = gradient_norm_tables(train_steps, hidden_size)
    paths.append(plot_norm_tables(tables, out_dir / NORMS_IMAGE))
    return paths


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and write the pictures, reporting each file's size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=IMAGES)
    parser.add_argument("--train-steps", type=int, default=TRAIN_STEPS)
    parser.add_argument("--hidden-size", type=int, default=HIDDEN_SIZE)
    args = parser.parse_args(argv)
    for path in make_gallery(args.output_dir, args.train_steps, args.hidden_size):
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
