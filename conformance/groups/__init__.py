"""Requirement groups: each checks a family of requirements and reports what it saw as Observations.

A group is any object with a `name`, the `requirements` it may report on, and `run(ctx)` yielding Observations
for the operations in `ctx.operations` (the `Group` protocol of pixelpact.conformance.engine.engine). The engine
runs the selected groups one after the other (a group may fan its own requests out with `ctx.map`), folds their
observations into one result per (requirement, operation) and streams them to the reports. A (requirement,
operation) pair a group never reports on does not appear in the reports at all, so a group reports a skipped
Observation when it could have judged but did not (no --api-key, budget spent).

To add a group, write a module here that defines `GROUP` and add it to ALL_GROUPS in pixelpact.conformance.suite,
the one place that imports the groups.
"""
