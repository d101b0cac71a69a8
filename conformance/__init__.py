"""pixelpact's conformance suite: drive any gateway URL and give a verdict per requirement of the image API contract."""
