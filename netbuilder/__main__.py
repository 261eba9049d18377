"""`python -m netbuilder` is the same as the `netbuilder` command."""

from netbuilder.cli import main

raise SystemExit(main())
