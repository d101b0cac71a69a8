"""The schemathesis integration: its requirement group, hooks, transport through the Sender, filters and evidence
rules."""
