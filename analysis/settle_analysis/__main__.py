"""`python3 -m settle_analysis plot|info FILE.h5 ...`; see settle_analysis.cli."""

import sys

from .cli import main

sys.exit(main())
