"""`pixelpact diff`: what a change of the spec means, for clients and for gateways.

The pipeline, one module per step:

- `source`: OLD and NEW as documents (a file, or `git:REF:PATH`), validated by the project's loader.
- `facts`: each operation of a document flattened into typed facts (route, media types, encodings, parameters,
  request and response fields with their constraints, auth schemes), $refs resolved, each fact remembering the
  component schema it comes from.
- `compare`: the facts of OLD and NEW compared, operation by operation, into changes classified for both parties.
- `report`: changes that one shared schema causes on several operations folded into one entry, and rendered as
  text, Markdown or JSON.
- `affects`: which requirements each kind of change touches (what `pixelpact check --changed-since` re-runs).
- `cli`: the subcommand.
"""
