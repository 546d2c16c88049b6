"""Placeholder: pytest fixtures for LocalCluster (replaced by its owner)."""
