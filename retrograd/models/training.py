"""`Trainer`: truncated-BPTT training of an `RNNLanguageModel`, with checkpoints and metrics.

One seeded `numpy.random.Generator` drives the whole run (initialisation,
batch offsets and order), and its state is part of every checkpoint, so N
epochs + resume + N epochs equals 2N epochs straight. A run stopped by its
token budget inside an epoch saves its position there, so a resume with a
larger budget finishes that epoch exactly as an unstopped run would have.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from retrograd.models.batching import LanguageModelBatches, sentence_batches
from retrograd.models.builders import build_model, build_optimizer, build_scheduler
from retrograd.models.checkpoints import (
    CHECKPOINT,
    FORMAT,
    PARTIAL_EPOCH,
    checkpoint_to_resume,
    resume_conflicts,
    state_arrays,
    state_from_arrays,
)
from retrograd.models.config import TrainConfig, TrainingError
from retrograd.models.data import Dataset, build_dataset
from retrograd.models.evaluation import split_perplexity
from retrograd.models.generation import encode_prompt, sample_text
from retrograd.models.language_model import detach_state, token_count
from retrograd.models.reporting import plot_history, progress, record_line, write_metrics
from retrograd.models.vocab import Vocab
from retrograd.nn.utils import clip_grad_norm_
from retrograd.serialization import save


@dataclass
class TrainResult:
    """What a run leaves behind: per-epoch metrics, samples and file locations."""

    history: list[dict[str, Any]] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    checkpoint: Path | None = None
    interrupted: bool = False


class Trainer:
    """Runs a configured training job epoch by epoch; `run()` returns a `TrainResult`."""

    def __init__(self, config: TrainConfig, log: Callable[[str], None] = print) -> None:
        self.config = config
        self.log = log
        self.out_dir = Path(config.out_dir)
        _check_out_dir(self.out_dir)
        self.rng = np.random.default_rng(config.seed)
        self.data: Dataset = build_dataset(config)
        self.vocab: Vocab = self.data.vocab
        # Samples are drawn after each epoch: a prefix that cannot be encoded fails now.
        encode_prompt(self.vocab, config, config.sample_prefix, name="sample_prefix (--prefix)")
        self.model = build_model(config, len(self.vocab), self.rng)
        self.optimizer = build_optimizer(config, self.model)
        self.scheduler = build_scheduler(config, self.optimizer)
        if config.scheme != "sentences":
            self.batches = LanguageModelBatches(
                self.data.train,
                config.batch_size,
                config.num_steps,
                config.scheme,
                self.rng,
                name=self.data.train_name(),
            )
        self.epoch = 0  # epochs finished
        # Where the epoch after `epoch` stands when the token budget stopped it
        # (checkpoints.PARTIAL_EPOCH_KEYS); None when no epoch is under way.
        self.partial: dict[str, Any] | None = None
        # (epochs finished, batches into the next) of the checkpoint on disk.
        self.saved_at: tuple[int, int] | None = None
        self.tokens_seen = 0
        self.result = TrainResult()

    # ----- checkpoints -----
    def state(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "config": self.config.to_dict(),
            "vocab": self.vocab.to_dict(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "rng": json.dumps(self.rng.bit_generator.state),
            "epoch": self.epoch,
            "tokens_seen": self.tokens_seen,
            "history": self.result.history,
            PARTIAL_EPOCH: self.partial,
        }

    def save(self) -> Path:
        """Write the state after a finished epoch, or where the token budget stopped one."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / CHECKPOINT
        save(self.state(), path)
        self.result.checkpoint = path
        self.saved_at = (self.epoch, 0 if self.partial is None else self.partial["batches"])
        return path

    def resume(
        self, path: str | Path | None = None, checkpoint: dict[str, Any] | None = None
    ) -> None:
        """Continue from a checkpoint written by this configuration.

        `checkpoint` is that file's content when the caller has loaded it
        already (`path` then only names it in messages); otherwise it is read
        from `path`, by default the checkpoint in `out_dir`.

        The settings in `checkpoints.RESUME_FIXED` must be the checkpoint's; a difference
        raises TrainingError naming each one. The schedule continues as saved
        (its state holds the step size, so a larger `epochs` does not change
        it). An `lr` other than the checkpoint's takes over from the rate
        its optimizer had reached; the same `lr` keeps that rate. A checkpoint
        written where the token budget stopped an epoch continues that epoch
        from its next batch.
        """
        path = Path(path) if path is not None else self.out_dir / CHECKPOINT
        ckpt = checkpoint_to_resume(path, checkpoint)
        conflicts = resume_conflicts(ckpt["config"], self.config.to_dict())
        if conflicts:
            shown = ", ".join(f"{name} {saved!r} (not {ours!r})" for name, saved, ours in conflicts)
            raise TrainingError(
                f"{path}: checkpoint does not match this configuration: it was trained with "
                f"{shown}; resume with the settings it was trained with"
            )
        if ckpt["vocab"]["itos"] != self.vocab.itos:
            raise TrainingError(f"{path}: checkpoint vocabulary differs from this corpus's")
        try:
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            if self.scheduler is not None and ckpt["scheduler"] is not None:
                self.scheduler.load_state_dict(ckpt["scheduler"])
        except (RuntimeError, ValueError, KeyError) as err:
            raise TrainingError(
                f"{path}: checkpoint does not match this configuration "
                f"(resume with the settings it was trained with): {err}"
            ) from None
        self.rng.bit_generator.state = json.loads(ckpt["rng"])
        self.epoch = int(ckpt["epoch"])
        self.tokens_seen = int(ckpt["tokens_seen"])
        self.partial = ckpt.get(PARTIAL_EPOCH)
        # The record of a partial epoch is replaced when the epoch goes on.
        self.result.history = [r for r in ckpt["history"] if not r.get("partial")]
        self.result.checkpoint = path
        self.saved_at = (self.epoch, 0 if self.partial is None else self.partial["batches"])
        self.log(f"resumed from {path} {self._position(*self.saved_at)}")
        saved_lr = ckpt["config"].get("lr")
        if saved_lr is not None and self.config.lr != saved_lr:
            # The optimizer's state restored the rate the run had reached (after any
            # schedule); a new lr replaces it, and the schedule goes on from there.
            reached = self.optimizer.param_groups[0]["lr"]
            for group in self.optimizer.param_groups:
                group["lr"] = self.config.lr
            self.log(f"learning rate {self.config.lr:g} from here on (the run was at {reached:g})")

    # ----- the loop -----
    def run(self) -> TrainResult:
        """Train up to `config.epochs` (or the token budget), saving after every epoch.

        A budget that runs out inside an epoch stops after a whole batch: that
        position is saved, and `resume` with a larger budget goes on from it
        exactly. An interrupted epoch (Ctrl-C) is not saved: its weights may be
        half-updated. The last checkpoint stays (a finished epoch, or a budget
        stop), and `resume` repeats what followed it exactly.
        """
        config = self.config
        if self.epoch >= config.epochs:
            self.log(
                f"nothing to train: {self.epoch} epochs done, --epochs is {config.epochs} "
                "(raise it to continue)"
            )
        elif self._budget_spent():
            self.log(
                f"nothing to train: {self.tokens_seen:,} tokens seen, --max-tokens is "
                f"{config.max_tokens} (raise it to continue)"
            )
        try:
            while self.epoch < config.epochs and not self._budget_spent():
                record = self._train_epoch()
                if self.partial is not None:
                    self._stopped_inside_epoch(record)
                    break
                self.epoch += 1
                record.update(epoch=self.epoch)
                self._end_of_epoch(record)
        except KeyboardInterrupt:
            self.result.interrupted = True
            self.log(self._interrupted())
        plot_history(self.out_dir, self.result.history, self.log)
        return self.result

    def _interrupted(self) -> str:
        """What an interrupted run leaves on disk, and what `--resume` does with it."""
        if self.saved_at is None:
            return "interrupted before the first epoch finished: no checkpoint written"
        epochs, batches = self.saved_at
        resume = (
            f"starts epoch {epochs + 1} from it"
            if batches == 0
            else f"continues epoch {epochs + 1} from batch {batches + 1}"
        )
        return (
            f"interrupted: {self.result.checkpoint} keeps the state "
            f"{self._position(epochs, batches)}; --resume {resume}"
        )

    @staticmethod
    def _position(epochs: int, batches: int) -> str:
        """'after epoch 2', or 'after batch 5 of epoch 3' inside an epoch."""
        if batches == 0:
            return f"after epoch {epochs}"
        return f"after batch {batches} of epoch {epochs + 1}"

    def _budget_spent(self) -> bool:
        return self.config.max_tokens is not None and self.tokens_seen >= self.config.max_tokens

    def _epoch_batches(self) -> Iterable[tuple[np.ndarray, np.ndarray]]:
        if self.config.scheme == "sentences":
            return list(
                sentence_batches(
                    self.data.train_sentences,
                    self.config.batch_size,
                    pad_index=self.vocab["<pad>"],
                    rng=self.rng,
                )
            )
        return self.batches

    def _train_epoch(self) -> dict[str, Any]:
        """Train the next epoch, or the rest of the one the token budget stopped.

        A stopped epoch is replayed from the generator's state when it began,
        which draws the same batch order, and its first `batches` batches are
        skipped; the running sums and the carried hidden state are restored.
        When the budget stops this epoch before its last batch, `self.partial`
        holds the position to go on from.
        """
        config, model = self.config, self.model
        carry = config.scheme == "sequential"
        done = self.partial or {
            "batches": 0,
            "rng": json.dumps(self.rng.bit_generator.state),
            "loss_sum": 0.0,
            "tokens": 0,
            "seconds": 0.0,
            "state": None,
            "epoch_batches": None,
        }
        self.partial = None
        self.rng.bit_generator.state = json.loads(done["rng"])
        batches = self._epoch_batches()
        count = len(batches)
        rest = itertools.islice(batches, done["batches"], None)
        bar = progress(rest, self.epoch + 1, config, done["batches"], count)
        total_loss, total_tokens = done["loss_sum"], done["tokens"]
        state = state_from_arrays(done["state"])
        step = done["batches"]  # the epoch's batches trained so far
        start = time.perf_counter()
        for step, (x, y) in enumerate(bar, start=done["batches"] + 1):
            state = (
                model.begin_state(x.shape[0]) if state is None or not carry else detach_state(state)
            )
            logits, state = model(x, state)
            loss = model.loss(logits, y)
            value = float(loss.item())
            if not math.isfinite(value):
                raise TrainingError(
                    f"non-finite loss ({value}) at epoch {self.epoch + 1}, batch {step}; "
                    "the last good checkpoint is kept (try a lower --lr or --clip)"
                )
            self.optimizer.zero_grad()
            loss.backward()
            if config.clip is not None:
                try:
                    clip_grad_norm_(model.parameters(), config.clip)
                except RuntimeError as err:
                    raise TrainingError(
                        f"epoch {self.epoch + 1}, batch {step}: {err}; "
                        "the last good checkpoint is kept"
                    ) from None
            self.optimizer.step()
            # Release this batch's graph now, not when the next batch reassigns the names.
            del logits, loss
            tokens = token_count(y)
            total_loss += value * tokens
            total_tokens += tokens
            self.tokens_seen += tokens
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(ppl=f"{math.exp(total_loss / total_tokens):.2f}")
            if self._budget_spent():
                break
        seconds = done["seconds"] + time.perf_counter() - start
        if step < count:
            self.partial = {
                "batches": step,
                "rng": done["rng"],
                "loss_sum": total_loss,
                "tokens": total_tokens,
                "seconds": seconds,
                "state": state_arrays(state) if carry else None,
                "epoch_batches": count,
            }
        return {
            "train_perplexity": math.exp(total_loss / max(total_tokens, 1)),
            "tokens_per_second": total_tokens / max(seconds, 1e-9),
            "seconds": seconds,
            "lr": self.optimizer.param_groups[0]["lr"],
        }

    def _stopped_inside_epoch(self, record: dict[str, Any]) -> None:
        """Record and save where the token budget stopped the epoch under way.

        The record is marked partial; the schedule does not step (the epoch is
        not over), and the checkpoint holds the position that `resume` goes on from.
        """
        batches, count = self.partial["batches"], self.partial["epoch_batches"]
        record.update(
            epoch=self.epoch + 1,
            partial=True,
            batches=batches,
            epoch_batches=count,
            valid_perplexity=self._valid_perplexity(),
        )
        self.result.history.append(record)
        self.log(
            record_line(
                f"epoch {self.epoch + 1}/{self.config.epochs}, {batches} of {count} batches",
                record,
            )
        )
        self.log(
            f"stopped after {self.tokens_seen:,} tokens (--max-tokens {self.config.max_tokens}), "
            f"{batches} batches into epoch {self.epoch + 1}; "
            "--resume with a larger --max-tokens continues it"
        )
        write_metrics(self.out_dir, self.result.history)
        self.save()

    def _end_of_epoch(self, record: dict[str, Any]) -> None:
        config = self.config
        valid = self._valid_perplexity()
        record["valid_perplexity"] = valid
        if self.scheduler is not None:
            if config.schedule == "plateau":
                self.scheduler.step(valid if valid is not None else record["train_perplexity"])
            else:
                self.scheduler.step()
        self.result.history.append(record)
        self.log(record_line(f"epoch {self.epoch}/{config.epochs}", record))
        if config.sample_every and (
            self.epoch % config.sample_every == 0 or self.epoch == config.epochs
        ):
            sample = self.sample(config.sample_prefix, config.sample_length)
            self.result.samples.append(sample)
            self.log(f"  sample: {sample!r}")
        write_metrics(self.out_dir, self.result.history)
        self.save()

    def _valid_perplexity(self) -> float | None:
        return split_perplexity(self.model, self.data, self.config, "valid")

    def sample(self, prefix: str, length: int) -> str:
        """A continuation of `prefix` at the configured temperature (0: greedy).

        Sampling uses its own generator, seeded by the run's seed and the epoch,
        so samples never change the training run's random stream.
        """
        config = self.config
        return sample_text(
            self.model,
            self.vocab,
            config,
            prefix,
            length,
            temperature=config.sample_temperature,
            seed=np.random.default_rng([config.seed, self.epoch]),
        )


def _check_out_dir(path: Path) -> None:
    """Refuse an output directory that is, or lies below, an existing file."""
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise TrainingError(f"out_dir (--out-dir) {path}: {part} is not a directory")
            return
