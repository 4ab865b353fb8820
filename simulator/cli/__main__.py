"""``python -m simulator.cli``: the same as the ``sessionlab`` console script."""

import sys

from simulator.cli.main import main

sys.exit(main())
