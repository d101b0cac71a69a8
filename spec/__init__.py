"""The contract, `openapi.yaml`, shipped with pixelpact as package data (the loader finds it beside `generator/`)."""
