"""The `retrograd` command, run in a subprocess as users run it."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from retrograd.cli import main
from retrograd.models.config import TrainConfig
from retrograd.models.training import Trainer
from retrograd.serialization import load

TEXT = (
    "the time traveller smiled round at us. then, still smiling faintly, and with his hands "
    "deep in his trouser pockets, he walked slowly out of the room. "
) * 12
SMALL = [
    "--hidden-size",
    "16",
    "--embedding-dim",
    "8",
    "--batch-size",
    "4",
    "--num-steps",
    "8",
    "--sample-every",
    "0",
    "--no-progress",
]


def run(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "retrograd", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    return path


def test_cli_train_lowers_perplexity_then_generate_and_evaluate(corpus, tmp_path):
    out = tmp_path / "run"
    done = run(
        "train",
        "--corpus",
        str(corpus),
        "--epochs",
        "3",
        "--lr",
        "0.02",
        "--out-dir",
        str(out),
        *SMALL,
    )
    assert done.returncode == 0, done.stderr
    ppl = [
        float(line.split("train ppl ")[1].split()[0])
        for line in done.stdout.splitlines()
        if line.startswith("epoch")
    ]
    assert len(ppl) == 3 and ppl[-1] < ppl[0]
    assert "final sample: time traveller" in done.stdout

    gen = run(
        "generate",
        "--checkpoint",
        str(out / "checkpoint.ckpt"),
        "--prefix",
        "the ",
        "--length",
        "50",
        "--temperature",
        "0.8",
        "--seed",
        "1",
    )
    assert gen.returncode == 0, gen.stderr
    text = gen.stdout.rstrip("\n")
    assert text.startswith("the ") and len(text) == len("the ") + 50
    assert set(text) <= set(TEXT)

    ev = run("evaluate", "--checkpoint", str(out / "checkpoint.ckpt"))
    assert ev.returncode == 0 and "perplexity on validation split:" in ev.stdout


def test_cli_resume_is_exact(corpus, tmp_path):
    common = ["--corpus", str(corpus), *SMALL]
    assert run("train", *common, "--epochs", "2", "--out-dir", str(tmp_path / "a")).returncode == 0
    assert run("train", *common, "--epochs", "1", "--out-dir", str(tmp_path / "b")).returncode == 0
    resumed = run("train", *common, "--epochs", "2", "--out-dir", str(tmp_path / "b"), "--resume")
    assert resumed.returncode == 0 and "resumed from" in resumed.stdout
    a = load(tmp_path / "a" / "checkpoint.ckpt")["model"]
    b = load(tmp_path / "b" / "checkpoint.ckpt")["model"]
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def _trained(corpus, tmp_path, **settings) -> Trainer:
    """A Trainer that has run one epoch of a tiny model in process, with `settings`."""
    config = TrainConfig(
        corpus=str(corpus), hidden_size=8, embedding_dim=4, batch_size=4, epochs=1,
        sample_every=0, out_dir=str(tmp_path / "run"), progress=False, **settings,
    )  # fmt: skip
    trainer = Trainer(config, log=lambda line: None)
    trainer.run()
    return trainer


def test_cli_evaluate_measures_a_sentence_model_as_training_does(corpus, tmp_path, capsys):
    trainer = _trained(
        corpus, tmp_path, level="word", preprocessing="raw", scheme="sentences", valid_fraction=0.2
    )
    checkpoint = str(trainer.result.checkpoint)
    valid = trainer.result.history[-1]["valid_perplexity"]
    assert main(["evaluate", "--checkpoint", checkpoint]) == 0
    assert capsys.readouterr().out == f"perplexity on validation split: {valid:.3f}\n"
    assert main(["evaluate", "--checkpoint", checkpoint, "--corpus", str(corpus)]) == 0
    assert capsys.readouterr().out.startswith(f"perplexity on {corpus}: ")


def test_cli_warnings_are_one_line_naming_the_command(corpus, tmp_path, capsys):
    checkpoint = str(_trained(corpus, tmp_path, num_steps=8).result.checkpoint)
    args = ["generate", "--checkpoint", checkpoint, "--prefix", "the zq", "--length", "3"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert err == (
        "retrograd generate: warning: 2 token(s) not in the vocabulary map to <unk>: 'q', 'z'\n"
    )


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery")
def test_cli_ctrl_c_leaves_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "retrograd",
            "train",
            "--epochs",
            "50",
            "--out-dir",
            str(out),
            "--hidden-size",
            "32",
            "--sample-every",
            "0",
            "--no-progress",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 90
    while not (out / "checkpoint.ckpt").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "keeps the state after epoch" in stdout and "Traceback" not in stderr
    assert "final sample" not in stdout and "retrograd train: interrupted" in stderr
    assert load(out / "checkpoint.ckpt")["format"] == "retrograd-language-model"


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["train", "--corpus", "{missing}"], 1, "does not exist"),
        (["train", "--corpus", "{empty}"], 1, "is empty"),
        (["train", "--corpus", "{binary}"], 1, "looks binary"),
        (["train", "--corpus", "{tiny}"], 1, "shorter than one batch"),
        (["train", "--lr", "-1"], 1, "lr must be a finite number > 0"),
        (["train", "--hidden-size", "0"], 2, "must be a positive integer"),
        (["train", "--cell", "transformer"], 2, "invalid choice"),
        (["generate", "--checkpoint", "{empty}"], 1, "error"),
        (["generate", "--checkpoint", "{missing}"], 1, "No such file"),
        (["evaluate", "--checkpoint", "{binary}"], 1, "error"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_cli_bad_input_exits_cleanly(tmp_path, args, status, message):
    files = {
        "missing": tmp_path / "missing.txt",
        "empty": tmp_path / "empty.txt",
        "binary": tmp_path / "binary.bin",
        "tiny": tmp_path / "tiny.txt",
    }
    files["empty"].write_text("")
    files["binary"].write_bytes(bytes(range(256)))
    files["tiny"].write_text("just a few words")
    extra = ["--out-dir", str(tmp_path / "out")] if args[0] == "train" else []
    done = run(*[a.format(**files) for a in args], *extra)
    assert done.returncode == status, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_cli_graph_draws_one_cluster_per_time_step(tmp_path):
    done = run(
        "graph",
        "--cell",
        "gru",
        "--steps",
        "5",
        "--gradients",
        "--output",
        str(tmp_path / "rnn.dot"),
    )
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "rnn.dot").read_text()
    for t in range(5):
        assert f"t={t}" in text
    assert "t=5" not in text and "rnn.weight_hh_l0" in text


def test_cli_graph_of_a_trained_checkpoint_renders_svg(corpus, tmp_path):
    out = tmp_path / "run"
    assert (
        run(
            "train", "--corpus", str(corpus), "--epochs", "1", "--out-dir", str(out), *SMALL
        ).returncode
        == 0
    )
    done = run(
        "graph",
        "--checkpoint",
        str(out / "checkpoint.ckpt"),
        "--prefix",
        "the time",
        "--output",
        str(tmp_path / "trained.svg"),
        "--format",
        "svg",
    )
    if done.returncode != 0:
        assert "Graphviz" in done.stderr and (tmp_path / "trained.dot").exists()
        pytest.skip("no Graphviz to render SVG here")
    assert (tmp_path / "trained.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
