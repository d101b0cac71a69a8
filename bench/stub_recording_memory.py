"""Memory of the stub's recording under large unknown form fields (issue 15's case), not a timed test.

    .venv/bin/python bench/stub_recording_memory.py [--requests 80] [--parts 120] [--part-kib 64]

Starts `pixelpact serve --port 0` (stopped by PID), sends --requests valid variations, each with an 8x8 PNG and
--parts unknown text parts of --part-kib KiB, then reads the whole recording. Prints the stub's resident memory
(VmRSS) before and after, and the size of the listing.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def rss_mib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS"))
    return int(line.split()[1]) // 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=80)
    parser.add_argument("--parts", type=int, default=120)
    parser.add_argument("--part-kib", type=int, default=64)
    args = parser.parse_args()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pixelpact.conformance.cli", "serve", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[4].rstrip(",")
        time.sleep(1)
        image = io.BytesIO()
        Image.new("RGB", (8, 8)).save(image, "PNG")
        extra = [(f"x{i}", (None, b"a" * (args.part_kib * 1024))) for i in range(args.parts)]
        files = [("image", ("a.png", image.getvalue(), "image/png")), *extra]
        print(f"RSS before: {rss_mib(proc.pid)} MiB")
        with httpx.Client(timeout=60) as client:
            for _ in range(args.requests):
                sent = client.post(f"{url}/v1/images/variations", data={"model": "dall-e-2"}, files=files)
                assert sent.status_code == 200, sent.text
            print(f"RSS after {args.requests} requests: {rss_mib(proc.pid)} MiB")
            listing = client.get(f"{url}/_pixelpact/requests")
        print(f"listing: {len(listing.content):,} bytes, {listing.json()['count']} entries")
        print(f"RSS at the end: {rss_mib(proc.pid)} MiB")
    finally:
        proc.terminate()
        proc.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
