"""The activations and small layers (GELU, SiLU, the ELU family, the hard activations, GLU,
cosine similarity, distances, normalize, pad, RMSNorm) against torch in float64: values and
gradients, kinks included, every option, reprs and errors."""

from __future__ import annotations

import numpy as np
import pytest

import retrograd as rg
import retrograd.nn as nn
import retrograd.nn.functional as F
from retrograd.autograd.graph import ShapeError

RTOL = 1e-10
ATOL = 1e-12
# Kinks and bounds of every activation below, and values far out on both sides.
POINTS = [-50.0, -6.0, -3.0, -2.5, -1.0, -0.5, 0.0, 0.1, 0.5, 1.0, 2.0, 3.0, 5.9, 6.0, 7.0, 40.0]


# torch's hardsigmoid gradient is 1/6 rounded to float32 even in float64.
GRAD_RTOL = {"hardsigmoid": 1e-7, "Hardsigmoid": 1e-7}


def _compare(ours_fn, torch_fn, *arrays, grad_rtol: float = RTOL) -> None:
    """Values and the gradients of a weighted sum agree with torch's, for every input."""
    torch = pytest.importorskip("torch")
    ours_in = [rg.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    theirs_in = [torch.tensor(np.asarray(a, np.float64), requires_grad=True) for a in arrays]
    ours, theirs = ours_fn(*ours_in), torch_fn(*theirs_in)
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape and ours.dtype == np.float64
    np.testing.assert_allclose(ours.data, expected, rtol=RTOL, atol=ATOL)
    weights = np.linspace(-1.5, 2.0, ours.size).reshape(ours.shape)
    (ours * rg.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    for mine, reference in zip(ours_in, theirs_in):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=grad_rtol, atol=ATOL)


ELEMENTWISE = [
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("silu", {}),
    ("mish", {}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("elu", {}),
    ("elu", {"alpha": 2.0}),
    ("celu", {"alpha": 2.0}),
    ("celu", {"alpha": -0.5}),
    ("selu", {}),
    ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 6.0}),
    ("softplus", {"beta": -1.5, "threshold": 3.0}),
    ("logsigmoid", {}),
    ("hardtanh", {}),
    ("hardtanh", {"min_val": -3.0, "max_val": 2.0}),
    ("relu6", {}),
    ("hardsigmoid", {}),
    ("hardswish", {}),
    ("softsign", {}),
    ("tanhshrink", {}),
    ("threshold", {"threshold": 1.0, "value": -7.0}),
]


@pytest.mark.parametrize(("name", "options"), ELEMENTWISE)
def test_elementwise_activation_matches_torch_at_its_kinks(name, options):
    torch = pytest.importorskip("torch")
    theirs = getattr(torch.nn.functional, name)
    rtol = GRAD_RTOL.get(name, RTOL)
    ours = getattr(F, name)
    _compare(lambda x: ours(x, **options), lambda x: theirs(x, **options), POINTS, grad_rtol=rtol)


MODULES = [
    ("GELU", ("tanh",)),
    ("SiLU", ()),
    ("Mish", ()),
    ("LeakyReLU", (0.3,)),
    ("ELU", (0.7,)),
    ("CELU", (1.5,)),
    ("SELU", ()),
    ("Softplus", (3.0, 4.0)),
    ("LogSigmoid", ()),
    ("Hardtanh", (-2.0, 3.0)),
    ("ReLU6", ()),
    ("Hardsigmoid", ()),
    ("Hardswish", ()),
    ("Softsign", ()),
    ("Tanhshrink", ()),
    ("Threshold", (0.5, 9.0)),
    ("Softmin", (1,)),
    ("GLU", (0,)),
    ("Unflatten", (1, (2, 2))),
]


@pytest.mark.parametrize(("name", "args"), MODULES)
def test_module_matches_torch_in_values_gradients_and_repr(name, args):
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    _compare(ours, theirs, np.reshape(POINTS, (4, 4)), grad_rtol=GRAD_RTOL.get(name, RTOL))


def test_softmin_and_glu_along_each_dim():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 4, 6))
    for dim in (0, 1, -1):
        _compare(
            lambda a, d=dim: F.softmin(a, d), lambda a, d=dim: torch.nn.functional.softmin(a, d), x
        )
        _compare(lambda a, d=dim: F.glu(a, d), lambda a, d=dim: torch.nn.functional.glu(a, d), x)


def test_cosine_similarity_matches_torch_with_broadcasting():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((1, 3))
    _compare(F.cosine_similarity, torch.nn.functional.cosine_similarity, a, b)
    _compare(
        nn.CosineSimilarity(0), torch.nn.CosineSimilarity(0), a, rng.standard_normal(5)[:, None]
    )
    _compare(lambda x, y: F.cosine_similarity(x, y, -1), torch.cosine_similarity, a, b[0])


def test_cosine_similarity_gradient_below_eps_matches_torch():
    # torch floors each norm at eps without letting the floor change the gradient:
    # a vector shorter than eps still gets the norm's own gradient term.
    torch = pytest.importorskip("torch")
    short, other = [[0.003, 0.004], [0.02, -0.01]], [[1.0, 0.0], [0.5, 2.0]]

    def ours(a, b):
        return F.cosine_similarity(a, b, eps=0.1)

    def theirs(a, b):
        return torch.nn.functional.cosine_similarity(a, b, eps=0.1)

    _compare(ours, theirs, short, other)


def test_cosine_similarity_of_a_zero_vector_is_zero():
    zero, other = (
        rg.tensor([[0.0, 0.0]], dtype=np.float64),
        rg.tensor([[1.0, 2.0]], dtype=np.float64),
    )
    np.testing.assert_array_equal(F.cosine_similarity(zero, other).data, [0.0])


@pytest.mark.parametrize(
    ("p", "keepdim"), [(2.0, False), (1.0, True), (3.0, False), (np.inf, True)]
)
def test_pairwise_distance_matches_torch(p, keepdim):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    _compare(
        nn.PairwiseDistance(p, 1e-6, keepdim), torch.nn.PairwiseDistance(p, 1e-6, keepdim), a, b
    )
    _compare(
        lambda x, y: F.pairwise_distance(x, y, p, keepdim=keepdim),
        lambda x, y: torch.nn.functional.pairwise_distance(x, y, p, keepdim=keepdim),
        a,
        a,  # equal inputs: eps keeps the gradient finite
    )


@pytest.mark.parametrize(("p", "dim"), [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize_matches_torch(p, dim):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((3, 4))
    _compare(
        lambda a: F.normalize(a, p, dim),
        lambda a: torch.nn.functional.normalize(a, p, dim),
        x,
    )


@pytest.mark.parametrize("pad", [(1, 2), (0, 0, 2, 1), (-1, 2), (1, -2, -1, 0), (2, 0, 0, 1, 1, 1)])
def test_constant_pad_matches_torch(pad):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    _compare(
        lambda a: F.pad(a, pad, value=1.5),
        lambda a: torch.nn.functional.pad(a, pad, value=1.5),
        x,
    )


def test_pad_errors_name_the_problem():
    x = rg.zeros((2, 3))
    with pytest.raises(NotImplementedError, match="mode 'wrap'"):
        F.pad(x, (1, 1), mode="wrap")
    with pytest.raises(ValueError, match="even length"):
        F.pad(x, (1, 1, 1))
    with pytest.raises(ValueError, match="more than the input's 2 axes"):
        F.pad(x, (1, 1, 1, 1, 1, 1))
    with pytest.raises(ValueError, match="axis 1 of length 3"):
        F.pad(x, (-2, -2))
    with pytest.raises(TypeError, match="sequence of integers"):
        F.pad(x, 2)


@pytest.mark.parametrize(
    ("shape", "eps", "affine"), [(4, None, True), ((3, 4), 1e-3, True), (4, 0.5, False)]
)
def test_rms_norm_matches_torch(shape, eps, affine):
    torch = pytest.importorskip("torch")
    ours = nn.RMSNorm(shape, eps, affine, dtype=np.float64)
    theirs = torch.nn.RMSNorm(shape, eps, affine, dtype=torch.float64)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if affine:
        weight = np.linspace(0.5, 2.0, ours.weight.size).reshape(ours.weight.shape)
        ours.weight.data[...] = weight
        theirs.weight.data = torch.tensor(weight)
    x = np.random.default_rng(5).standard_normal((2, 3, 4)) * 1e-3
    _compare(ours, theirs, x)
    if affine:
        ours.zero_grad()
        theirs.zero_grad()
        (ours(rg.tensor(x)) ** 2).sum().backward()
        (theirs(torch.tensor(x)) ** 2).sum().backward()
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=RTOL)


def test_rms_norm_default_eps_is_the_dtype_epsilon():
    torch = pytest.importorskip("torch")
    x = np.full((2, 3), 1e-9, np.float32)
    ours = F.rms_norm(rg.tensor(x), (3,)).data
    theirs = torch.nn.functional.rms_norm(torch.tensor(x), (3,)).numpy()
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_float32_stays_float32():
    x = rg.tensor(np.linspace(-3, 3, 7, dtype=np.float32))
    for name, options in ELEMENTWISE:
        assert getattr(F, name)(x, **options).dtype == np.float32, name


def test_no_overflow_warning_far_out():
    x = rg.tensor([-1000.0, 1000.0], dtype=np.float64, requires_grad=True)
    for name in ("mish", "elu", "selu", "celu", "softplus", "logsigmoid", "silu", "gelu"):
        getattr(F, name)(x).sum().backward()  # a RuntimeWarning fails the test
        assert np.isfinite(x.grad).all(), name
        x.grad = None


def test_option_errors_name_the_problem():
    x = rg.zeros((2, 3))
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="celu\\(\\): alpha must not be 0"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match="CELU: alpha must not be 0"):
        nn.CELU(0)
    with pytest.raises(ValueError, match="beta must not be 0"):
        nn.Softplus(0)
    with pytest.raises(ValueError, match="min_val 2.0 is above max_val 1.0"):
        nn.Hardtanh(2.0, 1.0)
    with pytest.raises(TypeError, match="LeakyReLU: negative_slope must be a number"):
        nn.LeakyReLU("0.1")
    with pytest.raises(ShapeError, match="dimension 1 must have an even length"):
        F.glu(x, 1)
    with pytest.raises(ValueError, match="softmin\\(\\): dim 2 is out of range"):
        F.softmin(x, 2)
    with pytest.raises(TypeError, match="Softmin: dim must be an integer"):
        nn.Softmin(None)
    with pytest.raises(ShapeError, match="do not broadcast"):
        F.cosine_similarity(x, rg.zeros((2, 4)))
    with pytest.raises(ShapeError, match="does not end in normalized_shape"):
        F.rms_norm(x, (2,))


def test_module_options_are_attributes_as_in_torch():
    assert nn.LeakyReLU(0.2).negative_slope == 0.2
    assert nn.Softplus(2, 5).beta == 2.0 and nn.Softplus(2, 5).threshold == 5.0
    assert nn.Hardtanh().min_val == -1.0 and nn.GLU(1).dim == 1
    assert nn.Identity()(3) == 3


def test_a_star_import_of_functional_takes_the_functions_of_its_companion_files():
    """`from retrograd.nn.functional import *` gives the activations, attention, batch norm
    and bags too, which live in their own files; every name in __all__ exists."""
    names: dict = {}
    exec("from retrograd.nn.functional import *", names)
    for name in ("gelu", "pad", "scaled_dot_product_attention", "batch_norm", "embedding_bag"):
        assert name in names
    assert all(hasattr(F, name) for name in F.__all__)
