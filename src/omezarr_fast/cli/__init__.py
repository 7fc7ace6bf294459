"""The ``omezarr-fast`` command: one module per subcommand (``register_<name>`` adds its
parser, ``cmd_<name>`` runs it), :mod:`.args` for what they share, :mod:`.main` the
parser and dispatch."""
from omezarr_fast.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
