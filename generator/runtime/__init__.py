"""The hand-written runtime the generated stub gateway imports.

Everything the spec states (routes, parameter names, ranges, enums, required fields, media types) reaches the server
through generated code: the models and one `Operation` per route. This package holds only behaviour the spec does not
derive: reading bodies safely, synthesising images, SSE framing, recording, auth policy and fallbacks.
"""
