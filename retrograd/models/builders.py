"""The parts of a training run a `TrainConfig` names: model, optimizer, learning-rate schedule."""

from __future__ import annotations

from typing import Any

import numpy as np

from retrograd import optim
from retrograd.models.config import TrainConfig
from retrograd.models.language_model import RNNLanguageModel
from retrograd.nn.init import d2l_normal_


def build_model(config: TrainConfig, vocab_size: int, rng: np.random.Generator) -> RNNLanguageModel:
    """A freshly initialised model of the configured shape, drawing its weights from `rng`."""
    model = RNNLanguageModel(
        vocab_size,
        config.hidden_size,
        config.cell,
        config.num_layers,
        config.embedding_dim,
        generator=rng,
        dtype=config.dtype,
    )
    if config.init == "d2l":
        d2l_normal_(model, generator=rng)
    return model


def build_optimizer(config: TrainConfig, model: RNNLanguageModel) -> optim.Optimizer:
    """SGD or Adam over the model's parameters at the configured learning rate."""
    if config.optimizer == "sgd":
        return optim.SGD(model.parameters(), lr=config.lr)
    return optim.Adam(model.parameters(), lr=config.lr)


def build_scheduler(config: TrainConfig, optimizer: optim.Optimizer) -> Any:
    """The configured learning-rate schedule for `optimizer`, or None for a constant rate."""
    if config.schedule == "step":
        return optim.lr_scheduler.StepLR(optimizer, step_size=max(config.epochs // 3, 1), gamma=0.5)
    if config.schedule == "plateau":
        # The rnn-from-scratch tutorial's rule: halve the rate when the loss stops falling.
        return optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=0)
    return None
