"""Training runs: exact resume, non-finite losses, metrics, checkpoints, schemes."""

import json
import re

import numpy as np
import pytest

from retrograd.models.checkpoints import CHECKPOINT, load_checkpoint
from retrograd.models.config import TrainConfig, TrainingError, preset
from retrograd.models.generation import sample_text
from retrograd.models.reporting import METRICS
from retrograd.models.training import Trainer
from retrograd.serialization import CheckpointError, save

TEXT = (
    "The Time Traveller (for so it will be convenient to speak of him) was expounding a "
    "recondite matter to us. His grey eyes shone and twinkled, and his usually pale face was "
    "flushed and animated. The fire burned brightly, and the soft radiance of the lights. "
) * 8


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    return path


def small_config(corpus, out_dir, **changes):
    base = {
        "corpus": str(corpus),
        "hidden_size": 16,
        "embedding_dim": 8,
        "batch_size": 4,
        "num_steps": 8,
        "epochs": 2,
        "sample_every": 1,
        "sample_length": 10,
        "valid_fraction": 0.1,
        "out_dir": str(out_dir),
        "progress": False,
    }
    return TrainConfig(**{**base, **changes})


def sentence_config(corpus, out_dir, **changes):
    """The word-level tutorial setup: raw words, whole sentences padded per batch."""
    words = {"level": "word", "preprocessing": "raw", "scheme": "sentences"}
    return small_config(corpus, out_dir, sample_prefix="The Time ", **words, **changes)


def quiet(_line):
    pass


def test_training_lowers_perplexity_and_writes_metrics_and_checkpoint(corpus, tmp_path):
    config = small_config(corpus, tmp_path / "run", epochs=4, lr=0.02)
    result = Trainer(config, log=quiet).run()
    ppl = [r["train_perplexity"] for r in result.history]
    assert ppl[-1] < ppl[0] * 0.7
    lines = (tmp_path / "run" / METRICS).read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3, 4]
    assert all(json.loads(line)["tokens_per_second"] > 0 for line in lines)
    ckpt = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    assert ckpt["epoch"] == 4
    assert len(result.samples) == 4 and all(s.startswith("time traveller") for s in result.samples)


@pytest.mark.parametrize(
    ("scheme", "cell", "optimizer", "schedule"),
    [
        ("sequential", "rnn", "sgd", "none"),
        ("random", "lstm", "adam", "step"),
        ("sequential", "gru", "adam", "plateau"),
    ],
)
def test_resume_continues_exactly(corpus, tmp_path, scheme, cell, optimizer, schedule):
    changes = {"scheme": scheme, "cell": cell, "optimizer": optimizer, "schedule": schedule}
    straight = Trainer(small_config(corpus, tmp_path / "a", epochs=4, **changes), log=quiet)
    straight.run()
    first = Trainer(small_config(corpus, tmp_path / "b", epochs=2, **changes), log=quiet)
    first.run()
    resumed = Trainer(small_config(corpus, tmp_path / "b", epochs=4, **changes), log=quiet)
    resumed.resume()
    resumed.run()
    for (name, a), (_, b) in zip(
        straight.model.named_parameters(), resumed.model.named_parameters()
    ):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    assert (
        straight.result.history[-1]["train_perplexity"]
        == resumed.result.history[-1]["train_perplexity"]
    )


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(corpus, tmp_path, monkeypatch):
    trainer = Trainer(small_config(corpus, tmp_path / "run", epochs=3), log=quiet)
    trainer.config.epochs = 1
    trainer.run()
    good = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    trainer.config.epochs = 3
    honest_loss = trainer.model.loss
    calls = {"n": 0}

    def poisoned(logits, targets, ignore_index=-100):
        calls["n"] += 1
        loss = honest_loss(logits, targets, ignore_index)
        return loss * float("nan") if calls["n"] == 3 else loss

    monkeypatch.setattr(trainer.model, "loss", poisoned)
    with pytest.raises(TrainingError, match="non-finite loss .* epoch 2, batch 3"):
        trainer.run()
    kept = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    assert kept["epoch"] == good["epoch"] == 1
    for name, array in good["model"].items():
        np.testing.assert_array_equal(kept["model"][name], array)


def interrupt_at_step(trainer, monkeypatch, at):
    """Make the trainer's `at`-th optimizer step raise KeyboardInterrupt, as Ctrl-C would."""
    honest = trainer.optimizer.step
    calls = {"n": 0}

    def interrupting_step():
        calls["n"] += 1
        if calls["n"] == at:
            raise KeyboardInterrupt
        honest()

    monkeypatch.setattr(trainer.optimizer, "step", interrupting_step)


def test_interrupt_in_the_first_epoch_writes_no_checkpoint(corpus, tmp_path, monkeypatch):
    lines = []
    trainer = Trainer(small_config(corpus, tmp_path / "run", epochs=3), log=lines.append)
    interrupt_at_step(trainer, monkeypatch, 4)
    result = trainer.run()
    assert result.interrupted and result.checkpoint is None and not result.history
    assert not (tmp_path / "run" / CHECKPOINT).exists()
    assert "no checkpoint written" in lines[-1]


def test_interrupted_epoch_is_repeated_on_resume_exactly(corpus, tmp_path, monkeypatch):
    straight = Trainer(small_config(corpus, tmp_path / "straight", epochs=3), log=quiet)
    straight.run()
    lines = []
    first = Trainer(small_config(corpus, tmp_path / "run", epochs=3), log=lines.append)
    per_epoch = len(first.batches)
    interrupt_at_step(first, monkeypatch, per_epoch + per_epoch // 2)  # mid epoch 2
    result = first.run()
    assert result.interrupted and [r["epoch"] for r in result.history] == [1]
    kept = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    assert kept["epoch"] == 1 and "after epoch 1; --resume starts epoch 2" in lines[-1]

    resumed = Trainer(small_config(corpus, tmp_path / "run", epochs=3), log=quiet)
    resumed.resume()
    resumed.run()
    assert resumed.tokens_seen == straight.tokens_seen
    assert [r["train_perplexity"] for r in resumed.result.history] == [
        r["train_perplexity"] for r in straight.result.history
    ]
    for name, array in straight.model.state_dict().items():
        np.testing.assert_array_equal(resumed.model.state_dict()[name], array)


def test_resume_with_nothing_left_to_train_says_so(corpus, tmp_path):
    Trainer(small_config(corpus, tmp_path / "run", epochs=1), log=quiet).run()
    lines = []
    again = Trainer(small_config(corpus, tmp_path / "run", epochs=1), log=lines.append)
    again.resume()
    result = again.run()
    assert "nothing to train: 1 epochs done, --epochs is 1" in lines[-1]
    assert result.checkpoint == tmp_path / "run" / CHECKPOINT


def test_token_budget_stops_training(corpus, tmp_path):
    trainer = Trainer(small_config(corpus, tmp_path / "run", epochs=50, max_tokens=300), log=quiet)
    trainer.run()
    assert 300 <= trainer.tokens_seen < 300 + 4 * 8


def test_sentence_scheme_trains_a_word_model_with_padding(corpus, tmp_path):
    config = sentence_config(corpus, tmp_path / "run", epochs=2)
    trainer = Trainer(config, log=quiet)
    result = trainer.run()
    assert "<pad>" in trainer.vocab and "<eos>" in trainer.vocab
    assert result.history[-1]["valid_perplexity"] is not None


def test_load_checkpoint_refuses_other_files(tmp_path):
    save({"model": {}}, tmp_path / "other.ckpt")
    with pytest.raises(CheckpointError, match="not a retrograd language-model checkpoint"):
        load_checkpoint(tmp_path / "other.ckpt")


def test_d2l_preset_matches_the_chapter():
    config = preset("d2l")
    assert (config.hidden_size, config.batch_size, config.num_steps) == (512, 32, 35)
    assert (config.optimizer, config.lr, config.clip, config.embedding_dim) == (
        "sgd",
        1.0,
        1.0,
        None,
    )
    assert config.cell == "rnn" and config.max_corpus_tokens == 10_000
    assert config.init == "d2l"


def test_d2l_init_draws_small_normal_weights_and_zero_biases(tmp_path):
    trainer = Trainer(preset("d2l", epochs=1, out_dir=str(tmp_path)), log=quiet)
    params = dict(trainer.model.named_parameters())
    assert abs(float(params["rnn.weight_hh_l0"].data.std()) - 0.01) < 0.001
    assert not params["rnn.bias_ih_l0"].data.any() and not params["head.bias"].data.any()


def test_config_errors_list_every_problem():
    with pytest.raises(ValueError, match="optimizer must be .*lr must be a finite number > 0"):
        TrainConfig(optimizer="lbfgs", lr=0)


def test_resume_with_other_settings_names_the_mismatch(corpus, tmp_path):
    Trainer(small_config(corpus, tmp_path / "run", epochs=1), log=quiet).run()
    other = Trainer(
        small_config(corpus, tmp_path / "run", hidden_size=12, schedule="step"), log=quiet
    )
    with pytest.raises(TrainingError, match="does not match this configuration") as info:
        other.resume()
    message = str(info.value)
    assert "hidden_size 16 (not 12), schedule 'plateau' (not 'step')" in message
    assert "\n" not in message


def test_resume_without_a_checkpoint_says_there_is_none(corpus, tmp_path):
    trainer = Trainer(small_config(corpus, tmp_path / "run"), log=quiet)
    with pytest.raises(TrainingError) as info:
        trainer.resume()
    message = str(info.value)
    assert message.startswith(f"no checkpoint to resume at {tmp_path / 'run' / CHECKPOINT}: ")
    assert "train without --resume first" in message and "--out-dir" in message
    assert "Errno" not in message


def test_resume_keeps_the_step_schedule_when_epochs_grow(corpus, tmp_path):
    # StepLR's step size is max(epochs // 3, 1) when a run starts; it is part of the
    # scheduler's state in the checkpoint, so raising epochs on resume does not change it.
    changes = {"schedule": "step", "optimizer": "sgd", "lr": 1.0}
    Trainer(small_config(corpus, tmp_path / "run", epochs=3, **changes), log=quiet).run()
    resumed = Trainer(small_config(corpus, tmp_path / "run", epochs=9, **changes), log=quiet)
    assert resumed.scheduler.step_size == 3  # what a new 9-epoch run would use
    resumed.resume()
    assert resumed.scheduler.step_size == 1
    resumed.run()
    rates = [record["lr"] for record in resumed.result.history]
    assert rates == [1.0 * 0.5**epoch for epoch in range(9)]
    assert load_checkpoint(tmp_path / "run" / CHECKPOINT)["scheduler"]["step_size"] == 1


def test_resume_with_another_lr_continues_at_it(corpus, tmp_path):
    changes = {"optimizer": "sgd", "schedule": "none"}
    Trainer(small_config(corpus, tmp_path / "run", epochs=1, lr=0.5, **changes), log=quiet).run()
    lines = []
    same = Trainer(small_config(corpus, tmp_path / "run", lr=0.5, **changes), log=lines.append)
    same.resume()
    assert same.optimizer.param_groups[0]["lr"] == 0.5 and len(lines) == 1
    lower = Trainer(small_config(corpus, tmp_path / "run", lr=0.1, **changes), log=lines.append)
    lower.resume()
    assert lines[-1] == "learning rate 0.1 from here on (the run was at 0.5)"
    lower.run()
    assert [record["lr"] for record in lower.result.history] == [0.5, 0.1]
    ckpt = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    assert ckpt["config"]["lr"] == ckpt["optimizer"]["param_groups"][0]["lr"] == 0.1


def test_sentence_model_samples_stop_at_eos_and_hide_special_tokens(corpus, tmp_path):
    config = sentence_config(corpus, tmp_path / "run", epochs=3)
    trainer = Trainer(config, log=quiet)
    trainer.run()
    text = sample_text(trainer.model, trainer.vocab, config, "The Time", 30, 1.0, seed=0)
    assert text.startswith("The Time")
    assert not any(tok in text for tok in ("<bos>", "<eos>", "<pad>", "<unk>"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"valid_fraction": 1.5}, "valid_fraction"),
        ({"sample_length": -1}, "sample_length"),
        ({"lr": float("nan")}, "lr must be a finite number"),
        ({"clip": float("nan")}, "clip must be a finite number"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"seed": -1}, "seed must be an integer >= 0, got -1"),
    ],
)
def test_config_rejects_bad_values(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seed": 1.5}, "seed must be int, got float 1.5"),
        ({"seed": True}, "seed must be int, got bool True"),
        ({"valid_fraction": "0.1"}, "valid_fraction must be float, got str '0.1'"),
        ({"lr": "0.1"}, "lr must be float, got str"),
        ({"max_tokens": 2.5}, "max_tokens must be int or None, got float 2.5"),
        ({"progress": 1}, "progress must be bool or None, got int 1"),
        ({"corpus": 3}, "corpus must be str or None, got int 3"),
    ],
)
def test_config_names_a_value_of_the_wrong_type(changes, message):
    """Strings used to fail with Python's comparison error; a float token budget was taken."""
    with pytest.raises(TypeError, match=re.escape(message)):
        TrainConfig(**changes)


def test_a_training_split_too_short_to_batch_is_named_as_the_split(corpus, tmp_path):
    """The message gave the split's size as the corpus's, which the file contradicted."""
    config = small_config(corpus, tmp_path / "run", batch_size=64, num_steps=32)
    with pytest.raises(
        ValueError, match=r"the training split of \d+ tokens \(of \d+ in the corpus"
    ):
        Trainer(config, log=quiet)


def test_config_takes_no_clip():
    """clip=None (train --no-clip) trains without clipping; the type check refused it."""
    from retrograd.cli import _parser, _train_config

    assert TrainConfig(clip=None).clip is None
    assert _train_config(_parser().parse_args(["train", "--no-clip"])).clip is None


def test_config_takes_numpy_numbers():
    config = TrainConfig(batch_size=np.int64(4), lr=np.float32(0.5), hidden_size=8)
    assert config.batch_size == 4 and config.lr == 0.5


def test_checkpoint_without_its_parts_is_refused(tmp_path):
    save({"format": "retrograd-language-model", "model": {}}, tmp_path / "partial.ckpt")
    with pytest.raises(CheckpointError, match="lacks config, vocab"):
        load_checkpoint(tmp_path / "partial.ckpt")


def test_bad_sample_prefix_is_refused_before_training(corpus, tmp_path):
    config = small_config(corpus, tmp_path / "run", sample_prefix="1895")
    with pytest.raises(ValueError, match=r"sample_prefix \(--prefix\) '1895' has no tokens"):
        Trainer(config, log=quiet)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("where", ["file", "file/below"])
def test_out_dir_that_cannot_be_a_directory_is_refused_before_training(corpus, tmp_path, where):
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(TrainingError, match=r"out_dir \(--out-dir\) .*file is not a directory"):
        Trainer(small_config(corpus, tmp_path / where), log=quiet)


def test_resume_with_the_token_budget_spent_says_so(corpus, tmp_path):
    Trainer(small_config(corpus, tmp_path / "run", epochs=5, max_tokens=100), log=quiet).run()
    lines = []
    again = Trainer(
        small_config(corpus, tmp_path / "run", epochs=5, max_tokens=100), log=lines.append
    )
    again.resume()
    again.run()
    assert "nothing to train: 128 tokens seen, --max-tokens is 100" in lines[-1]


def test_spent_token_budget_line_separates_thousands(corpus, tmp_path):
    lines = []
    trainer = Trainer(small_config(corpus, tmp_path / "run", max_tokens=1000), log=lines.append)
    trainer.tokens_seen = 10_080
    trainer.run()
    assert "nothing to train: 10,080 tokens seen, --max-tokens is 1000" in lines[0]


def _run_with_budgets(corpus, out_dir, budgets, **changes):
    """Train to 2 epochs under each token budget in turn, resuming from the last checkpoint.

    Returns the last trainer and, per budget, (epochs finished, batches into the next).
    """
    trainer, stops = None, []
    for n, budget in enumerate(budgets):
        config = small_config(corpus, out_dir, epochs=2, max_tokens=budget, **changes)
        trainer = Trainer(config, log=quiet)
        if n:
            trainer.resume()
        trainer.run()
        stops.append(trainer.saved_at)
    return trainer, stops


@pytest.mark.parametrize(
    ("scheme", "cell", "optimizer", "schedule"),
    [
        ("sequential", "lstm", "adam", "plateau"),
        ("random", "gru", "sgd", "step"),
        ("sentences", "rnn", "adam", "plateau"),
    ],
)
def test_budget_stop_then_resume_equals_one_uninterrupted_run(
    corpus, tmp_path, scheme, cell, optimizer, schedule
):
    changes = {"scheme": scheme, "cell": cell, "optimizer": optimizer, "schedule": schedule}
    if scheme == "sentences":
        changes.update(level="word", preprocessing="raw", sample_prefix="The Time ")
    straight, _ = _run_with_budgets(corpus, tmp_path / "straight", [None], **changes)
    per_epoch = straight.tokens_seen // 2
    # Stopped inside epoch 1, then inside epoch 2, then run to the end.
    budgets = [per_epoch // 4, per_epoch + per_epoch // 2, None]
    stopped, stops = _run_with_budgets(corpus, tmp_path / "stopped", budgets, **changes)
    assert [epochs for epochs, _ in stops] == [0, 1, 2]
    assert stops[0][1] > 0 and stops[1][1] > 0 and stops[2][1] == 0
    assert stopped.tokens_seen == straight.tokens_seen and stopped.epoch == 2
    for name, array in straight.model.state_dict().items():
        np.testing.assert_array_equal(stopped.model.state_dict()[name], array, err_msg=name)
    for key in ("epoch", "train_perplexity", "valid_perplexity", "lr"):
        assert [r[key] for r in stopped.result.history] == [r[key] for r in straight.result.history]
    assert load_checkpoint(tmp_path / "stopped" / CHECKPOINT)["partial_epoch"] is None


def test_budget_stop_inside_an_epoch_is_saved_as_partial_and_says_so(corpus, tmp_path):
    lines = []
    config = small_config(corpus, tmp_path / "run", epochs=3, max_tokens=300)
    trainer = Trainer(config, log=lines.append)
    result = trainer.run()
    assert trainer.epoch == 0 and trainer.tokens_seen == 320  # 10 batches of 4 x 8
    record = result.history[-1]
    count = len(trainer.batches)
    assert (record["epoch"], record["partial"], record["batches"]) == (1, True, 10)
    assert record["epoch_batches"] == count
    assert lines[-2].startswith(f"epoch 1/3, 10 of {count} batches  train ppl ")
    assert lines[-1] == (
        "stopped after 320 tokens (--max-tokens 300), 10 batches into epoch 1; "
        "--resume with a larger --max-tokens continues it"
    )
    ckpt = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    assert ckpt["epoch"] == 0 and ckpt["partial_epoch"]["batches"] == 10
    metrics = [json.loads(line) for line in (tmp_path / "run" / METRICS).read_text().splitlines()]
    assert metrics == [json.loads(json.dumps(record))]

    lines.clear()
    resumed = Trainer(small_config(corpus, tmp_path / "run", epochs=3), log=lines.append)
    resumed.resume()
    assert lines == [f"resumed from {tmp_path / 'run' / CHECKPOINT} after batch 10 of epoch 1"]
    assert resumed.epoch == 0 and resumed.result.history == []


def test_interrupt_after_resuming_a_stopped_epoch_names_the_saved_position(
    corpus, tmp_path, monkeypatch
):
    Trainer(small_config(corpus, tmp_path / "run", max_tokens=300), log=quiet).run()
    lines = []
    resumed = Trainer(small_config(corpus, tmp_path / "run"), log=lines.append)
    resumed.resume()
    interrupt_at_step(resumed, monkeypatch, 3)
    assert resumed.run().interrupted
    assert lines[-1].endswith(
        "keeps the state after batch 10 of epoch 1; --resume continues epoch 1 from batch 11"
    )


def test_checkpoint_without_a_partial_epoch_field_resumes_as_before(corpus, tmp_path):
    # Checkpoints written before partial epochs were saved have no such field.
    straight = Trainer(small_config(corpus, tmp_path / "straight", epochs=2), log=quiet)
    straight.run()
    Trainer(small_config(corpus, tmp_path / "run", epochs=1), log=quiet).run()
    old = load_checkpoint(tmp_path / "run" / CHECKPOINT)
    del old["partial_epoch"]
    save(old, tmp_path / "run" / CHECKPOINT)
    resumed = Trainer(small_config(corpus, tmp_path / "run", epochs=2), log=quiet)
    resumed.resume()
    resumed.run()
    for name, array in straight.model.state_dict().items():
        np.testing.assert_array_equal(resumed.model.state_dict()[name], array, err_msg=name)


def test_resume_from_a_loaded_checkpoint_does_not_read_the_file(corpus, tmp_path):
    Trainer(small_config(corpus, tmp_path / "run", epochs=1), log=quiet).run()
    path = tmp_path / "run" / CHECKPOINT
    ckpt = load_checkpoint(path)
    path.unlink()
    trainer = Trainer(small_config(corpus, tmp_path / "run"), log=quiet)
    trainer.resume(checkpoint=ckpt)
    assert trainer.epoch == 1
    other = Trainer(small_config(corpus, tmp_path / "other", hidden_size=12), log=quiet)
    with pytest.raises(TrainingError, match=r"hidden_size 16 \(not 12\)"):
        other.resume(path, checkpoint=ckpt)
    with pytest.raises(CheckpointError, match="not a retrograd language-model checkpoint"):
        trainer.resume(path, checkpoint={"model": {}})
