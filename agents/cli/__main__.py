"""``python -m agents.cli``: the ``newswire`` command."""

import sys

from agents.cli.main import main

sys.exit(main())
