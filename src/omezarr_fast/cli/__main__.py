"""``python -m omezarr_fast.cli``: the ``omezarr-fast`` command."""
import sys

from omezarr_fast.cli.main import main

sys.exit(main())
