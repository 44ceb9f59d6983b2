"""Neural-network layers on the engine: modules, layers, losses, initialisers, recurrent nets.

Every layer is composed from Tensor operations; none writes its own backward.
Names and conventions are PyTorch's, so models move there unchanged
(`to_torch_state_dict`).
"""

from retrograd.nn import functional, init
from retrograd.nn.activations import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    CosineSimilarity,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    Mish,
    PairwiseDistance,
    ReLU6,
    RMSNorm,
    SiLU,
    Softmin,
    Softplus,
    Softsign,
    Tanhshrink,
    Threshold,
    Unflatten,
)
from retrograd.nn.attention import MultiheadAttention
from retrograd.nn.cells import GRUCell, LSTMCell, RNNCell
from retrograd.nn.containers import ModuleList, Sequential
from retrograd.nn.dict_containers import ModuleDict, ParameterDict, ParameterList
from retrograd.nn.embedding_bag import EmbeddingBag
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
from retrograd.nn.normalization import BatchNorm1d
from retrograd.nn.params import functional_call
from retrograd.nn.recurrent import GRU, LSTM, RNN
from retrograd.nn.torch_compat import from_torch_state_dict, to_torch_state_dict
from retrograd.nn.utils import clip_grad_norm_, clip_grad_value_

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CELU",
    "CosineSimilarity",
    "CrossEntropyLoss",
    "Dropout",
    "ELU",
    "Embedding",
    "EmbeddingBag",
    "Flatten",
    "GELU",
    "GLU",
    "GRU",
    "GRUCell",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "HuberLoss",
    "Identity",
    "IncompatibleKeys",
    "L1Loss",
    "LSTM",
    "LSTMCell",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "MSELoss",
    "Mish",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MultiheadAttention",
    "NLLLoss",
    "PairwiseDistance",
    "Parameter",
    "ParameterDict",
    "ParameterList",
    "RMSNorm",
    "RNN",
    "RNNCell",
    "ReLU",
    "ReLU6",
    "SELU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softmin",
    "Softplus",
    "Softsign",
    "StateDictError",
    "Tanh",
    "Tanhshrink",
    "Threshold",
    "Unflatten",
    "clip_grad_norm_",
    "clip_grad_value_",
    "from_torch_state_dict",
    "functional",
    "functional_call",
    "init",
    "to_torch_state_dict",
]
