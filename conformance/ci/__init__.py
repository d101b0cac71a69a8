"""Running in CI: the config file, the baseline of known deviations, merging the reports of shards."""
