"""The example scripts do what they say."""

import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sequence_sign_classifier_reaches_95_percent():
    assert load_example("sequence_sign").train(seed=0, verbose=False) >= 0.95
