"""PyTorch's linear algebra vocabulary (mm, bmm, mv, dot, outer, addmm, trace, einsum,
tensordot, matmul) against torch: values and gradients in float64, and the errors."""

import numpy as np
import pytest

import retrograd as rg
from retrograd.autograd import ShapeError

CASES = {
    "matmul_method": (lambda a, b: a.matmul(b), lambda th, a, b: a.matmul(b), [(2, 3, 4), (4, 5)]),
    "mm": (rg.mm, lambda th, a, b: th.mm(a, b), [(2, 3), (3, 4)]),
    "mm_method": (lambda a, b: a.mm(b), lambda th, a, b: a.mm(b), [(1, 3), (3, 1)]),
    "mm_empty": (rg.mm, lambda th, a, b: th.mm(a, b), [(2, 0), (0, 3)]),
    "bmm": (rg.bmm, lambda th, a, b: th.bmm(a, b), [(2, 3, 4), (2, 4, 5)]),
    "mv": (rg.mv, lambda th, a, b: th.mv(a, b), [(3, 4), (4,)]),
    "dot": (rg.dot, lambda th, a, b: th.dot(a, b), [(5,), (5,)]),
    "dot_method_empty": (lambda a, b: a.dot(b), lambda th, a, b: a.dot(b), [(0,), (0,)]),
    "outer": (rg.outer, lambda th, a, b: th.outer(a, b), [(3,), (4,)]),
    "addmm": (
        lambda x, a, b: rg.addmm(x, a, b, beta=0.5, alpha=-2.0),
        lambda th, x, a, b: th.addmm(x, a, b, beta=0.5, alpha=-2.0),
        [(4,), (3, 2), (2, 4)],
    ),
    "addmm_beta_zero": (
        lambda x, a, b: x.addmm(a, b, beta=0),
        lambda th, x, a, b: x.addmm(a, b, beta=0),
        [(3, 1), (3, 2), (2, 4)],
    ),
    "trace": (rg.trace, lambda th, a: th.trace(a), [(3, 3)]),
    "trace_wide": (lambda a: a.trace(), lambda th, a: a.trace(), [(2, 4)]),
    "trace_tall": (rg.trace, lambda th, a: th.trace(a), [(4, 2)]),
    "tensordot_int": (
        lambda a, b: rg.tensordot(a, b, 2),
        lambda th, a, b: th.tensordot(a, b, 2),
        [(2, 3, 4), (3, 4, 5)],
    ),
    "tensordot_zero": (
        lambda a, b: rg.tensordot(a, b, dims=0),
        lambda th, a, b: th.tensordot(a, b, dims=0),
        [(2,), (3,)],
    ),
    "tensordot_lists": (
        lambda a, b: rg.tensordot(a, b, dims=([-1, 0], [0, 2])),
        lambda th, a, b: th.tensordot(a, b, dims=([-1, 0], [0, 2])),
        [(2, 3, 4), (4, 5, 2)],
    ),
}

EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->ji", [(2, 2, 3)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 1)]),
    ("i,j->ij", [(3,), (2,)]),
    ("i,i->", [(4,), (4,)]),
    ("ij->", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ba", [(2, 3)]),
    ("Ba,aB", [(2, 3), (3, 2)]),
    ("...ij->...ji", [(2, 1, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("bi,...i->...", [(2, 3), (3,)]),
    ("...i->i", [(2, 3)]),
    ("i...->i", [(2, 3)]),
    ("...->", [(2, 3)]),
    ("ij,ij->ij", [(1, 3), (4, 3)]),
    ("bij,bkj", [(2, 3, 4), (1, 5, 4)]),
    ("bij,bjk->bik", [(1, 3, 4), (2, 4, 5)]),
    ("ijk,jl->il", [(2, 3, 4), (3, 5)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),
    ("->", [()]),
    (",ij->ij", [(), (2, 3)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
]


def _compare(fn, torch_fn, shapes, seed=0):
    """`fn` on float64 tensors against `torch_fn` on torch tensors: value and gradients."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = [rg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = fn(*ours), torch_fn(torch, *theirs)
    assert out.dtype == np.float64 and out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-10)
    weights = rng.standard_normal(out.shape)
    (out * weights).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    for mine, reference in zip(ours, theirs):
        assert mine.grad.shape == tuple(reference.shape)
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", CASES)
def test_linalg_method_matches_torch(name):
    fn, torch_fn, shapes = CASES[name]
    _compare(fn, torch_fn, shapes)


@pytest.mark.parametrize(("equation", "shapes"), EQUATIONS)
def test_einsum_matches_torch(equation, shapes):
    _compare(
        lambda *xs: rg.einsum(equation, *xs),
        lambda th, *xs: th.einsum(equation, *xs),
        shapes,
    )


def test_einsum_takes_a_list_of_operands():
    _compare(
        lambda a, b: rg.einsum("ij,jk->ik", [a, b]),
        lambda th, a, b: th.einsum("ij,jk->ik", [a, b]),
        [(2, 3), (3, 4)],
    )


def test_linalg_keeps_float32_and_integer_dtypes():
    a = rg.ones(2, 3)
    assert a.mm(rg.ones(3, 2)).dtype == np.float32
    assert rg.einsum("ij->j", a).dtype == np.float32
    assert rg.trace(a).dtype == np.float32
    assert rg.addmm(rg.zeros(2), a, a.T, beta=0.5, alpha=3).dtype == np.float32
    ints = rg.tensor([[1, 2], [3, 4]])
    assert rg.trace(ints).item() == 5 and rg.trace(ints).dtype.kind == "i"
    assert rg.dot(rg.tensor([1, 2]), rg.tensor([3, 4])).item() == 11


def test_addmm_beta_zero_ignores_nan_in_input():
    x = rg.tensor([[np.nan, np.inf]], requires_grad=True)
    out = rg.addmm(x, rg.ones(1, 3), rg.ones(3, 2), beta=0)
    assert np.array_equal(out.data, [[3.0, 3.0]])
    out.sum().backward()
    assert np.array_equal(x.grad, [[0.0, 0.0]])


def test_linalg_functions_take_arrays_as_constants():
    out = rg.mm(np.eye(2), rg.tensor([[1.0], [2.0]]))
    assert np.array_equal(out.data, [[1.0], [2.0]])
    assert rg.einsum("i,i", [1.0, 2.0], np.array([3.0, 4.0])).item() == 11.0


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: rg.mm(rg.ones(2, 3, 4), rg.ones(4, 2)), ShapeError, ["mm()", "input", "2-d"]),
        (lambda: rg.ones(2, 3).mm(rg.ones(3)), ShapeError, ["mm()", "mat2", "2-d", "(3,)"]),
        (lambda: rg.mm(rg.ones(2, 3), rg.ones(4, 2)), ShapeError, ["mm()", "(2, 3)", "(4, 2)"]),
        (lambda: rg.bmm(rg.ones(2, 3), rg.ones(3, 2)), ShapeError, ["bmm()", "input", "3-d"]),
        (lambda: rg.bmm(rg.ones(2, 3, 4), rg.ones(3, 4, 2)), ShapeError, ["bmm()", "batch"]),
        (lambda: rg.bmm(rg.ones(2, 3, 4), rg.ones(2, 3, 2)), ShapeError, ["bmm()", "4 and 3"]),
        (lambda: rg.mv(rg.ones(2, 3), rg.ones(2)), ShapeError, ["mv()", "(2, 3)", "(2,)"]),
        (lambda: rg.mv(rg.ones(2, 3), rg.ones(3, 1)), ShapeError, ["mv()", "vec", "1-d"]),
        (lambda: rg.dot(rg.ones(3), rg.ones(4)), ShapeError, ["dot()", "(3,)", "(4,)"]),
        (lambda: rg.dot(rg.ones(3, 1), rg.ones(3)), ShapeError, ["dot()", "input", "1-d"]),
        (lambda: rg.outer(rg.ones(3), rg.ones(2, 2)), ShapeError, ["outer()", "vec2", "1-d"]),
        (lambda: rg.trace(rg.ones(3)), ShapeError, ["trace()", "2-d", "(3,)"]),
        (lambda: rg.ones(2, 2).mm("ab"), TypeError, ["mm()", "mat2"]),
        (lambda: rg.mm("ab", rg.ones(2, 2)), TypeError, ["mm()", "input"]),
        (
            lambda: rg.addmm(rg.ones(3, 3), rg.ones(2, 2), rg.ones(2, 2)),
            ShapeError,
            ["addmm()", "(3, 3)", "(2, 2)"],
        ),
        (
            lambda: rg.addmm(rg.ones(2), rg.ones(2, 2), rg.ones(2, 2), beta="1"),
            TypeError,
            ["addmm()", "beta"],
        ),
        (lambda: rg.einsum("ij,jk", rg.ones(2, 3)), ValueError, ["einsum()", "2 operand", "1"]),
        (lambda: rg.einsum("ij", rg.ones(2, 3, 4)), ShapeError, ["einsum()", "'ij'", "(2, 3, 4)"]),
        (lambda: rg.einsum("ijk...", rg.ones(2, 3)), ShapeError, ["einsum()", "'ijk...'"]),
        (lambda: rg.einsum("ii", rg.ones(2, 3)), ShapeError, ["einsum()", "i", "repeated", "2"]),
        (
            lambda: rg.einsum("ij,jk", rg.ones(2, 3), rg.ones(4, 5)),
            ShapeError,
            ["einsum()", "subscript j", "size 4", "operand 1"],
        ),
        (lambda: rg.einsum("ij->ii", rg.ones(2, 2)), ValueError, ["einsum()", "i", "more than"]),
        (lambda: rg.einsum("ij->k", rg.ones(2, 2)), ValueError, ["einsum()", "k"]),
        (lambda: rg.einsum("i2", rg.ones(2, 2)), ValueError, ["einsum()", "'i2'", "letters"]),
        (lambda: rg.einsum("i.j", rg.ones(2, 2)), ValueError, ["einsum()", "'i.j'"]),
        (lambda: rg.einsum("i->i->i", rg.ones(2)), ValueError, ["einsum()", "'->'"]),
        (lambda: rg.einsum(3, rg.ones(2)), TypeError, ["einsum()", "equation", "str"]),
        (lambda: rg.einsum("i", "x"), TypeError, ["einsum()", "operand 0"]),
        (
            lambda: rg.tensordot(rg.ones(2, 3), rg.ones(2, 3), 1),
            ShapeError,
            ["tensordot()", "size 3", "size 2"],
        ),
        (lambda: rg.tensordot(rg.ones(2), rg.ones(2), 2), ValueError, ["tensordot()", "dims=2"]),
        (
            lambda: rg.tensordot(rg.ones(2), rg.ones(2), ([0, 0], [0])),
            ValueError,
            ["tensordot()", "same length"],
        ),
        (
            lambda: rg.tensordot(rg.ones(2), rg.ones(2), ([1], [0])),
            ValueError,
            ["tensordot()", "axis 1", "a, a 1-d"],
        ),
        (lambda: rg.tensordot(rg.ones(2), rg.ones(2), "x"), TypeError, ["tensordot()", "dims"]),
    ],
)
def test_linalg_errors_name_function_argument_and_shapes(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_einsum_is_one_node():
    a = rg.ones(2, 3, requires_grad=True)
    out = rg.einsum("ij,kj->ik", a, a)
    assert out.grad_fn.op.name == "einsum"
    assert out.grad_fn.parents == (a, a)
