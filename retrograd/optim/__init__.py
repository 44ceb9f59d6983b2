"""Optimizers and learning-rate schedules with PyTorch's update rules and names."""

from retrograd.optim import lr_scheduler
from retrograd.optim.adaptive import Adagrad, Adam, AdamW, RMSprop
from retrograd.optim.optimizer import Optimizer
from retrograd.optim.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
