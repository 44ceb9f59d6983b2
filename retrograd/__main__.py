"""`python -m retrograd`: the same as the `retrograd` command."""

import sys

from retrograd.cli import main

sys.exit(main())
