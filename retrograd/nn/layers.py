"""Basic layers: Linear, Embedding, LayerNorm, the activations, Softmax and LogSoftmax,
Flatten, Dropout and Identity.

Layers with parameters or randomness take `generator=` (a
`numpy.random.Generator` or an int seed; None draws a fresh seed from the
operating system) and `dtype=` (float32 by default). Initialisation follows
PyTorch, so a state dict trained here behaves the same there.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from retrograd.autograd import Tensor, as_generator
from retrograd.autograd.functional import is_integer
from retrograd.autograd.loss_arguments import check_bound
from retrograd.autograd.tensor import as_array
from retrograd.nn import functional as F
from retrograd.nn import init
from retrograd.nn.module import Module, Parameter

Seed = np.random.Generator | int | None


def as_input(x: Any) -> Tensor:
    """A module's input as a tensor: arrays and lists become constants (no gradient)."""
    return x if isinstance(x, Tensor) else Tensor(x)


def check_dtype(x: Tensor, weight: Tensor, layer: str, what: str = "input") -> None:
    """Refuse an input (or state, named by `what`) whose dtype differs from the parameters'.

    No silent float64 promotion.
    """
    if x.dtype != weight.dtype:
        # The input may have been a list (made float32 by as_input), which has no .astype.
        name = weight.dtype.name
        raise TypeError(
            f"{layer}: {what} dtype {x.dtype} does not match parameter dtype {name}; "
            f"pass the {what} as an array or tensor of dtype {name} (a list: "
            f"rg.tensor(data, dtype=np.{name}); an array or tensor: .astype({name!r})), "
            "or convert the module with .to()"
        )


def check_sizes(owner: str, **sizes: Any) -> None:
    """Refuse a size argument that is not a positive integer, naming `owner` (the layer or
    function) and the argument: NumPy's message, or a float cut silently, would not."""
    for name, value in sizes.items():
        if not is_integer(value):
            raise TypeError(f"{owner}: {name} must be a positive integer, got {value!r}")
        if value <= 0:
            raise ValueError(f"{owner}: {name} must be a positive integer, got {value}")


def parameter_dtype(dtype: Any, owner: str) -> np.dtype:
    """`dtype` as the floating NumPy dtype of `owner`'s parameters, or a TypeError naming
    `owner` and `dtype` (a parameter needs a gradient, so an integer dtype cannot be one)."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{owner}: dtype {dtype!r} is not a NumPy dtype") from None
    if resolved.kind != "f":
        raise TypeError(
            f"{owner}: dtype must be floating (float32 or float64), got {resolved}; "
            "parameters need gradients"
        )
    return resolved


def check_dims(owner: str, **dims: Any) -> None:
    """Refuse an axis argument (`dim`, `start_dim`...) that is not an integer, naming
    `owner` and the argument: None would silently mean every axis to the Tensor methods."""
    for name, value in dims.items():
        if not is_integer(value):
            raise TypeError(f"{owner}: {name} must be an integer (an axis), got {value!r}")


def check_dims_in_range(owner: str, ndim: int, **dims: int) -> None:
    """Refuse an axis argument out of range for an `ndim`-d input, naming `owner` and the
    argument as the user wrote it (`dim`, `start_dim`), not the Tensor method's `axis`.

    The range is PyTorch's: -ndim to ndim - 1, and 0 or -1 for a 0-d input.
    """
    span = max(ndim, 1)
    for name, value in dims.items():
        if not -span <= value < span:
            raise ValueError(
                f"{owner}: {name} {value} is out of range for a {ndim}-d input "
                f"(it takes {-span} to {span - 1})"
            )


class Linear(Module):
    """y = x W^T + b with W shaped (out_features, in_features), as torch.nn.Linear.

    Weight and bias start uniform(-1/sqrt(in_features), 1/sqrt(in_features)).
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        generator: Seed = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        check_sizes("Linear", in_features=in_features, out_features=out_features)
        dtype = parameter_dtype(dtype, "Linear")
        self.in_features = in_features
        self.out_features = out_features
        rng = as_generator(generator)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dtype))
        self.bias = Parameter(np.empty(out_features, dtype=dtype)) if bias else None
        bound = 1.0 / math.sqrt(in_features)
        init.uniform_(self.weight, -bound, bound, generator=rng)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound, generator=rng)

    def forward(self, x: Any) -> Tensor:
        x = as_input(x)
        check_dtype(x, self.weight, "Linear")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Embedding(Module):
    """A lookup table: integer indices of any shape -> rows of `weight` (num, dim).

    Rows start normal(0, 1) as PyTorch's. An index outside [0, num) raises an
    IndexError naming it. As in PyTorch, row `padding_idx` (negative counts
    from the end) starts at zeros and gets no gradient, so padding stays zero.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        generator: Seed = None,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        check_sizes("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        dtype = parameter_dtype(dtype, "Embedding")
        if padding_idx is not None:
            padding_idx = F.check_padding_idx(padding_idx, num_embeddings, "Embedding")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=dtype))
        init.normal_(self.weight, 0.0, 1.0, generator=as_generator(generator))
        if padding_idx is not None:
            self.weight.data[padding_idx] = 0

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding whose weight is a copy of the (num, dim) floating `embeddings`, in
        their dtype, as PyTorch's: frozen (the weight does not require grad) unless
        `freeze=False`. Row `padding_idx` keeps its values and gets no gradient."""
        array = as_array(embeddings)
        if array.ndim != 2 or 0 in array.shape:
            raise ValueError(
                "Embedding.from_pretrained(): embeddings must be 2-D (num_embeddings, "
                f"embedding_dim), neither of them 0, got shape {array.shape}"
            )
        if array.dtype.kind != "f":
            raise TypeError(
                f"Embedding.from_pretrained(): embeddings must be floating, got dtype {array.dtype}"
            )
        rows, cols = array.shape
        embedding = cls(rows, cols, padding_idx=padding_idx, generator=0, dtype=array.dtype)
        embedding.weight.data = array
        embedding.weight.requires_grad_(not freeze)
        return embedding

    def forward(self, indices: Any) -> Tensor:
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"


class Tanh(Module):
    """Elementwise tanh."""

    def forward(self, x: Any) -> Tensor:
        return as_input(x).tanh()


class Sigmoid(Module):
    """Elementwise logistic sigmoid (stable for large inputs)."""

    def forward(self, x: Any) -> Tensor:
        return as_input(x).sigmoid()


class ReLU(Module):
    """Elementwise max(x, 0)."""

    def forward(self, x: Any) -> Tensor:
        return as_input(x).relu()


class Identity(Module):
    """Returns its input (a placeholder where a layer is optional)."""

    def forward(self, x: Any) -> Any:
        return x


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p).

    Masks come from the layer's own generator, so a seeded model drops the
    same units on every run; in eval mode the layer is the identity.
    """

    def __init__(self, p: float = 0.5, generator: Seed = None) -> None:
        super().__init__()
        F.check_probability(p, "Dropout")
        self.p = p
        self.generator = as_generator(generator)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(as_input(x), self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class LayerNorm(Module):
    """Normalise over the trailing axes `normalized_shape` to mean 0 and variance 1 (the
    biased variance, plus `eps`), then scale by `weight` and shift by `bias`, as
    torch.nn.LayerNorm.

    With `elementwise_affine` the weight starts at ones and the bias at zeros (`bias=False`
    leaves the bias out); without it the layer has no parameters.
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        super().__init__()
        self.normalized_shape = F.check_normalized_shape(normalized_shape, "LayerNorm")
        self.eps = check_bound(eps, "LayerNorm", "eps", positive=False)
        dtype = parameter_dtype(dtype, "LayerNorm")
        self.elementwise_affine = elementwise_affine
        affine = elementwise_affine
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype)) if affine else None
        with_bias = affine and bias
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype)) if with_bias else None

    def forward(self, x: Any) -> Tensor:
        x = as_input(x)
        if self.weight is not None:
            check_dtype(x, self.weight, "LayerNorm")
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )


class Softmax(Module):
    """exp(x) normalised along `dim`, as torch.nn.Softmax: the axis must be given (PyTorch's
    implicit choice, deprecated there, is refused)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        check_dims("Softmax", dim=dim)
        self.dim = dim

    def forward(self, x: Any) -> Tensor:
        x = as_input(x)
        check_dims_in_range("Softmax", x.ndim, dim=self.dim)
        return x.softmax(self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along `dim` (x - logsumexp(x), never log(0)), as torch.nn.LogSoftmax."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        check_dims("LogSoftmax", dim=dim)
        self.dim = dim

    def forward(self, x: Any) -> Tensor:
        x = as_input(x)
        check_dims_in_range("LogSoftmax", x.ndim, dim=self.dim)
        return x.log_softmax(self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Flatten(Module):
    """Merge the axes from `start_dim` to `end_dim` into one, as torch.nn.Flatten: by
    default every axis but the first (the batch)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        check_dims("Flatten", start_dim=start_dim, end_dim=end_dim)
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Any) -> Tensor:
        x = as_input(x)
        check_dims_in_range("Flatten", x.ndim, start_dim=self.start_dim, end_dim=self.end_dim)
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
