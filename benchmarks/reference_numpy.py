"""The hand-written NumPy BPTT that the speed and memory benchmarks measure retrograd against.

One training step of a character (one-hot) or word (embedding) tanh RNN
language model, with every derivative written out by hand:

- the input projection of all T steps is one matrix product over (T*B, D);
- the forward loop writes each hidden state into one (T+1, B, H) buffer, which
  the backward pass reads again (cached states, no recomputation);
- the backward loop over time does only what must be sequential (one
  (B, H) @ (H, H) product and the tanh derivative per step); the weight
  gradients are then single products over all T*B rows;
- softmax cross-entropy averaged over the T*B tokens, global-norm clipping,
  plain SGD.

The model has one recurrent bias `b_h` where retrograd's `nn.RNN` has two
(PyTorch's `b_ih` and `b_hh`): the function computed is the same with
b_h = b_ih + b_hh, and d loss / d b_h equals the gradient of either.
Weights are stored as they are multiplied, `x @ w_xh`, not transposed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from retrograd.autograd import as_generator

Params = dict[str, np.ndarray]


def init_params(
    vocab_size: int,
    hidden_size: int,
    embedding_dim: int | None = None,
    generator: np.random.Generator | int | None = None,
    dtype: Any = np.float32,
) -> Params:
    """Parameters drawn normal(0, 0.01) as in the d2l chapter, biases zero.

    With `embedding_dim`, an (vocab, embedding_dim) table feeds the RNN
    instead of one-hot vectors.
    """
    rng = as_generator(generator)

    def normal(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.01).astype(dtype)

    input_size = vocab_size if embedding_dim is None else embedding_dim
    params = {
        "w_xh": normal(input_size, hidden_size),
        "w_hh": normal(hidden_size, hidden_size),
        "b_h": np.zeros(hidden_size, dtype=dtype),
        "w_hq": normal(hidden_size, vocab_size),
        "b_q": np.zeros(vocab_size, dtype=dtype),
    }
    if embedding_dim is not None:
        params["embedding"] = rng.standard_normal((vocab_size, embedding_dim)).astype(dtype)
    return params


def _inputs(params: Params, ids: np.ndarray) -> np.ndarray:
    """The (T*B, D) input rows of time-major token ids (T, B): one-hot or embedded."""
    flat = ids.reshape(-1)
    if "embedding" in params:
        return params["embedding"][flat]
    vocab = params["w_hq"].shape[1]
    rows = np.zeros((flat.size, vocab), dtype=params["w_xh"].dtype)
    rows[np.arange(flat.size), flat] = 1
    return rows


def loss_and_grads(
    params: Params, tokens: np.ndarray, targets: np.ndarray, h0: np.ndarray
) -> tuple[float, Params, np.ndarray]:
    """Mean cross-entropy of one (B, T) batch, the gradient of every parameter, the last state.

    `h0` is the (B, H) state carried from the previous batch; no gradient
    flows into it (truncated BPTT).
    """
    w_xh, w_hh, w_hq = params["w_xh"], params["w_hh"], params["w_hq"]
    ids = tokens.T  # time-major (T, B)
    steps, batch = ids.shape
    hidden = w_hh.shape[0]
    x = _inputs(params, ids)
    proj = (x @ w_xh).reshape(steps, batch, hidden)
    proj += params["b_h"]
    states = np.empty((steps + 1, batch, hidden), dtype=w_hh.dtype)
    states[0] = h0
    for t in range(steps):
        h = states[t + 1]
        np.matmul(states[t], w_hh, out=h)
        h += proj[t]
        np.tanh(h, out=h)
    outputs = states[1:].reshape(steps * batch, hidden)

    # Softmax cross-entropy; shifting by the row maximum keeps exp finite.
    logits = outputs @ w_hq
    logits += params["b_q"]
    logits -= logits.max(axis=1, keepdims=True)
    rows = np.arange(logits.shape[0])
    picked = logits[rows, targets.T.reshape(-1)]
    np.exp(logits, out=logits)
    total = logits.sum(axis=1)
    loss = float(np.mean(np.log(total) - picked))
    d_logits = logits
    d_logits /= total[:, None]
    d_logits[rows, targets.T.reshape(-1)] -= 1
    d_logits /= logits.shape[0]

    grads = {"w_hq": outputs.T @ d_logits, "b_q": d_logits.sum(axis=0)}
    d_pre = (d_logits @ w_hq.T).reshape(steps, batch, hidden)
    carry = np.zeros((batch, hidden), dtype=w_hh.dtype)
    for t in reversed(range(steps)):
        g = d_pre[t]
        g += carry
        h = states[t + 1]
        g *= 1 - h * h
        carry = g @ w_hh.T
    d_pre_flat = d_pre.reshape(steps * batch, hidden)
    grads["w_hh"] = states[:-1].reshape(steps * batch, hidden).T @ d_pre_flat
    grads["b_h"] = d_pre_flat.sum(axis=0)
    grads["w_xh"] = x.T @ d_pre_flat
    if "embedding" in params:
        d_embedding = np.zeros_like(params["embedding"])
        np.add.at(d_embedding, ids.reshape(-1), d_pre_flat @ w_xh.T)
        grads["embedding"] = d_embedding
    return loss, grads, states[-1].copy()


def clip_grads_(grads: Params, max_norm: float) -> float:
    """Scale all gradients in place so that their global L2 norm is at most `max_norm`.

    Returns the norm before clipping; the scale is max_norm / (norm + 1e-6), as PyTorch's.
    """
    norm = math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads.values()))
    if norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        for g in grads.values():
            g *= scale
    return norm


def sgd_(params: Params, grads: Params, lr: float) -> None:
    """Plain SGD in place: p -= lr * grad."""
    for name, p in params.items():
        p -= lr * grads[name]


def train_step(
    params: Params,
    tokens: np.ndarray,
    targets: np.ndarray,
    h0: np.ndarray,
    lr: float,
    max_norm: float = 1.0,
) -> tuple[float, np.ndarray]:
    """One full training step (forward, backward, clipping, SGD); returns (loss, last state)."""
    loss, grads, h_last = loss_and_grads(params, tokens, targets, h0)
    clip_grads_(grads, max_norm)
    sgd_(params, grads, lr)
    return loss, h_last
