"""Optimizer behaviour checked against PyTorch's contract."""

import numpy as np

import retrograd as rg
from retrograd import optim


def test_zero_grad_keeping_arrays_zeroes_the_gradient_a_caller_holds():
    w = rg.tensor(np.ones((3, 2)), requires_grad=True)
    (w * w).sum().backward()
    held = w.grad
    optim.SGD([w], lr=0.1).zero_grad(set_to_none=False)
    assert w.grad is held
    np.testing.assert_array_equal(held, np.zeros((3, 2)))


def test_zero_grad_keeping_arrays_leaves_a_read_only_or_borrowed_gradient_untouched():
    shared = np.arange(6.0)
    frozen = np.ones(3)
    frozen.flags.writeable = False
    a = rg.tensor(np.ones(3), requires_grad=True)
    b = rg.tensor(np.ones(3), requires_grad=True)
    a.grad, b.grad = frozen, shared[:3]
    optim.SGD([a, b], lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(frozen, np.ones(3))
    np.testing.assert_array_equal(shared, np.arange(6.0))
    for p in (a, b):
        assert p.grad.flags.writeable and p.grad.dtype == np.float64
        np.testing.assert_array_equal(p.grad, np.zeros(3))


def test_zero_grad_keeping_arrays_after_a_broadcast_backward_gives_writable_zeros():
    b = rg.tensor(np.ones(3), requires_grad=True)
    (rg.tensor(np.ones((4, 3))) + b).sum().backward()
    optimizer = optim.SGD([b], lr=0.1)
    optimizer.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(b.grad, np.zeros(3))
    b.grad += 1.0
    optimizer.step()
    np.testing.assert_allclose(b.data, np.full(3, 0.9))
