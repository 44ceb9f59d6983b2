"""`matrix_sum`: sums over one axis of a matrix, by BLAS for float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest

from retrograd.autograd.sums import matrix_sum


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16, np.int64])
@pytest.mark.parametrize("axis", [0, 1])
@pytest.mark.parametrize("shape", [(1120, 65), (3, 5), (0, 4), (4, 0)])
def test_matrix_sum_equals_numpy_sum(dtype, axis, shape):
    matrix = np.random.default_rng(0).uniform(-3, 3, shape).astype(dtype)
    expected = matrix.astype(np.float64).sum(axis=axis)
    total = matrix_sum(matrix, axis)
    assert total.dtype == matrix.sum(axis=axis).dtype and total.shape == expected.shape
    tolerance = {np.float16: 1e-2, np.float32: 1e-5}.get(dtype, 1e-12)
    np.testing.assert_allclose(total, expected, rtol=tolerance, atol=tolerance * shape[axis])


def test_matrix_sum_reads_views_and_propagates_non_finite_values():
    matrix = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(matrix_sum(matrix.T, 0), matrix.sum(axis=1))
    np.testing.assert_array_equal(matrix_sum(matrix[:, ::2], 1), [2.0, 10.0, 18.0])
    matrix[1, 2], matrix[2, 0] = np.inf, np.nan
    total = matrix_sum(matrix, 1)
    assert total[0] == 6.0 and total[1] == np.inf and np.isnan(total[2])
