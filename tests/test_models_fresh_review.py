"""Language models and the command line as a demanding user meets them: a run's directory
given as its checkpoint, a vocabulary moved between machines, empty path flags."""

import os
import subprocess
import sys

import pytest

from retrograd.cli import main
from retrograd.models import TrainConfig, Trainer, Vocab
from retrograd.models.checkpoints import load_checkpoint, model_from_checkpoint

TEXT = "the time traveller smiled round at us. then he said that time is only a kind of space. "


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny trained run: its directory, holding checkpoint.ckpt."""
    tmp = tmp_path_factory.mktemp("fresh")
    corpus = tmp / "corpus.txt"
    corpus.write_text(TEXT * 4)
    config = TrainConfig(
        corpus=str(corpus),
        hidden_size=4,
        embedding_dim=3,
        batch_size=2,
        num_steps=5,
        epochs=1,
        sample_every=0,
        out_dir=str(tmp / "run"),
        progress=False,
    )
    Trainer(config, log=lambda line: None).run()
    return tmp / "run"


def _error(capsys) -> str:
    return capsys.readouterr().err


def test_run_directory_given_as_checkpoint_names_the_checkpoint_inside(run_dir, capsys):
    with pytest.raises(IsADirectoryError, match="Is a directory, not a checkpoint file"):
        load_checkpoint(run_dir)
    with pytest.raises(IsADirectoryError, match=f"its run's checkpoint is {run_dir}/checkpoint"):
        model_from_checkpoint(run_dir)
    for command in ("generate", "evaluate"):
        assert main([command, "--checkpoint", str(run_dir)]) == 1
        message = _error(capsys)
        assert f"checkpoint is {run_dir / 'checkpoint.ckpt'}" in message
        assert "Errno" not in message


def test_directory_without_a_checkpoint_is_named_as_a_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"Is a directory, not a checkpoint file$"):
        load_checkpoint(tmp_path)


LOCALE_ASCII = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0"}
LOCALE_ASCII["PYTHONUTF8"] = "0"


def _in_ascii_locale(code: str, *args: str) -> subprocess.CompletedProcess:
    """Run Python code where the locale's encoding is ASCII (as on a bare C locale)."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=LOCALE_ASCII, capture_output=True, text=True
    )


def test_vocab_file_does_not_depend_on_the_locale(tmp_path):
    saved_here, saved_there = tmp_path / "here.json", tmp_path / "there.json"
    Vocab(list("café naïve")).save(saved_here)
    code = (
        "import sys; from retrograd.models import Vocab; "
        "v = Vocab.load(sys.argv[1]); v.save(sys.argv[2]); print(ascii(v.itos))"
    )
    done = _in_ascii_locale(code, str(saved_here), str(saved_there))
    assert done.returncode == 0, done.stderr
    assert "'\\xe9'" in done.stdout and "'\\xef'" in done.stdout
    assert Vocab.load(saved_there).itos == Vocab.load(saved_here).itos


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--corpus", ""], "argument --corpus: must name a file, got an empty name"),
        (["train", "--out-dir", ""], "argument --out-dir: must name a directory"),
        (["generate", "--checkpoint", ""], "argument --checkpoint: must name a file"),
        (["evaluate", "--checkpoint", "{ckpt}", "--corpus", ""], "argument --corpus: must name"),
        (["graph", "--checkpoint", "", "--output", "g.dot"], "argument --checkpoint: must name"),
    ],
)
def test_cli_empty_path_is_a_usage_error(run_dir, tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    args = [a.format(ckpt=run_dir / "checkpoint.ckpt") for a in args]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert message in _error(capsys)
    assert not capsys.readouterr().out and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("field", "message"),
    [("out_dir", "out_dir must name a directory"), ("corpus", "corpus must name a file")],
)
def test_config_refuses_an_empty_path(field, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: ""})


def test_evaluate_on_another_text_says_how_many_tokens_are_unknown(run_dir, tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text("zebra quiz " * 6)  # z, b, q: letters the training text lacks
    checkpoint = str(run_dir / "checkpoint.ckpt")
    assert main(["evaluate", "--checkpoint", checkpoint, "--corpus", str(other)]) == 0
    captured = capsys.readouterr()
    assert "perplexity on" in captured.out
    # 65 characters make 12 windows of 5 steps: the targets are characters 1 to 60.
    targets = ("zebra quiz " * 6).strip()[1:61]
    unknown = sum(c in "zbq" for c in targets)
    assert (
        f"retrograd evaluate: warning: {unknown} of the 60 tokens measured in {other} are not "
        "in the model's vocabulary: the perplexity scores them as <unk>"
    ) in captured.err
    same_text = str(run_dir.parent / "corpus.txt")
    assert main(["evaluate", "--checkpoint", checkpoint, "--corpus", same_text]) == 0
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "path, error, message",
    [
        (3, TypeError, r"^load\(\): path must be a str, bytes or os.PathLike, got int$"),
        ("", ValueError, r"^load\(\): path is empty$"),
    ],
)
def test_load_checkpoint_names_a_path_that_is_not_one(path, error, message):
    # An empty path is not the current directory, and an int is no path at all.
    with pytest.raises(error, match=message):
        load_checkpoint(path)
