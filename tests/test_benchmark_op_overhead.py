"""The per-op benchmark's floor engine computes real gradients, and only those that are needed."""

import numpy as np

from benchmarks.op_overhead import Bare, bare_backward


def test_the_floor_engine_sums_gradients_into_the_values_that_need_one():
    x, constant = Bare(np.ones(1), requires_grad=True), Bare(np.full(1, 3.0))
    y = x
    for _ in range(4):
        y = y + constant
    y = y + y  # a reused node: its gradient is the sum of both uses
    grads = bare_backward(y)
    np.testing.assert_array_equal(grads[id(x)], [2.0])
    assert id(constant) not in grads
    np.testing.assert_array_equal(y.data, [2 * (1 + 4 * 3.0)])
