"""``python -m ignite_router`` runs the command-line interface."""

from ignite_router.cli import main

raise SystemExit(main())
