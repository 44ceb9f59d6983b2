"""Training steps reuse the C heap's memory instead of faulting in fresh pages every step.

Each check runs in a new process: the heap's thresholds are process-wide and
only rise. With glibc's default (adaptive) thresholds, the first backward pass
raises them (`retrograd.autograd.heap`) and later steps fault on almost no
pages; a threshold fixed by the user (`MALLOC_TRIM_THRESHOLD_`) is kept, and
the heap then shrinks after each step as it did before.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the thresholds are glibc's",
)

STEPS = """
import resource
import numpy as np
from retrograd import optim
from retrograd.models.language_model import RNNLanguageModel, detach_state

model = RNNLanguageModel(65, 128, "rnn", embedding_dim=None, generator=0)
sgd = optim.SGD(model.parameters(), lr=0.1)
tokens = np.random.default_rng(0).integers(0, 65, (32, 36))
state = model.begin_state(32)
def step():
    global state
    logits, new_state = model(tokens[:, :-1], detach_state(state))
    sgd.zero_grad()
    model.loss(logits, tokens[:, 1:]).backward()
    sgd.step()
    state = new_state
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def faults_per_step(**env: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", STEPS],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout)


def test_training_steps_fault_on_few_pages() -> None:
    # One step's arrays span about 1.5 MiB: 390 pages when the heap gives them back.
    assert faults_per_step() < 40


def test_a_threshold_the_user_set_is_kept() -> None:
    assert faults_per_step(MALLOC_TRIM_THRESHOLD_="131072") > 200
