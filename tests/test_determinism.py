"""Determinism: a seed fixes every loss and every generated character, across processes, and the
package never touches NumPy's global random state.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "retrograd"

# One short training run and one sampled generation; prints every batch loss (as exact hex
# floats), a digest of the final parameters, the sampled text and whether NumPy's global
# random state was left untouched.
SCRIPT = """
import hashlib, json, sys
import numpy as np
from retrograd.models.config import TrainConfig
from retrograd.models.generation import sample_text
from retrograd.models.training import Trainer

corpus, out_dir, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
global_state = np.random.get_state()
config = TrainConfig(
    corpus=corpus, hidden_size=16, embedding_dim=8, batch_size=4, num_steps=8, epochs=2,
    scheme="random", seed=seed, sample_every=0, valid_fraction=0.1, out_dir=out_dir,
    progress=False,
)
trainer = Trainer(config, log=lambda line: None)
losses = []
honest_loss = trainer.model.loss

def recording_loss(logits, targets, ignore_index=-100):
    loss = honest_loss(logits, targets, ignore_index)
    losses.append(float(loss.item()).hex())
    return loss

trainer.model.loss = recording_loss
history = trainer.run().history
digest = hashlib.sha256()
for name, array in trainer.model.state_dict().items():
    digest.update(name.encode() + array.tobytes())
text = sample_text(trainer.model, trainer.vocab, config, "the ", 200, temperature=0.9, seed=seed)
after = np.random.get_state()
untouched = all(np.array_equal(a, b) for a, b in zip(global_state, after))
print(json.dumps({
    "losses": losses,
    "perplexities": [float(r["train_perplexity"]).hex() for r in history],
    "parameters": digest.hexdigest(),
    "text": text,
    "global_state_untouched": untouched,
}))
"""

TEXT = (
    "the time traveller smiled round at us. then, still smiling faintly, and with his hands "
    "deep in his trouser pockets, he walked slowly out of the room. "
) * 10


def _start(corpus: Path, out_dir: Path, seed: int, hash_seed: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(corpus), str(out_dir), str(seed)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _result(process: subprocess.Popen) -> dict:
    stdout, stderr = process.communicate(timeout=180)
    assert process.returncode == 0, stderr
    return json.loads(stdout)


def test_same_seed_gives_bit_identical_runs_across_processes(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT)
    # Two processes with the same seed (and different hash seeds), one with another seed.
    runs = [
        _start(corpus, tmp_path / "a", 7, "1"),
        _start(corpus, tmp_path / "b", 7, "2"),
        _start(corpus, tmp_path / "c", 8, "1"),
    ]
    first, second, other = (_result(p) for p in runs)
    assert len(first["losses"]) > 20 and len(first["text"]) == len("the ") + 200
    assert first == second
    assert first["global_state_untouched"]
    assert other["losses"] != first["losses"] and other["text"] != first["text"]


# ----- no global random state in the package -----
ALLOWED = {
    "default_rng",
    "Generator",
    "BitGenerator",
    "SeedSequence",
    "PCG64",
    "PCG64DXSM",
    "Philox",
    "SFC64",
    "MT19937",
}


def global_random_uses(source: str) -> list[str]:
    """Every use of numpy.random other than Generator construction, as 'line: text'.

    Follows `import numpy as <alias>`, `import numpy.random as <alias>`, `from numpy import
    random` and `from numpy.random import <name>`; a bare reference to the module counts too.
    """
    tree = ast.parse(source)
    numpy_names, random_names, problems = set(), set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "numpy":
                    numpy_names.add(alias.asname or "numpy")
                elif alias.name == "numpy.random":
                    (random_names if alias.asname else numpy_names).add(alias.asname or "numpy")
        elif isinstance(node, ast.ImportFrom) and node.module in ("numpy", "numpy.random"):
            for alias in node.names:
                if node.module == "numpy" and alias.name == "random":
                    random_names.add(alias.asname or "random")
                elif node.module == "numpy.random" and alias.name not in ALLOWED:
                    problems.append(f"{node.lineno}: from numpy.random import {alias.name}")
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        is_module = (
            isinstance(node, ast.Attribute)
            and node.attr == "random"
            and isinstance(node.value, ast.Name)
            and node.value.id in numpy_names
        ) or (isinstance(node, ast.Name) and node.id in random_names)
        if not is_module:
            continue
        parent = parents.get(node)
        used = parent.attr if isinstance(parent, ast.Attribute) and parent.value is node else None
        if used not in ALLOWED:
            problems.append(f"{node.lineno}: {ast.unparse(parent or node)}")
    return problems


@pytest.mark.parametrize(
    "source",
    [
        "import numpy as np\nnp.random.seed(0)",
        "import numpy as np\nx = np.random.rand(3)",
        "import numpy\nnumpy.random.shuffle(x)",
        "import numpy.random\nnumpy.random.permutation(4)",
        "import numpy.random as npr\nnpr.choice(3)",
        "from numpy import random\nrandom.randint(0, 3)",
        "from numpy import random as r\nr.randn(2)",
        "from numpy.random import randn",
        "import numpy as np\nstate = np.random",
        "import numpy as np\nnp.random.normal(size=3)",
    ],
)
def test_scanner_flags_global_random_state(source: str) -> None:
    assert global_random_uses(source)


def test_scanner_allows_generators() -> None:
    source = (
        "import numpy as np\nfrom numpy.random import default_rng\n"
        "rng = np.random.default_rng(0)\ng: np.random.Generator = default_rng(1)\n"
        "rng.random(3)\nrng.choice(4)\nnp.random.SeedSequence(2)\n"
    )
    assert global_random_uses(source) == []


def test_package_never_uses_numpy_global_random_state() -> None:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 30
    problems = [
        f"{path.relative_to(PACKAGE.parent)}:{use}"
        for path in files
        for use in global_random_uses(path.read_text())
    ]
    assert problems == []


def test_scanner_reads_the_package_import_style() -> None:
    source = (PACKAGE / "autograd" / "creation.py").read_text()
    assert "np.random.default_rng(seed)" in source and global_random_uses(source) == []
    planted = source.replace("np.random.default_rng(seed)", "np.random.seed(seed)")
    assert global_random_uses(planted) == [f"{_line_of(planted, 'np.random.seed')}: np.random.seed"]


def _line_of(source: str, text: str) -> int:
    return next(n for n, line in enumerate(source.splitlines(), 1) if text in line)
