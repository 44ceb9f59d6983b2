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
        (["train", "--clip", "1", "--no-clip"], 2, "--no-clip: not allowed with argument --clip"),
        (["train", "--embedding-dim", "8", "--one-hot"], 2, "--one-hot: not allowed with"),
        (["train", "--resume", "--overwrite"], 2, "--overwrite: not allowed with"),
        (["graph", "--prefix", "time", "--output", "{missing}"], 2, "--prefix needs --checkpoint"),
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


def test_cli_graph_format_without_output_names_the_default_file_by_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "--format", "dot", "--steps", "2"]) == 0
    assert "t=1" in (tmp_path / "rnn_graph.dot").read_text()


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


def _error(capsys) -> str:
    """The one line a failed command wrote to stderr."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_cli_resume_without_a_checkpoint_says_there_is_none(corpus, tmp_path, capsys):
    out = tmp_path / "never-trained"
    assert main(["train", "--resume", "--corpus", str(corpus), "--out-dir", str(out)]) == 1
    assert _error(capsys) == (
        f"retrograd train: error: no checkpoint to resume at {out / 'checkpoint.ckpt'}: "
        "train without --resume first, or pass the --out-dir of the run to continue\n"
    )
    assert not out.exists()


def test_cli_resume_takes_the_settings_of_the_checkpoint(corpus, tmp_path, capsys):
    trainer = _trained(corpus, tmp_path, num_steps=8, cell="lstm", lr=0.01)
    out = str(trainer.out_dir)
    # No --corpus, --cell, --hidden-size...: the checkpoint has them.
    assert main(["train", "--resume", "--out-dir", out, "--epochs", "2", "--no-progress"]) == 0
    assert "resumed from" in capsys.readouterr().out
    ckpt = load(trainer.out_dir / "checkpoint.ckpt")
    assert ckpt["epoch"] == 2
    assert {k: ckpt["config"][k] for k in ("cell", "hidden_size", "num_steps", "lr")} == {
        "cell": "lstm", "hidden_size": 8, "num_steps": 8, "lr": 0.01,
    }  # fmt: skip


def test_cli_resume_refuses_flags_unlike_the_checkpoint_naming_both(corpus, tmp_path, capsys):
    out = str(_trained(corpus, tmp_path, num_steps=8).out_dir)
    args = ["train", "--resume", "--out-dir", out, "--epochs", "2", "--cell", "gru"]
    assert main([*args, "--hidden-size", "12", "--one-hot"]) == 1
    assert _error(capsys).startswith(
        "retrograd train: error: --hidden-size 12, --one-hot conflict with "
        f"{out}/checkpoint.ckpt, trained with --hidden-size 8, --embedding-dim 4; "
        "a resumed run keeps the settings it was trained with"
    )
    assert main(["train", "--resume", "--out-dir", out, "--preset", "d2l"]) == 1
    assert "--preset d2l (--max-corpus-tokens 10000, --cell rnn, " in _error(capsys)
    assert load(f"{out}/checkpoint.ckpt")["epoch"] == 1


def test_cli_resume_with_a_checkpoint_whose_corpus_moved_says_so(
    corpus, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    trainer = _trained("corpus.txt", tmp_path, num_steps=8)  # a path relative to tmp_path
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    checkpoint = str(trainer.result.checkpoint.resolve())
    assert main(["evaluate", "--checkpoint", checkpoint]) == 1
    assert (
        f"{checkpoint} was trained on the corpus corpus.txt, which is not a file "
        f"(seen from {elsewhere}); run evaluate where training ran" in _error(capsys)
    )
    out = str(trainer.out_dir.resolve())
    assert main(["train", "--resume", "--out-dir", out, "--epochs", "2"]) == 1
    assert "pass its location with --corpus" in _error(capsys)
    args = ["train", "--resume", "--out-dir", out, "--epochs", "2", "--corpus", str(corpus)]
    assert main([*args, "--no-progress"]) == 0


def test_cli_train_keeps_an_earlier_run_unless_told_to_overwrite(corpus, tmp_path, capsys):
    trainer = _trained(corpus, tmp_path, num_steps=8)
    checkpoint = trainer.out_dir / "checkpoint.ckpt"
    before = checkpoint.read_bytes()
    args = ["train", "--corpus", str(corpus), "--out-dir", str(trainer.out_dir), *SMALL]
    assert main([*args, "--epochs", "1"]) == 1
    assert _error(capsys) == (
        f"retrograd train: error: {checkpoint} holds the checkpoint of an earlier run: continue "
        "it with --resume, replace it with --overwrite, or pass another --out-dir\n"
    )
    assert checkpoint.read_bytes() == before
    assert main([*args, "--epochs", "1", "--overwrite"]) == 0
    assert load(checkpoint)["config"]["hidden_size"] == 16


def test_cli_graph_of_a_checkpoint_refuses_another_model_naming_its_own(corpus, tmp_path, capsys):
    checkpoint = str(_trained(corpus, tmp_path, num_steps=8, cell="lstm").result.checkpoint)
    output = str(tmp_path / "graph.dot")
    args = ["graph", "--checkpoint", checkpoint, "--output", output]
    assert main([*args, "--cell", "gru", "--hidden-size", "8"]) == 1
    assert _error(capsys).startswith(
        f"retrograd graph: error: --cell gru conflicts with {checkpoint}, a model with --cell lstm;"
    )
    assert main([*args, "--layers", "2", "--hidden-size", "5"]) == 1
    assert "--hidden-size 5 and --layers 2 conflict with" in _error(capsys)
    # Flags that agree with the checkpoint are accepted.
    assert main([*args, "--cell", "lstm", "--hidden-size", "8", "--layers", "1"]) == 0


@pytest.mark.parametrize(
    ("prefix", "steps", "drawn"),
    [("the time", None, 7), ("the time", 3, 3), ("the", 6, 6), ("t", None, 1)],
)
def test_cli_graph_of_a_checkpoint_unrolls_the_steps_asked(
    corpus, tmp_path, capsys, prefix, steps, drawn
):
    checkpoint = str(_trained(corpus, tmp_path, num_steps=8).result.checkpoint)
    output = tmp_path / "graph.dot"
    args = ["graph", "--checkpoint", checkpoint, "--prefix", prefix, "--output", str(output)]
    assert main([*args, *(["--steps", str(steps)] if steps else [])]) == 0
    text = output.read_text()
    assert f'"t={drawn - 1}"' in text and f'"t={drawn}"' not in text


def test_cli_resume_reads_the_checkpoint_once(corpus, tmp_path, capsys, monkeypatch):
    import retrograd.models.checkpoints as checkpoints

    out = str(_trained(corpus, tmp_path, num_steps=8).out_dir)
    reads = []
    honest = checkpoints.load
    monkeypatch.setattr(checkpoints, "load", lambda path: reads.append(path) or honest(path))
    assert main(["train", "--resume", "--out-dir", out, "--epochs", "2", "--no-progress"]) == 0
    assert len(reads) == 1 and "resumed from" in capsys.readouterr().out


def test_cli_budget_stop_inside_an_epoch_is_continued_by_resume(corpus, tmp_path, capsys):
    def train(*extra):
        args = ["train", "--corpus", str(corpus), *SMALL, "--out-dir", str(tmp_path / "b")]
        assert main([*args, "--epochs", "2", *extra]) == 0
        return capsys.readouterr().out

    common = ["--corpus", str(corpus), *SMALL, "--epochs", "2"]
    assert main(["train", *common, "--out-dir", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    stopped = train("--max-tokens", "300")
    assert (
        "stopped after 320 tokens (--max-tokens 300), 10 batches into epoch 1; "
        "--resume with a larger --max-tokens continues it" in stopped
    )
    resumed = train("--resume", "--max-tokens", "100000")
    assert "resumed from" in resumed and "after batch 10 of epoch 1" in resumed
    a = load(tmp_path / "a" / "checkpoint.ckpt")["model"]
    b = load(tmp_path / "b" / "checkpoint.ckpt")["model"]
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
