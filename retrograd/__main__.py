"""`python -m retrograd`: a small demo that fits a two-layer network and prints its loss."""

from __future__ import annotations

import numpy as np

import retrograd as rg


def main(steps: int = 300, seed: int = 0) -> list[float]:
    """Fit y = sin(3x) with a tanh network by gradient descent; print and return the losses."""
    rng = np.random.default_rng(seed)
    inputs = rng.uniform(-1, 1, size=(64, 1))
    x, y = rg.tensor(inputs), rg.tensor(np.sin(3 * inputs))
    w1 = rg.randn(1, 32, generator=rng, requires_grad=True)
    b1 = rg.zeros(32, requires_grad=True)
    w2 = rg.tensor(rng.standard_normal((32, 1)) * 0.2, requires_grad=True)
    params = [w1, b1, w2]
    losses = []
    for step in range(steps):
        loss = (((x @ w1 + b1).tanh() @ w2 - y) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with rg.no_grad():
            for p in params:
                p.data -= 0.1 * p.grad
        losses.append(loss.item())
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step:4d}  loss {loss.item():.5f}")
    return losses


if __name__ == "__main__":
    main()
