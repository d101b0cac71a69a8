"""`python -m pixelpact.conformance.cli`: the `pixelpact` command."""

from pixelpact.conformance.cli import main

raise SystemExit(main())
