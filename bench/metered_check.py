"""`pixelpact check ...` with the recording upstream it starts (--upstream-port) behind a provider meter.

    .venv/bin/python bench/metered_check.py METER.json [--log] -- check --base-url URL --upstream-port PORT ...

A two-sided run starts its recording upstream inside the check process, so a meter in the bench process cannot see
what that provider generated. This runs the CLI in-process with every stub app it makes wrapped in
tests/conformance/metering.Meter (in a two-sided run the only stub the check makes is the recording upstream), and
writes the meter's counts (requests, images actually generated, megapixels) to METER.json when the run ends;
`--log` adds one line per image request the upstream answered with images (path, the fields that decide its cost,
images). Used by bench/cost_bench.py; the exit status is check's.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pixelpact.generator.runtime import serve  # noqa: E402
from tests.conformance.metering import Meter, _images  # noqa: E402

#: The request fields a log line shows (what decides how many images, at what size and cost).
LOGGED = ("n", "size", "quality", "stream", "partial_images", "response_format", "output_format", "model")


@dataclass
class LoggingMeter(Meter):
    """A Meter that also keeps, per answered image request, its path, the LOGGED fields and the images made (`log`
    None: counts only)."""

    log: list[dict[str, Any]] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body: list[bytes] = []
        answer: list[Any] = []

        async def tap() -> Any:
            message = await receive()
            body.append(message.get("body", b""))
            return message

        async def keep(message: Any) -> None:
            answer.append(message)
            await send(message)

        await super().__call__(scope, tap, keep)
        start = next((m for m in answer if m["type"] == "http.response.start"), None)
        made = _images(start, b"".join(m.get("body", b"") for m in answer if m["type"] == "http.response.body"))
        if made and self.log is not None:
            self.log.append({"path": scope["path"], "images": made, **_fields(b"".join(body))})


def _fields(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        text = body.decode("utf-8", "replace")
        found = {}
        for name in LOGGED:
            marker = f'name="{name}"\r\n\r\n'
            at = text.find(marker)
            if at >= 0:
                found[name] = text[at + len(marker) :].split("\r\n", 1)[0]
        return found
    return {name: document[name] for name in LOGGED if isinstance(document, dict) and name in document}


def main() -> int:
    out = Path(sys.argv[1])
    rest = sys.argv[2:]
    log = rest[:1] == ["--log"]
    rest = rest[1:] if log else rest
    if rest[:1] == ["--"]:
        rest = rest[1:]
    meters: list[LoggingMeter] = []
    make = serve.default_app

    def metered(config: Any) -> Any:
        meter = LoggingMeter(make(config), log=[] if log else None)
        meters.append(meter)
        return meter

    serve.default_app = metered
    from pixelpact.conformance.cli import main as cli

    try:
        status = cli(rest)
    finally:
        counts: dict[str, Any] = {
            "requests": sum(m.requests for m in meters),
            "images": sum(m.images for m in meters),
            "megapixels": round(sum(m.megapixels for m in meters), 3),
            "stubs": len(meters),
        }
        if log:
            counts["log"] = [line for m in meters for line in m.log or ()]
        out.write_text(json.dumps(counts, indent=1))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
