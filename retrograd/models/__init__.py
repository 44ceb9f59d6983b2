"""Recurrent language models end to end: corpus, vocabulary, model, training, generation."""

from retrograd.models.checkpoints import model_from_checkpoint
from retrograd.models.classifier import SequenceClassifier
from retrograd.models.config import PRESETS, TrainConfig, TrainingError, preset
from retrograd.models.corpus import CorpusError, load_text
from retrograd.models.generation import generate, next_token_probabilities, sample_next, sample_text
from retrograd.models.language_model import RNNLanguageModel, detach_state, perplexity
from retrograd.models.training import Trainer, TrainResult
from retrograd.models.vocab import Vocab

__all__ = [
    "PRESETS",
    "CorpusError",
    "RNNLanguageModel",
    "SequenceClassifier",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingError",
    "Vocab",
    "detach_state",
    "generate",
    "load_text",
    "model_from_checkpoint",
    "next_token_probabilities",
    "perplexity",
    "preset",
    "sample_next",
    "sample_text",
]
