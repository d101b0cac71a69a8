"""The hand-written runtime the generated code imports.

Everything the spec states (routes, parameter names, ranges, enums, required fields, media types, security schemes)
reaches generated/ through generated code: the models, one `Operation` per route of the stub server, one endpoint per
method of the client. This package holds only behaviour the spec does not derive. For the stub gateway: reading bodies
safely, synthesising images, SSE framing, recording and redaction, auth policy, fallbacks, latency and rate
limits (`pacing.py`), and its HTTP layer (`protocol.py`: error bodies, head bound and read timeouts on the wire).
For the client (`client.py`): multipart encoding, SSE decoding and error mapping.
"""
