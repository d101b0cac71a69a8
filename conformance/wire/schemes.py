"""The ways a gateway key can be sent (`--auth`): a module of its own so the command line reads it without importing
the suite (`pixelpact check --help` stays fast)."""

from __future__ import annotations

from typing import Literal

AuthScheme = Literal["bearer", "basic", "x-bf-vk", "x-api-key", "api-key"]
AUTH_SCHEMES: tuple[str, ...] = ("bearer", "basic", "x-bf-vk", "x-api-key", "api-key")
