"""Tensor's class layout: slotted with no instance dict, hashed by identity, its public
names importable from `retrograd.autograd.tensor` though its methods live in mixins."""

import numpy as np

import retrograd as rg


def test_tensor_has_no_instance_dict():
    leaf = rg.ones(1)
    made = rg.ones(2, requires_grad=True) * 2.0
    assert not hasattr(leaf, "__dict__") and not hasattr(made, "__dict__")
    assert not hasattr(rg.Tensor([1.0]), "__dict__")


def test_tensor_hash_is_identity_though_eq_is_elementwise():
    a, b = rg.tensor([1.0, 2.0]), rg.tensor([1.0, 2.0])
    assert (a == b).tolist() == [True, True]
    assert hash(a) == object.__hash__(a)
    assert len({a, b}) == 2 and {a: "a", b: "b"}[b] == "b"


def test_tensor_module_public_names_importable():
    from retrograd.autograd.tensor import DEFAULT_FLOAT, Tensor, as_array, nested_shape

    assert np.dtype(np.float32) == DEFAULT_FLOAT and Tensor is rg.Tensor
    assert as_array([1.0]).dtype == np.float32 and nested_shape([[1], [2]], "f") == (2, 1)
