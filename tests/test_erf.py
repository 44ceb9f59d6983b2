"""erf's forward: Cody's vectorized rational approximations against the C library's erf
(math.erf) on a million points, tails, subnormals, infinities and NaN, in float64 and
float32."""

from __future__ import annotations

import math

import numpy as np

import retrograd as rg

TINY = np.finfo(np.float64).smallest_subnormal


def _points() -> np.ndarray:
    """A million float64 points over every interval of the approximation and their edges."""
    rng = np.random.default_rng(0)
    edges = np.array([0.46875, 4.0, 5.93, 6.0, 26.5, 27.0, 1e300])
    edges = np.concatenate([edges, np.nextafter(edges, 0), np.nextafter(edges, np.inf)])
    edges = np.append(edges, np.finfo(np.float64).max)
    parts = [
        rng.uniform(-7.0, 7.0, 600_000),
        rng.standard_normal(200_000),
        rng.uniform(-0.5, 0.5, 100_000),
        np.geomspace(1e-300, 30.0, 49_000),
        np.geomspace(TINY, np.finfo(np.float64).tiny, 1_000),  # subnormals
        edges,
        [0.0, np.inf],
    ]
    half = np.concatenate([np.abs(np.concatenate(parts[3:])), -np.concatenate(parts[3:])])
    return np.concatenate([*parts[:3], half])


def _exact(x: np.ndarray) -> np.ndarray:
    return np.array([math.erf(v) for v in x.tolist()])


def test_erf_matches_the_c_library_to_1e_15_relative_on_a_million_points():
    x = _points()
    assert x.size >= 1_000_000
    ours, exact = rg.tensor(x).erf().data, _exact(x)
    assert ours.dtype == np.float64
    # Subnormal results carry few bits: within a few of the smallest subnormal there.
    np.testing.assert_allclose(ours, exact, rtol=1e-15, atol=4 * TINY)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(exact))  # -0.0 included


def test_erf_of_infinities_and_nan():
    ours = rg.tensor([np.inf, -np.inf, np.nan, -0.0]).erf().data
    np.testing.assert_array_equal(ours, [1.0, -1.0, np.nan, -0.0])
    assert np.signbit(ours[3])


def test_erf_keeps_float32_and_the_shape():
    x = np.random.default_rng(1).uniform(-5, 5, (70, 1000)).astype(np.float32).T  # F-ordered
    ours = rg.tensor(x).erf().data
    assert ours.dtype == np.float32 and ours.shape == (1000, 70)
    exact = _exact(x.astype(np.float64).ravel()).reshape(x.shape).astype(np.float32)
    np.testing.assert_array_equal(ours, exact)


def test_erf_of_a_scalar_and_of_an_empty_tensor():
    assert rg.tensor(0.5, dtype=np.float64).erf().item() == math.erf(0.5)
    assert rg.tensor(np.zeros((0, 3))).erf().shape == (0, 3)


def test_erf_gradient_is_unchanged():
    x = rg.tensor([-2.0, 0.0, 0.3, 5.0], requires_grad=True)
    x.erf().sum().backward()
    np.testing.assert_allclose(x.grad, 2 / math.sqrt(math.pi) * np.exp(-(x.data**2)), rtol=1e-15)
