"""pixelpact's code generator: spec/openapi.yaml -> typed intermediate model -> Jinja templates -> generated/."""
