"""Neural-network layers on the engine: modules, layers, losses, initialisers, recurrent nets.

Every layer is composed from Tensor operations; none writes its own backward.
Names and conventions are PyTorch's, so models move there unchanged
(`to_torch_state_dict`).
"""

from retrograd.nn import functional, init
from retrograd.nn.cells import GRUCell, LSTMCell, RNNCell
from retrograd.nn.containers import ModuleList, Sequential
from retrograd.nn.dict_containers import ModuleDict, ParameterDict, ParameterList
from retrograd.nn.layers import (
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from retrograd.nn.losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from retrograd.nn.module import IncompatibleKeys, Module, Parameter, StateDictError
from retrograd.nn.params import functional_call
from retrograd.nn.recurrent import GRU, LSTM, RNN
from retrograd.nn.torch_compat import from_torch_state_dict, to_torch_state_dict
from retrograd.nn.utils import clip_grad_norm_, clip_grad_value_

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRU",
    "GRUCell",
    "HuberLoss",
    "Identity",
    "IncompatibleKeys",
    "L1Loss",
    "LSTM",
    "LSTMCell",
    "LayerNorm",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ParameterDict",
    "ParameterList",
    "RNN",
    "RNNCell",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
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
