"""`python -m generator [--check]`: the same as `pixelpact generate`."""

from generator.cli import main

raise SystemExit(main())
