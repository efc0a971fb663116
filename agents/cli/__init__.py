"""The ``newswire`` command: its subcommands, the demo (the main job) and its samples."""

from agents.cli.main import main

__all__ = ["main"]
