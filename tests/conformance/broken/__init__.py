"""Deliberately broken gateways: the conformance suite must fail each one, naming the requirement it breaks."""
