"""retrograd.testing as a user drives it: misused options are refused before any example runs."""

from __future__ import annotations

import pytest

from retrograd.testing import assert_gradients


def _never_called(x):
    raise AssertionError("assert_gradients ran fn although its options were wrong")


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        (
            {"atoll": 1e-3},
            TypeError,
            r"assert_gradients\(\): got an unexpected keyword argument 'atoll'; the gradcheck "
            "options are eps, atol",
        ),
        ({"atol": -1.0}, ValueError, r"gradcheck\(\): atol must be a finite number >= 0"),
        ({"eps": 0.0}, ValueError, r"gradcheck\(\): eps must be a finite number > 0"),
        ({"seed": "a"}, TypeError, r"gradcheck\(\): seed must be an integer >= 0"),
    ],
)
def test_assert_gradients_refuses_bad_options_before_any_example(options, error, match):
    with pytest.raises(error, match=match) as caught:
        assert_gradients(_never_called, shapes=[(2,)], max_examples=5, **options)
    # Not dressed up as a failing example: the options were wrong, not a gradient.
    assert "Falsifying example" not in "".join(getattr(caught.value, "__notes__", []))


def test_assert_gradients_refuses_a_fn_that_is_not_callable():
    with pytest.raises(TypeError, match=r"gradcheck\(\): fn must be callable, got str") as caught:
        assert_gradients("tanh", shapes=[(2,)])
    assert "Falsifying example" not in "".join(getattr(caught.value, "__notes__", []))
