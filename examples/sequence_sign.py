"""Many-to-one RNN classification: is the sum of a random sequence positive?

The task of the NumPy "simple RNN from scratch" example (input size 1,
hidden size 32, sequences of length 10), trained here with automatic
backpropagation through time. Prints the test accuracy (>= 95%).

Run: python examples/sequence_sign.py
"""

from __future__ import annotations

import numpy as np

import retrograd as rg
from retrograd import nn, optim
from retrograd.models.classifier import SequenceClassifier


def make_data(rng: np.random.Generator, count: int, steps: int = 10) -> tuple:
    x = rng.standard_normal((count, steps, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)
    return x, y


def train(seed: int = 0, epochs: int = 20, batch_size: int = 32, verbose: bool = True) -> float:
    """Train on 2,000 sequences and return the accuracy on 1,000 unseen ones."""
    rng = np.random.default_rng(seed)
    x_train, y_train = make_data(rng, 2000)
    x_test, y_test = make_data(rng, 1000)
    model = SequenceClassifier(input_size=1, hidden_size=32, generator=rng)
    loss_fn = nn.BCEWithLogitsLoss()
    opt = optim.Adam(model.parameters(), lr=0.01)
    schedule = optim.lr_scheduler.ExponentialLR(opt, gamma=0.85)
    for epoch in range(epochs):
        order = rng.permutation(len(x_train))
        total = 0.0
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            loss = loss_fn(model(rg.tensor(x_train[batch])), y_train[batch])
            opt.zero_grad()
            loss.backward()
            nn.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item() * len(batch)
        schedule.step()
        if verbose:
            print(f"epoch {epoch + 1:2d}  loss {total / len(order):.4f}")
    with rg.no_grad():
        predicted = model(rg.tensor(x_test)).data > 0
    accuracy = float((predicted == (y_test > 0.5)).mean())
    if verbose:
        print(f"test accuracy {accuracy:.1%}")
    return accuracy


if __name__ == "__main__":
    train()
