"""The README shows Bifrost as it is: the configuration it gives works as the tier's does, and the worked example
names the findings the tier pins. These read files only (no `bifrost` marker): they run without the binary."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.bifrost.gateway import ROOT, config

README = (ROOT / "README.md").read_text()
EXPECTED = json.loads((Path(__file__).parent / "expected.json").read_text())


def section(title: str) -> str:
    return README.split(title, 1)[1].split("\n## ", 1)[0]


def test_the_readme_gives_bifrost_the_providers_root_as_the_tier_does() -> None:
    block = section("### Pointing a gateway at the recording upstream").split("```json\n", 1)[1].split("```", 1)[0]
    shown = json.loads(block.replace("PORT", "41000"))
    tier = config(41000)
    openai = shown["providers"]["openai"]["network_config"]["base_url"]
    assert openai == tier["providers"]["openai"]["network_config"]["base_url"]  # type: ignore[index]
    assert not openai.endswith("/v1")
    azure = shown["providers"]["azure"]["keys"][0]["azure_key_config"]["endpoint"]
    assert azure == tier["providers"]["azure"]["keys"][0]["azure_key_config"]["endpoint"]  # type: ignore[index]
    assert shown["framework"]["pricing"]["pricing_url"].startswith("http://127.0.0.1:")


def test_the_worked_example_shows_the_findings_the_tier_pins() -> None:
    example = section("## A worked example: Bifrost, the gateway the spec describes")
    shown = set(re.findall(r"^(F-[a-z0-9-]+)  ", example, re.M))
    assert shown == {finding["id"] for finding in EXPECTED["findings"]}
    assert "pixelpact compare: LiteLLM → Bifrost" in example
