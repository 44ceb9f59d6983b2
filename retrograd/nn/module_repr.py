"""Printing a `Module` as PyTorch does (`extra_repr` and the nested layout), a mixin."""

from __future__ import annotations


class ReprMethods:
    """The printing methods of `Module`: subclasses override `extra_repr`."""

    __slots__ = ()

    def extra_repr(self) -> str:
        """The constructor arguments shown inside the parentheses of `repr`."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout: a one-line `extra_repr` inside the parentheses when there are no
        sub-modules; otherwise its lines, then one line per sub-module, each indented."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + repr(module).replace("\n", "\n  ")
            for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        if len(extra_lines) == 1 and not child_lines:
            return f"{type(self).__name__}({extra})"
        if not lines:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"
