"""One RNN language-model training step: retrograd against hand-written NumPy and PyTorch.

Run: python -m benchmarks.rnn_step [--config d2l small tiny word] [--rounds 15]
     python -m benchmarks.rnn_step --config d2l --profile   (cProfile of retrograd's step)
     python -m benchmarks.rnn_step --config tiny --profile pyinstrument
     OPENBLAS_NUM_THREADS=1 python -m benchmarks.rnn_step --torch-threads 1   (one thread each)

A step is: forward over T time steps from the previous batch's state
(detached), mean cross-entropy, backward, global-norm clipping at 1 and an
SGD update, all in float32. Each config of the targets is timed for

- retrograd: `RNNLanguageModel(cell="rnn")`, the code path users run
  (one-hot or `Embedding`, `nn.RNN`, `Linear` head, `loss`, `backward`,
  `clip_grad_norm_`, `optim.SGD`);
- numpy: the hand-written BPTT of `benchmarks.reference_numpy`;
- torch step: PyTorch autograd over a Python loop, as the d2l chapter
  writes it (h = tanh(x_t W_xh + h W_hh + b), a head per step);
- torch nn.RNN: the fused `torch.nn.RNN` with an `nn.Linear` head.

The PyTorch runs are skipped with a note when torch is not installed. Runs
alternate in one process after warm-up, each round starting one engine
later (A B C D, B C D A, ...). In each round an engine first makes
`SETTLE` untimed steps (`--settle`), then the timed ones: the first step
after the other engines ran finds the caches full of their data and code
and is slower (on the benchmark machine by up to 0.7 ms, most for the
engines that run the most Python code; see docs/performance.md), as is,
less, the next one; a training loop runs its steps back to back, warm. The
first table gives median times, and the median time of each engine's
first, cold, step of a round; each ratio is taken within each round and
the table gives its median over the rounds and, in brackets, the middle
half of the rounds' ratios: so the ratios stay fair on a machine whose
speed drifts, and show how much it drifted. On a machine shared with other
jobs, multi-threaded BLAS calls wait for a busy core and the times swing
wildly; one thread each gives stable ratios (see docs/performance.md).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks import reference_numpy
from benchmarks.common import Rounds, alternate, print_table
from retrograd import optim
from retrograd.models.language_model import RNNLanguageModel, detach_state
from retrograd.nn import clip_grad_norm_

LR = 0.1
CLIP = 1.0
N_BATCHES = 4
# Untimed steps before each timed sample: the first steps after the other engines run
# cold (see the module docstring); two absorb nearly all of it on the benchmark machine.
SETTLE = 2


@dataclass(frozen=True)
class Config:
    """One benchmark case and its targets."""

    name: str
    vocab: int
    hidden: int
    batch: int
    steps: int
    embedding_dim: int | None
    repeat: int  # steps per timed sample, so that one sample lasts ~20 ms or more
    max_vs_numpy: float  # retrograd time / NumPy time must be at most this
    min_torch_speedup: float  # PyTorch step-by-step time / retrograd time must be at least this


CONFIGS = {
    "d2l": Config("d2l", 28, 512, 32, 35, None, 2, 1.0, 1.1),
    "small": Config("small", 65, 128, 32, 35, None, 5, 1.5, 2.0),
    "tiny": Config("tiny", 28, 64, 1, 35, None, 20, 2.5, 3.0),
    "word": Config("word", 8000, 100, 1, 20, 100, 10, 1.5, 2.0),
}


def make_batches(config: Config, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """A few (tokens, targets) pairs of shape (B, T), targets being the tokens shifted by one."""
    rng = np.random.default_rng(seed)
    seqs = rng.integers(0, config.vocab, size=(N_BATCHES, config.batch, config.steps + 1))
    return [(s[:, :-1].copy(), s[:, 1:].copy()) for s in seqs]


class RetrogradStep:
    """retrograd's user code path; each call trains on the next batch, carrying the state."""

    def __init__(self, config: Config, batches: list) -> None:
        self.model = RNNLanguageModel(
            config.vocab,
            config.hidden,
            cell="rnn",
            embedding_dim=config.embedding_dim,
            generator=0,
            dtype=np.float32,
        )
        self.optimizer = optim.SGD(self.model.parameters(), lr=LR)
        self.state = self.model.begin_state(config.batch)
        self.batches = batches
        self.calls = 0

    def __call__(self) -> float:
        tokens, targets = self.batches[self.calls % len(self.batches)]
        self.calls += 1
        logits, state = self.model(tokens, detach_state(self.state))
        loss = self.model.loss(logits, targets)
        self.optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(self.model.parameters(), CLIP)
        self.optimizer.step()
        self.state = state
        return loss.item()


class NumpyStep:
    """The hand-written NumPy BPTT of `reference_numpy`, on the same batches."""

    def __init__(self, config: Config, batches: list) -> None:
        self.params = reference_numpy.init_params(
            config.vocab, config.hidden, config.embedding_dim, generator=0, dtype=np.float32
        )
        self.state = np.zeros((config.batch, config.hidden), dtype=np.float32)
        self.batches = batches
        self.calls = 0

    def __call__(self) -> float:
        tokens, targets = self.batches[self.calls % len(self.batches)]
        self.calls += 1
        loss, self.state = reference_numpy.train_step(
            self.params, tokens, targets, self.state, LR, CLIP
        )
        return loss


def torch_steps(config: Config, batches: list) -> dict[str, Callable[[], Any]]:
    """PyTorch's step-by-step autograd (d2l style) and fused nn.RNN, or {} without torch."""
    try:
        import torch
    except ImportError:
        print("(torch not installed, its columns are skipped: pip install torch==2.13.0)")
        return {}
    import torch.nn.functional as F

    torch.manual_seed(0)
    data = [(torch.from_numpy(x.T.copy()), torch.from_numpy(y.T.reshape(-1))) for x, y in batches]
    rng = np.random.default_rng(0)
    vocab, hidden, batch = config.vocab, config.hidden, config.batch
    dim = config.embedding_dim

    def param(*shape: int, scale: float = 0.01) -> Any:
        array = (rng.standard_normal(shape) * scale).astype(np.float32)
        return torch.tensor(array, requires_grad=True)

    emb = None if dim is None else param(vocab, dim, scale=1.0)
    w_xh, w_hh, b_h = param(dim or vocab, hidden), param(hidden, hidden), param(hidden, scale=0.0)
    w_hq, b_q = param(hidden, vocab), param(vocab, scale=0.0)
    params = [p for p in (emb, w_xh, w_hh, b_h, w_hq, b_q) if p is not None]
    step_state = {"h": torch.zeros(batch, hidden), "calls": 0}

    def inputs(ids: Any) -> Any:
        return F.one_hot(ids, vocab).float() if emb is None else F.embedding(ids, emb)

    def step_by_step() -> float:
        ids, targets = data[step_state["calls"] % len(data)]
        step_state["calls"] += 1
        h = step_state["h"].detach()
        outputs = []
        for x_t in inputs(ids):
            h = torch.tanh(x_t @ w_xh + h @ w_hh + b_h)
            outputs.append(h @ w_hq + b_q)
        loss = F.cross_entropy(torch.cat(outputs), targets)
        for p in params:
            p.grad = None
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, CLIP)
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
        step_state["h"] = h
        return loss.item()

    embedding = None if dim is None else torch.nn.Embedding(vocab, dim)
    rnn, head = torch.nn.RNN(dim or vocab, hidden), torch.nn.Linear(hidden, vocab)
    modules = [m for m in (embedding, rnn, head) if m is not None]
    fused_params = [p for m in modules for p in m.parameters()]
    optimizer = torch.optim.SGD(fused_params, lr=LR)
    fused_state = {"h": torch.zeros(1, batch, hidden), "calls": 0}

    def fused() -> float:
        ids, targets = data[fused_state["calls"] % len(data)]
        fused_state["calls"] += 1
        x = F.one_hot(ids, vocab).float() if embedding is None else embedding(ids)
        out, h = rnn(x, fused_state["h"].detach())
        loss = F.cross_entropy(head(out.reshape(-1, hidden)), targets)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(fused_params, CLIP)
        optimizer.step()
        fused_state["h"] = h
        return loss.item()

    return {"torch step": step_by_step, "torch nn.RNN": fused}


def time_config(config: Config, rounds: int, settle: int = SETTLE) -> Rounds:
    """Seconds per step of every engine on this config, in alternating rounds."""
    batches = make_batches(config)
    runs = {
        "retrograd": RetrogradStep(config, batches),
        "numpy": NumpyStep(config, batches),
        **torch_steps(config, batches),
    }
    return alternate(runs, rounds=rounds, repeat=config.repeat, warmup=3, settle=settle)


def _verdict(rounds: Rounds, numerator: str, denominator: str, target: float, at_most: bool) -> str:
    """The median per-round ratio, the middle half of the rounds' ratios, and the target."""
    value = rounds.ratio(numerator, denominator)
    low, high = rounds.spread(numerator, denominator)
    met = value <= target if at_most else value >= target
    goal = f"{'<=' if at_most else '>='} {target:g}: {'met' if met else 'NOT met'}"
    return f"{value:.2f} [{low:.2f}-{high:.2f}] ({goal})"


def report(results: dict[str, Rounds]) -> None:
    """Print the timing table and the ratio table with the issue's targets."""
    rows = []
    for name, rounds in results.items():
        c = CONFIGS[name]
        tokens = c.batch * c.steps
        for engine in rounds.samples:
            seconds = rounds.median(engine)
            first = statistics.median(rounds.first[engine]) if rounds.first else None
            cold = "-" if first is None else f"{first * 1e3:.2f}"
            rows.append([name, engine, f"{seconds * 1e3:.2f}", f"{tokens / seconds:,.0f}", cold])
    print_table(["config", "engine", "ms/step", "tokens/s", "first step ms (cold)"], rows)
    print()
    rows = []
    for name, rounds in results.items():
        c = CONFIGS[name]
        row = [name, _verdict(rounds, "retrograd", "numpy", c.max_vs_numpy, at_most=True)]
        if "torch step" in rounds.samples:
            row.append(
                _verdict(rounds, "torch step", "retrograd", c.min_torch_speedup, at_most=False)
            )
            row.append(f"{rounds.ratio('torch nn.RNN', 'retrograd'):.2f}")
        rows.append(row)
    header = ["config", "retrograd / numpy", "torch step / retrograd", "torch nn.RNN / retrograd"]
    print_table(header[: len(rows[0])], rows)


def profile(config: Config, steps: int, top: int, tool: str = "cprofile") -> None:
    """Profile `steps` retrograd steps after warm-up; print where the time goes.

    "bare" runs the steps without a profiler, for one outside the process:
    `perf record -F 5000 python -m benchmarks.rnn_step --config small
    --profile bare --profile-steps 1500`, then `perf report --sort dso,sym`.
    With cProfile: the top functions by own time, as shares of the profiled
    total (the profiler inflates Python-heavy functions, so read them as a
    ranking). With pyinstrument (a sampling profiler, `pip install
    pyinstrument`): its call tree. The cyclic garbage collector is paused
    meanwhile: under a profiler every call materialises a frame object, which
    triggers collections that an unprofiled step does not pay (1-3% of it),
    billed to whichever function was running.
    """
    step = RetrogradStep(config, make_batches(config))
    for _ in range(3):
        step()
    if tool == "bare":
        start_time = time.perf_counter()
        for _ in range(steps):
            step()
        print(f"{(time.perf_counter() - start_time) / steps * 1e3:.2f} ms per step, unprofiled")
        return
    if tool == "pyinstrument":
        try:
            from pyinstrument import Profiler
        except ImportError:
            raise SystemExit("--profile pyinstrument needs: pip install pyinstrument") from None
        profiler: Any = Profiler(interval=0.0002)
        start, stop = profiler.start, profiler.stop
    else:
        profiler = cProfile.Profile()
        start, stop = profiler.enable, profiler.disable
    gc.disable()
    start()
    try:
        for _ in range(steps):
            step()
    finally:
        stop()
        gc.enable()
    if tool == "pyinstrument":
        print(profiler.output_text(unicode=False, color=False))
        return
    stats = pstats.Stats(profiler).stats  # {(file, line, name): (calls, ncalls, own, cum, ...)}
    total = sum(entry[2] for entry in stats.values())
    ranked = sorted(stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    rows = [
        [
            f"{own / total:.1%}",
            f"{cum / total:.1%}",
            f"{calls / steps:g}",
            f"{own / calls * 1e6:.1f}",
            f"{short_path(file)}:{line}({name})",
        ]
        for (file, line, name), (_, calls, own, cum, _) in ranked
    ]
    print(f"retrograd, {describe(config)}: {total / steps * 1e3:.2f} ms per profiled step")
    print_table(["own", "cumulative", "calls/step", "us/call", "function"], rows)


def short_path(path: str) -> str:
    """A source path relative to the repository or to site-packages."""
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1]
    return os.path.relpath(path) if os.path.isabs(path) else path


def describe(config: Config) -> str:
    inputs = "one-hot" if config.embedding_dim is None else f"embedding {config.embedding_dim}"
    return (
        f"{config.name}: V={config.vocab} H={config.hidden} B={config.batch} "
        f"T={config.steps} {inputs}"
    )


def blas_threads() -> str:
    """NumPy's BLAS thread setting, which only the environment can set, before NumPy loads
    (OPENBLAS_NUM_THREADS=1 python -m benchmarks.rnn_step ...)."""
    blas = os.environ.get("OPENBLAS_NUM_THREADS", "unset (OpenBLAS uses every core)")
    return f"OPENBLAS_NUM_THREADS={blas}"


def threads(torch_threads: int | None = None) -> str:
    """Set PyTorch's thread count if asked; describe both libraries' thread settings."""
    text = blas_threads()
    try:
        import torch
    except ImportError:
        return text
    if torch_threads is not None:
        torch.set_num_threads(torch_threads)
    return f"{text}, torch threads {torch.get_num_threads()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--rounds", type=int, default=15, help="alternating rounds")
    parser.add_argument("--torch-threads", type=int, help="torch.set_num_threads")
    parser.add_argument(
        "--settle",
        type=int,
        default=SETTLE,
        help="untimed steps before each timed sample (0: time the cold steps too)",
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="cprofile",
        choices=["cprofile", "pyinstrument", "bare"],
        help="profile retrograd's step only (cProfile unless pyinstrument is named; "
        "bare: no profiler, for perf)",
    )
    parser.add_argument("--profile-steps", type=int, default=50)
    args = parser.parse_args()
    print(threads(args.torch_threads))
    if args.profile:
        for name in args.config:
            profile(CONFIGS[name], args.profile_steps, top=25, tool=args.profile)
        return
    results = {}
    for name in args.config:
        print(describe(CONFIGS[name]), flush=True)
        results[name] = time_config(CONFIGS[name], args.rounds, args.settle)
    print(
        f"\nfloat32, one training step, {args.rounds} alternating rounds, {args.settle} untimed "
        "steps before each sample: median times; ratios per round, median [quartiles]"
    )
    report(results)


if __name__ == "__main__":
    main()
