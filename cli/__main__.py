"""``python -m lamctl.cli``."""

import sys

from lamctl.cli.app import main

sys.exit(main())
