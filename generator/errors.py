"""Problems the generator finds in a spec: values with a location, collected over a whole run and printed once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class GeneratorError:
    """One reason the spec cannot be turned into code; `operation` names the operation it concerns, if any."""

    where: str
    """A JSON pointer into the spec, e.g. "/paths/~1v1~1images~1edits/post/requestBody"."""
    message: str
    operation: str | None = None

    def __str__(self) -> str:
        subject = f"{self.operation}: " if self.operation else ""
        return f"{subject}{self.where}: {self.message}"


class GenerationFailed(Exception):
    """Raised by the pipeline when the spec is valid OpenAPI but cannot be generated; carries every error found."""

    def __init__(self, source: str, errors: Iterable[GeneratorError]) -> None:
        self.source = source
        self.errors = tuple(errors)
        super().__init__(f"{source}: {len(self.errors)} error(s)")

    def report(self) -> str:
        """The errors, one per line, under a header naming the spec."""
        lines = [f"{self.source}: cannot generate code ({len(self.errors)} error(s))"]
        lines += [f"  {error}" for error in self.errors]
        return "\n".join(lines)


def pointer(*parts: object) -> str:
    """A JSON pointer (RFC 6901) from path segments."""
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)
