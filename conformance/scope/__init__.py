"""What a run covers: chosen (requirement, operation) pairs, --requirement globs, --shard K/N."""
