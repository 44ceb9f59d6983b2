"""Bad input across the public API names the problem: layers, models, generation, checkpoint
files and the command line. Each row gives the error type and the parts its message must hold.

The engine's own shape, axis and index errors are in tests/test_errors.py (whose `BadCall`
rows this file reuses) and the corpus and training-flag errors of the command line in
tests/test_cli.py; the rows here are the rest of the public surface.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

import retrograd as rg
from retrograd import nn, optim
from retrograd.autograd import ShapeError
from retrograd.cli import main
from retrograd.models.checkpoints import model_from_checkpoint
from retrograd.models.config import TrainConfig, TrainingError, preset
from retrograd.models.generation import generate, sample_next
from retrograd.models.language_model import RNNLanguageModel
from retrograd.models.training import Trainer
from retrograd.serialization import CheckpointError, save
from retrograd.testing import assert_gradients, tensors, values
from tests.test_errors import BadCall


def _x(*shape: int) -> rg.Tensor:
    return rg.zeros(*shape, requires_grad=True)


def _lm() -> RNNLanguageModel:
    return RNNLanguageModel(5, 4, generator=0)


def _tanh(x: rg.Tensor) -> rg.Tensor:
    return x.tanh()


BAD_CALLS = [
    # wrong dtypes
    BadCall("astype_string", lambda: _x(2).astype(str), TypeError, ("astype", "<U")),
    BadCall("tensor_of_objects", lambda: rg.tensor([None, 1.0]), TypeError, ("numeric", "object")),
    BadCall("add_string", lambda: _x(2) + "a", TypeError, ("numeric", "<U1")),
    BadCall("backward_gradient_strings", lambda: (_x(2) * 2.0).backward(np.array(["a", "b"])),
            TypeError, ("backward", "numbers", "<U1")),
    BadCall("sum_axis_float", lambda: _x(2, 3).sum(1.5), TypeError, ("sum", "axis", "1.5")),
    BadCall("embedding_float_indices", lambda: nn.Embedding(4, 2, generator=0)(np.array([0.5])),
            TypeError, ("embedding", "integers", "float64")),
    BadCall("module_to_int", lambda: nn.Linear(2, 2, generator=0).to(np.int32), TypeError,
            ("to()", "floating", "int32")),
    BadCall("lm_float_tokens", lambda: _lm()(np.zeros((1, 3))), ValueError,
            ("tokens", "integer", "float64", "(1, 3)")),
    # wrong shapes
    BadCall("rnn_cell_state", lambda: nn.RNNCell(3, 4, generator=0)(rg.zeros(2, 3), rg.zeros(2, 5)),
            ShapeError, ("RNNCell", "(2, 4)", "(2, 5)")),
    BadCall("lm_tokens_1d", lambda: _lm()(np.zeros(3, int)), ValueError,
            ("(batch, steps)", "(3,)")),
    BadCall("lm_state", lambda: _lm()(np.zeros((2, 3), int), rg.zeros(1, 3, 4)), ShapeError,
            ("h0", "(1, 2, 4)", "(1, 3, 4)")),
    BadCall("lm_loss_targets", lambda: _lm().loss(_lm()(np.zeros((2, 3), int))[0],
                                                   np.zeros((2, 4), int)),
            ShapeError, ("cross_entropy", "(8,)")),
    BadCall("where_condition_shape", lambda: rg.where(np.ones(3, bool), _x(2), _x(2)), ShapeError,
            ("where", "(3,)", "(2,)")),
    BadCall("max_of_empty", lambda: _x(0).max(), ShapeError, ("max", "empty")),
    # axes and indices out of range
    BadCall("transpose_axis", lambda: _x(2, 3).transpose(0, 5), ValueError,
            ("transpose", "axis 5", "2-d")),
    BadCall("softmax_axis", lambda: _x(2, 3).softmax(5), ValueError, ("axis 5", "2-d")),
    BadCall("permute_axis", lambda: _x(2, 3).permute(0, -5), ShapeError, ("permute", "-5")),
    BadCall("stack_axis", lambda: rg.stack([_x(2), _x(2)], axis=5), ShapeError,
            ("stack", "axis 5")),
    BadCall("getitem_float", lambda: _x(2, 3)[1.5], IndexError, ("getitem", "1.5", "(2, 3)")),
    BadCall("getitem_mask_shape", lambda: _x(2, 3)[np.array([True, False, True])], IndexError,
            ("getitem", "(2, 3)", "boolean")),
    BadCall("lm_token_range", lambda: generate(_lm(), [9], 3), IndexError,
            ("token id 9", "vocabulary of 5")),
    # bad argument values
    BadCall("arange_zero_step", lambda: rg.arange(0, 3, 0), ValueError, ("arange", "step")),
    BadCall("lm_vocab_size", lambda: RNNLanguageModel(1, 4), ValueError, ("vocab_size >= 2", "1")),
    BadCall("lm_cell", lambda: RNNLanguageModel(5, 4, cell="transformer"), ValueError,
            ("cell", "'transformer'")),
    BadCall("generate_empty_prefix", lambda: generate(_lm(), [], 3), ValueError,
            ("generate", "prefix")),
    BadCall("generate_negative_length", lambda: generate(_lm(), [1], -3), ValueError,
            ("generate", "length", "-3")),
    BadCall("generate_top_k", lambda: generate(_lm(), [1], 3, 1.0, top_k=0, generator=0),
            ValueError, ("top_k", "0")),
    BadCall("generate_float_length", lambda: generate(_lm(), [1], 2.0), TypeError,
            ("generate", "length", "2.0")),
    BadCall("generate_bool_length", lambda: generate(_lm(), [1], True), TypeError,
            ("generate", "length", "True")),
    BadCall("generate_float_top_k", lambda: generate(_lm(), [1], 3, 1.0, top_k=2.0, generator=0),
            TypeError, ("top_k", "2.0")),
    BadCall("sample_next_string_top_k", lambda: sample_next(np.zeros(3), 1.0, top_k="2"),
            TypeError, ("top_k", "'2'")),
    BadCall("generate_nan_temperature", lambda: generate(_lm(), [1], 3, float("nan"), generator=0),
            ValueError, ("generate(): temperature", "finite", "nan")),
    BadCall("sample_next_inf_temperature", lambda: sample_next(np.zeros(3), float("inf")),
            ValueError, ("temperature", "finite", "inf")),
    BadCall("config_inf_sample_temperature", lambda: TrainConfig(sample_temperature=float("inf")),
            ValueError, ("sample_temperature", "finite", "inf")),
    BadCall("unknown_preset", lambda: preset("nope"), ValueError, ("preset", "'nope'", "d2l")),
    BadCall("config_problems", lambda: TrainConfig(cell="cnn", batch_size=0), ValueError,
            ("cell", "'cnn'", "batch_size must be >= 1")),
    BadCall("adam_lr", lambda: optim.Adam([_x(2)], lr=-1.0), ValueError, ("Adam", "lr", "-1.0")),
    # retrograd.testing
    BadCall("assert_gradients_one_shape", lambda: assert_gradients(_tanh, shapes=(3,)), TypeError,
            ("assert_gradients()", "shapes must be a list of shapes", "(3,)")),
    BadCall("assert_gradients_empty_domain", lambda: assert_gradients(_tanh, [(3,)], domain=[]),
            ValueError, ("assert_gradients()", "domain is empty")),
    BadCall("assert_gradients_shapes_and_num_inputs",
            lambda: assert_gradients(_tanh, [(3,)], num_inputs=2), ValueError,
            ("assert_gradients()", "shapes or num_inputs, not both")),
    BadCall("assert_gradients_num_inputs", lambda: assert_gradients(_tanh, num_inputs=0),
            ValueError, ("num_inputs must be >= 1", "0")),
    BadCall("values_three_bounds", lambda: values((0.0, 1.0, 2.0)), TypeError,
            ("values()", "domain must be an interval (low, high)", "(0.0, 1.0, 2.0)")),
    BadCall("values_reversed", lambda: values((1.0, 0.0)), ValueError,
            ("(1, 0)", "low <= high")),
    BadCall("tensors_dtype", lambda: tensors((2,), dtype=np.int32), TypeError,
            ("tensors()", "float16, float32 or float64", "int32")),
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_CALLS, ids=lambda b: b.name)
def test_bad_api_call_raises_clear_error(bad: BadCall) -> None:
    with pytest.raises(bad.error) as info:
        bad.call()
    missing = [part for part in bad.message if part not in str(info.value)]
    assert not missing, f"message {str(info.value)!r} lacks {missing}"


def test_cast_to_integers_has_no_gradient() -> None:
    ids = (_x(3) + 1.5).astype(np.int64)
    assert ids.dtype == np.int64 and not ids.requires_grad and ids.grad_fn is None


# ----- checkpoint files -----
CORPUS = "the time traveller smiled round at us. " * 30
# A vocabulary of its own that still spells the sample prefix (no unknown-token warning).
OTHER_CORPUS = "zyx wvu tsr qpo nml kji hgf edc ba, zyx? " * 30


def _config(corpus: Path, out_dir: Path) -> TrainConfig:
    return TrainConfig(
        corpus=str(corpus), hidden_size=8, embedding_dim=4, batch_size=4, num_steps=8,
        epochs=1, sample_every=0, out_dir=str(out_dir), progress=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A trained checkpoint, a foreign one, a damaged one, two whose config does not fit,
    a directory and two corpora."""
    root = tmp_path_factory.mktemp("files")
    paths = {"corpus": root / "corpus.txt", "other_corpus": root / "other.txt"}
    paths["corpus"].write_text(CORPUS)
    paths["other_corpus"].write_text(OTHER_CORPUS)
    trainer = Trainer(_config(paths["corpus"], root / "run"), log=lambda line: None)
    paths["trained"] = trainer.run().checkpoint
    paths["foreign"] = root / "weights.ckpt"
    save({"weight": np.zeros((2, 2))}, paths["foreign"])
    paths["damaged"] = root / "damaged.ckpt"
    paths["damaged"].write_bytes(paths["trained"].read_bytes()[:-100])
    for name, change in (("mismatched", {"hidden_size": 12}), ("bad_config", {"cell": "cnn"})):
        ckpt = rg.load(paths["trained"])
        ckpt["config"].update(change)
        paths[name] = root / f"{name}.ckpt"
        save(ckpt, paths[name])
    paths["directory"] = root
    paths["empty_run"] = root / "empty_run"
    return paths


class BadFile(NamedTuple):
    name: str
    call: Callable[[dict[str, Path]], object]
    error: type[Exception]
    message: tuple[str, ...]


def _resume(files: dict[str, Path], corpus: str, checkpoint: str) -> None:
    trainer = Trainer(_config(files[corpus], files["empty_run"]), log=lambda line: None)
    trainer.resume(files[checkpoint])


BAD_FILES = [
    BadFile("foreign_checkpoint", lambda f: model_from_checkpoint(f["foreign"]), CheckpointError,
            ("weights.ckpt", "not a retrograd language-model checkpoint")),
    BadFile("damaged_checkpoint", lambda f: model_from_checkpoint(f["damaged"]), CheckpointError,
            ("damaged.ckpt", "truncated")),
    BadFile("weights_unlike_own_config", lambda f: model_from_checkpoint(f["mismatched"]),
            CheckpointError, ("mismatched.ckpt", "do not fit its own configuration",
                              "rnn.weight_hh_l0")),
    BadFile("invalid_config", lambda f: model_from_checkpoint(f["bad_config"]), CheckpointError,
            ("bad_config.ckpt", "invalid configuration", "'cnn'")),
    BadFile("directory_as_checkpoint", lambda f: model_from_checkpoint(f["directory"]), OSError,
            ("Is a directory",)),
    BadFile("resume_other_vocabulary", lambda f: _resume(f, "other_corpus", "trained"),
            TrainingError, ("checkpoint.ckpt", "vocabulary differs")),
    BadFile("resume_damaged", lambda f: _resume(f, "corpus", "damaged"), CheckpointError,
            ("damaged.ckpt",)),
    BadFile("weights_into_bigger_model",
            lambda f: RNNLanguageModel(19, 16, embedding_dim=4).load_state_dict(
                rg.load(f["trained"])["model"]),
            nn.StateDictError, ("head.weight", "in the state dict", "in the model")),
]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_FILES, ids=lambda b: b.name)
def test_bad_checkpoint_file_raises_clear_error(bad: BadFile, files: dict[str, Path]) -> None:
    with pytest.raises(bad.error) as info:
        bad.call(files)
    missing = [part for part in bad.message if part not in str(info.value)]
    assert not missing, f"message {str(info.value)!r} lacks {missing}"


# ----- command-line arguments (status 2: refused by the parser, 1: reported error) -----
BAD_ARGS = [
    (["generate"], 2, "required: --checkpoint"),
    (["generate", "--checkpoint", "{trained}", "--top-k", "0"], 2, "must be a positive integer"),
    (["generate", "--checkpoint", "{trained}", "--length", "-1"], 1, "--length must be >= 0"),
    (["generate", "--checkpoint", "{trained}", "--temperature", "-1"], 1, "--temperature"),
    (["generate", "--checkpoint", "{trained}", "--temperature", "nan"], 1,
     "--temperature must be a finite number >= 0, got nan"),
    (["generate", "--checkpoint", "{trained}", "--temperature", "inf"], 1, "got inf"),
    (["train", "--sample-temperature", "inf", "--out-dir", "{empty_run}"], 1,
     "sample_temperature must be a finite number >= 0, got inf"),
    (["generate", "--checkpoint", "{trained}", "--seed", "-1"], 1, "--seed must be >= 0, got -1"),
    (["train", "--seed", "-1", "--out-dir", "{empty_run}"], 1, "seed must be an integer >= 0"),
    (["generate", "--checkpoint", "{foreign}"], 1, "not a retrograd language-model checkpoint"),
    (["generate", "--checkpoint", "{damaged}"], 1, "damaged.ckpt"),
    (["generate", "--checkpoint", "{directory}"], 1, "Is a directory"),
    (["generate", "--checkpoint", "{mismatched}"], 1, "mismatched.ckpt: its weights do not fit"),
    (["evaluate", "--checkpoint", "{mismatched}"], 1, "mismatched.ckpt: its weights do not fit"),
    (["evaluate", "--checkpoint", "{foreign}"], 1, "not a retrograd language-model checkpoint"),
    (["evaluate", "--checkpoint", "{trained}", "--corpus", "{directory}/none.txt"], 1,
     "does not exist"),
    (["graph", "--checkpoint", "{foreign}"], 1, "not a retrograd language-model checkpoint"),
    (["graph", "--steps", "0"], 2, "must be a positive integer"),
    (["graph", "--format", "bmp"], 2, "invalid choice: 'bmp'"),
    (["train", "--preset", "nope"], 2, "invalid choice: 'nope'"),
    (["train", "--seed", "abc"], 2, "invalid int value: 'abc'"),
    (["train", "--clip", "0", "--out-dir", "{empty_run}"], 1, "clip must be a finite number > 0"),
    (["train", "--resume", "--corpus", "{corpus}", "--out-dir", "{empty_run}", "--batch-size",
      "4", "--num-steps", "8"], 1, "no checkpoint to resume at"),
    ([], 2, "required: command"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "status", "message"), BAD_ARGS, ids=lambda v: str(v))
def test_bad_cli_arguments_exit_with_a_one_line_error(
    args: list[str], status: int, message: str, files: dict[str, Path], capsys
) -> None:
    argv = [a.format(**files) for a in args]
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    stderr = capsys.readouterr().err
    assert code == status, stderr
    assert message in stderr and "Traceback" not in stderr
