"""Neural-network layers on the engine: modules, layers, losses, initialisers, recurrent nets.

Every layer is composed from Tensor operations; none writes its own backward.
Names and conventions are PyTorch's, so models move there unchanged
(`to_torch_state_dict`).
"""

from retrograd.nn import functional, init
from retrograd.nn.cells import GRUCell, LSTMCell, RNNCell
from retrograd.nn.containers import ModuleList, Sequential
from retrograd.nn.layers import Dropout, Embedding, Identity, Linear, ReLU, Sigmoid, Tanh
from retrograd.nn.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, NLLLoss
from retrograd.nn.module import IncompatibleKeys, Module, Parameter, StateDictError
from retrograd.nn.params import functional_call
from retrograd.nn.recurrent import GRU, LSTM, RNN
from retrograd.nn.torch_compat import from_torch_state_dict, to_torch_state_dict
from retrograd.nn.utils import clip_grad_norm_, clip_grad_value_

__all__ = [
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "GRU",
    "GRUCell",
    "Identity",
    "IncompatibleKeys",
    "LSTM",
    "LSTMCell",
    "Linear",
    "MSELoss",
    "Module",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "RNN",
    "RNNCell",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "StateDictError",
    "Tanh",
    "clip_grad_norm_",
    "clip_grad_value_",
    "from_torch_state_dict",
    "functional",
    "functional_call",
    "init",
    "to_torch_state_dict",
]
