"""Keep a training step's freed memory for the next step: raise the C heap's trim threshold.

glibc's malloc hands the free top of its heap back to the system once more
than its trim threshold lies there. The threshold starts at 128 KiB and
follows the largest block freed with munmap (twice its size, for blocks
up to 32 MiB). A training step frees its arrays when it ends, so with a
few MiB per step the heap shrinks after every step and the next step
faults on every page it writes again: 390 page faults per step for the
small benchmark (a tenth of its time) and 830 for d2l's, against none for
the hand-written NumPy step.

Allocating and freeing one untouched 16 MiB block raises the thresholds as
such an array would (to 16 MiB for mmap, 32 MiB for trimming), at the cost
of one mmap and one munmap. The heap may then keep up to 32 MiB of freed
memory. A threshold the user set (`MALLOC_TRIM_THRESHOLD_`, `mallopt`)
turns glibc's adaptation off and stays as it is; so do other C libraries.
"""

from __future__ import annotations

import numpy as np

RAISE_TO_BYTES = 16 << 20

_raised = False


def keep_freed_memory() -> None:
    """Raise the heap's thresholds, once per process (the first backward pass calls this)."""
    global _raised
    if not _raised:
        np.empty(RAISE_TO_BYTES, dtype=np.uint8)  # freed at once, never written to
        _raised = True
