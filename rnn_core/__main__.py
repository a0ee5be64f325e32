"""``python -m rnn_core``: see rnn_core/cli.py."""

import sys

from .cli import main

sys.exit(main())
