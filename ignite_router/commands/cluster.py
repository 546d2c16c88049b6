"""Placeholder: replaced by its owner."""


def register(subparsers) -> None:
    """Add this module's commands."""
