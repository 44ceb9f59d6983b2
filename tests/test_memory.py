"""Memory: long truncated-BPTT training stays flat, graphs die with their loss, generation keeps
no graph. All with the cyclic garbage collector disabled, so only reference counting frees.

Measurements call `gc.collect()` with `gc.DEBUG_SAVEALL`: unreachable cycles are then kept
in `gc.garbage` (still counted, and asserted absent) while CPython's free lists of tuples,
floats and dicts are emptied; those caches fill slowly over thousands of iterations and
would otherwise read as growth.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref
from collections.abc import Iterator

import numpy as np
import pytest

from retrograd import optim
from retrograd.autograd import Node, topological_order
from retrograd.models import generation
from retrograd.models.language_model import RNNLanguageModel, detach_state
from retrograd.nn.utils import clip_grad_norm_

VOCAB, BATCH, STEPS = 12, 2, 4
KIB = 1024


@pytest.fixture
def no_gc() -> Iterator[None]:
    """Reference counting only; cycles found at measurement points stay in gc.garbage."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    yield
    gc.set_debug(0)
    gc.garbage.clear()
    if enabled:
        gc.enable()


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    yield
    tracemalloc.stop()


def traced_bytes() -> int:
    gc.collect()  # with DEBUG_SAVEALL: frees nothing reachable or cyclic, empties free lists
    return tracemalloc.get_traced_memory()[0]


def small_block_bytes() -> int:
    """Traced bytes in blocks under 512 KiB.

    A kept graph is thousands of small blocks (nodes, tensors, a few floats
    each). The interpreter's table of interned strings is one block that
    doubles (to 1.9 MiB) whenever the process has interned enough strings:
    when that happens depends on every module loaded before, not on the code
    measured.
    """
    gc.collect()
    return sum(t.size for t in tracemalloc.take_snapshot().traces if t.size < 512 * KIB)


def tiny_model(cell: str = "gru") -> RNNLanguageModel:
    return RNNLanguageModel(VOCAB, 8, cell, embedding_dim=4, generator=0)


def corpus() -> np.ndarray:
    return np.random.default_rng(0).integers(0, VOCAB, size=4000)


def train(
    model: RNNLanguageModel, iterations: int, marks: tuple[int, ...], keep_graphs: bool = False
) -> dict[int, int]:
    """Truncated BPTT as the Trainer runs it; traced bytes after each iteration in `marks`.

    Every graph is dropped before the next iteration unless `keep_graphs`.
    """
    ids = corpus()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    state, measured, kept = None, {}, []
    for it in range(1, iterations + 1):
        start = (it * STEPS) % (len(ids) - STEPS - BATCH)
        x = np.stack([ids[start + b : start + b + STEPS] for b in range(BATCH)])
        y = np.stack([ids[start + b + 1 : start + b + STEPS + 1] for b in range(BATCH)])
        state = model.begin_state(BATCH) if state is None else detach_state(state)
        logits, state = model(x, state)
        loss = model.loss(logits, y)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if keep_graphs:
            kept.append(loss)
        if it in marks:
            measured[it] = traced_bytes()
    return measured


def test_truncated_bptt_training_holds_memory_flat(no_gc, traced) -> None:
    marks = train(tiny_model(), 1000, (100, 1000))
    assert marks[1000] - marks[100] < 64 * KIB, marks
    assert gc.garbage == [], "training created reference cycles"


def test_memory_check_sees_graphs_that_are_kept(no_gc, traced) -> None:
    marks = train(tiny_model(), 200, (100, 200), keep_graphs=True)
    assert marks[200] - marks[100] > 64 * KIB, marks  # 100 kept graphs are visible


def _graph_refs(loss) -> list[weakref.ref]:
    """Weak references to every tensor made by an op in the graph of `loss`, and to every
    array an op saved that is not a leaf's own data."""
    nodes = topological_order([loss])
    leaf_data = {id(p.data) for node in nodes for p in node.parents if p.grad_fn is None}
    refs = [weakref.ref(loss)]
    for node in nodes:
        refs += [weakref.ref(p) for p in node.parents if p.grad_fn is not None]
        saved = node.saved if isinstance(node.saved, tuple) else (node.saved,)
        refs += [
            weakref.ref(a) for a in saved if isinstance(a, np.ndarray) and id(a) not in leaf_data
        ]
    return refs


@pytest.mark.parametrize("backward", [False, True])
def test_no_intermediate_survives_del_loss(no_gc, backward: bool) -> None:
    model = tiny_model("lstm")
    x = corpus()[:12].reshape(BATCH, 6)
    logits, state = model(x)
    loss = model.loss(logits, x)
    refs = _graph_refs(loss)
    assert len(refs) > 100
    if backward:
        loss.backward()
    state = detach_state(state)  # truncated BPTT keeps only the values of the state
    del loss, logits
    alive = [r() for r in refs if r() is not None]
    assert alive == [], f"{len(alive)} of {len(refs)} graph objects survived"
    gc.collect()
    assert gc.garbage == []
    assert state[0].grad_fn is None


def _live_nodes() -> int:
    return sum(type(o) is Node for o in gc.get_objects())


def test_generating_5000_characters_keeps_no_graph(no_gc, traced, monkeypatch) -> None:
    model = tiny_model("rnn")
    generation.generate(model, [1], 10, temperature=1.0, generator=0)  # first calls fill caches
    nodes_before, before = _live_nodes(), small_block_bytes()
    marks: dict[int, int] = {}
    calls = 0
    honest = generation.sample_next

    def sample_next(*args, **kwargs):  # measures while generate() runs
        nonlocal calls
        calls += 1
        if calls in (1000, 5000):
            marks[calls] = small_block_bytes()
        return honest(*args, **kwargs)

    monkeypatch.setattr(generation, "sample_next", sample_next)
    text = generation.generate(model, [1, 2, 3], 5000, temperature=1.0, generator=0)
    assert len(text) == 5000
    # 4,000 more ids in the output list take 32 KiB; a kept graph would take megabytes.
    assert marks[5000] - marks[1000] < 64 * KIB, marks
    del text
    assert small_block_bytes() - before < 16 * KIB
    assert _live_nodes() == nodes_before
    assert all(p.grad is None for p in model.parameters())
