"""The engine: the contract read from the spec, the run's context and profiles, and the engine that runs groups and
folds their observations."""
