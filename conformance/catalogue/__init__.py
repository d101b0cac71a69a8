"""The requirement catalogue: every requirement's declaration, what it needs, what counts as evidence, and the findings
that explain failures."""
