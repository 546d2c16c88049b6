"""Sub-commands of the ``ignite-router`` command-line interface.

Tables are drawn with rich, which only the ``cli`` extra installs: commands
import it where they draw, so the library and JSON output work without it,
and a command that would draw a table without rich says how to install it
(one line, exit code 2) before doing anything.
"""

from __future__ import annotations

import importlib.util

RICH_MISSING = 'tables need rich: pip install "ignite-router[cli]" (or add --json)'


def rich_installed() -> bool:
    return importlib.util.find_spec("rich") is not None
