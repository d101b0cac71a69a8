"""`python -m generator [--check]`: the same as `pixelpact generate`."""

from pixelpact.generator.cli import main

raise SystemExit(main())
