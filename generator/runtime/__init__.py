"""The hand-written runtime the generated code imports.

Everything the spec states (routes, parameter names, ranges, enums, required fields, media types, security schemes)
reaches generated/ through generated code: the models, one `Operation` per route of the stub server, one endpoint per
method of the client. This package holds only behaviour the spec does not derive. For the stub gateway: reading bodies
safely, synthesising images, SSE framing, recording, auth policy and fallbacks. For the client (`client.py`):
multipart encoding, SSE decoding and error mapping.
"""
