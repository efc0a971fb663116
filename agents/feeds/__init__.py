"""Feeds: drop folders, RSS/Atom polls and agency pushes, each item sent to ``wire.raw``."""
