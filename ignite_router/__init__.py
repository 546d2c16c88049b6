"""ignite-router: a partition-aware Apache Ignite 2.x thin client."""

__version__ = "0.1.0"
