"""``python -m astrograph.cli`` runs the command line (as ``python -m astrograph``)."""

import sys

from . import main

sys.exit(main())
