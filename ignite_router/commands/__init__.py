"""Sub-commands of the ``ignite-router`` command-line interface."""
