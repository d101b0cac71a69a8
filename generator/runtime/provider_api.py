"""What a provider's image API takes, and what each of its models takes: the one table of both.

Two facts the spec cannot state, because they belong to the provider behind a gateway, not to the gateway:

- `API_FIELDS`: the request fields each provider API takes per operation (OpenAI; Azure OpenAI takes the same image
  parameters). A gateway may filter a field its provider's API does not take (seed, negative_prompt ...); a field the
  API takes must reach the provider as sent (the forwarding checks).
- `MODELS`: each model's rules: sizes, the n range, whether it takes response_format, quality and style values,
  streaming and partial_images, the number of edit images, and which operations it serves at all. The conformance
  suite keeps its valid requests to them (`--model`), and the stub playing a provider refuses what they refuse
  (`--model-rules`, `check --upstream-model-rules`), as OpenAI does: 400 `invalid_request_error` naming `param`.

Every rule cites its source: the official openai SDK's typed request parameters (`SDK`, the version the project
pins in its test extra) and the docstring sentence that states it. The SDK is not a dependency of the main install,
so the table is committed here; tests/stub/test_provider_api.py fails when the installed SDK's TypedDict keys or
`Literal` values no longer match it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: The SDK whose typed parameters the table is read from.
SDK = "openai 2.54.0"

Kind = Literal["generation", "edit", "variation"]
KINDS: tuple[Kind, ...] = ("generation", "edit", "variation")
#: The SDK's TypedDict per operation kind.
PARAMS: dict[Kind, str] = {
    "generation": "ImageGenerateParams",
    "edit": "ImageEditParams",
    "variation": "ImageCreateVariationParams",
}

_GENERATION_FIELDS = frozenset(
    {
        "prompt",
        "background",
        "model",
        "moderation",
        "n",
        "output_compression",
        "output_format",
        "partial_images",
        "quality",
        "response_format",
        "size",
        "style",
        "user",
        "stream",
    }
)
#: Edits take what generations take but style and moderation, and the input images, mask and input_fidelity.
_EDIT_FIELDS = (_GENERATION_FIELDS - {"style", "moderation"}) | {"image", "mask", "input_fidelity"}
_VARIATION_FIELDS = frozenset({"image", "model", "n", "response_format", "size", "user"})

#: The keys of the SDK's TypedDicts (ImageGenerateParams, ImageEditParams, ImageCreateVariationParams, openai 2.54.0):
#: the request fields the OpenAI image API takes. The SDK sends several edit images as repeated `image[]` parts.
OPENAI_FIELDS: dict[Kind, frozenset[str]] = {
    "generation": _GENERATION_FIELDS,
    "edit": _EDIT_FIELDS | {"image[]"},
    "variation": _VARIATION_FIELDS,
}
#: Provider (the `provider/` of a model name, or the Azure route) -> the fields its image API takes. Azure OpenAI's
#: image API is OpenAI's (the SDK's AzureOpenAI client sends the same ImageGenerateParams to a deployment).
API_FIELDS: dict[str, dict[Kind, frozenset[str]]] = {"openai": OPENAI_FIELDS, "azure": OPENAI_FIELDS}

#: The `Literal` values of the SDK's typed parameters the rules below draw from, per kind and field: the test compares
#: them with the installed SDK, so a value OpenAI adds or drops shows here first.
SDK_LITERALS: dict[Kind, dict[str, frozenset[str]]] = {
    "generation": {
        "background": frozenset({"transparent", "opaque", "auto"}),
        "moderation": frozenset({"low", "auto"}),
        "output_format": frozenset({"png", "jpeg", "webp"}),
        "quality": frozenset({"standard", "hd", "low", "medium", "high", "auto"}),
        "response_format": frozenset({"url", "b64_json"}),
        "size": frozenset(
            {"auto", "1024x1024", "1536x1024", "1024x1536", "256x256", "512x512", "1792x1024", "1024x1792"}
        ),
        "style": frozenset({"vivid", "natural"}),
    },
    "edit": {
        "background": frozenset({"transparent", "opaque", "auto"}),
        "input_fidelity": frozenset({"high", "low"}),
        "output_format": frozenset({"png", "jpeg", "webp"}),
        "quality": frozenset({"standard", "low", "medium", "high", "auto"}),
        "response_format": frozenset({"url", "b64_json"}),
        "size": frozenset({"256x256", "512x512", "1024x1024", "1536x1024", "1024x1536", "auto"}),
    },
    "variation": {
        "response_format": frozenset({"url", "b64_json"}),
        "size": frozenset({"256x256", "512x512", "1024x1024"}),
    },
}
#: openai.types.image_model.ImageModel (openai 2.54.0): the models the table has rules for.
SDK_MODELS = frozenset(
    {
        "gpt-image-1",
        "gpt-image-1-mini",
        "gpt-image-2",
        "gpt-image-2-2026-04-21",
        "gpt-image-1.5",
        "chatgpt-image-latest",
        "dall-e-2",
        "dall-e-3",
    }
)


def cite(kind: Kind, name: str, quote: str) -> str:
    """A rule's source: the SDK, the TypedDict field and the docstring sentence."""
    return f"{SDK}, {PARAMS[kind]}.{name}: {quote!r}"


@dataclass(frozen=True)
class SizeGrid:
    """Sizes given as any WIDTHxHEIGHT on a grid (gpt-image-2): a multiple of `step` each way, at most `max_pixels`
    in all and `max_edge` on a side, the aspect ratio within 1:`max_ratio` and `max_ratio`:1."""

    step: int
    max_edge: int
    max_pixels: int
    max_ratio: int

    def allows(self, size: str) -> bool:
        match = _WXH.match(size)
        if match is None:
            return False
        width, height = int(match.group(1)), int(match.group(2))
        return (
            width % self.step == 0
            and height % self.step == 0
            and 0 < width <= self.max_edge
            and 0 < height <= self.max_edge
            and width * height <= self.max_pixels
            and max(width, height) <= self.max_ratio * min(width, height)
        )


@dataclass(frozen=True)
class Rule:
    """What a model takes for one request field: `values` (None: any value the API takes), an integer range, or
    nothing at all (`taken` False); `source` cites where the rule is stated."""

    source: str
    values: tuple[str, ...] | None = None
    low: int | None = None
    high: int | None = None
    taken: bool = True
    grid: SizeGrid | None = None
    """Sizes beyond `values` the model takes (gpt-image-2's free sizes)."""

    def allows(self, value: Any) -> bool:
        if not self.taken:
            return False
        if self.values is not None and not (str(value) in self.values or (self.grid and self.grid.allows(str(value)))):
            return False
        if self.low is not None or self.high is not None:
            number = _integer(value)
            if number is None:
                return True  # not an integer: the API's own validation (the spec's) answers it, not the model's rule
            return (self.low is None or number >= self.low) and (self.high is None or number <= self.high)
        return True

    def describe(self) -> str:
        if not self.taken:
            return "not taken"
        if self.values is not None:
            shown = ", ".join(self.values) + (" or any WxH on a 16-pixel grid" if self.grid else "")
            return shown
        if self.low is not None and self.high is not None:
            return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"
        return "any"


def not_taken(source: str) -> Rule:
    return Rule(source, taken=False)


@dataclass(frozen=True)
class Refusal:
    """Why a model refuses a request, as OpenAI answers it: 400, invalid_request_error, `param`, `code`."""

    param: str
    message: str
    code: str


@dataclass(frozen=True)
class ModelRules:
    """One model's rules per operation kind; a kind not listed is one the model does not serve."""

    model: str
    kinds: Mapping[Kind, Mapping[str, Rule]]
    serves_source: str
    """Where it is stated which operations the model serves."""
    max_images: Mapping[Kind, Rule] = field(default_factory=dict)
    """How many input images an edit may carry."""

    def serves(self, kind: Kind) -> bool:
        return kind in self.kinds

    def rule(self, kind: Kind, name: str) -> Rule | None:
        """The model's rule for a field, None when it has none (the API's own range applies)."""
        return self.kinds.get(kind, {}).get(name)

    def takes(self, kind: Kind, name: str) -> bool:
        rule = self.rule(kind, name)
        return rule is None or rule.taken

    def allows(self, kind: Kind, name: str, value: Any) -> bool:
        rule = self.rule(kind, name)
        return rule is None or rule.allows(value)

    def refusal(self, kind: Kind, fields: Mapping[str, Any], images: int = 0) -> Refusal | None:
        """The first thing in a request (`fields` by wire name, `images` input files) the model refuses, or None."""
        if not self.serves(kind):
            return Refusal(
                "model",
                f"Invalid value: '{self.model}'. The model does not support image {kind}s.",
                "invalid_value",
            )
        for name, value in fields.items():
            rule = self.rule(kind, name)
            if rule is None or value is None or value is False or rule.allows(value):
                continue
            if not rule.taken:
                return Refusal(name, f"Unknown parameter: '{name}' is not supported with model '{self.model}'.",
                               "unknown_parameter")  # fmt: skip
            if rule.values is not None:
                listed = ", ".join(f"'{v}'" for v in rule.values)
                return Refusal(name, f"Invalid value: '{value}'. Supported values are: {listed}.", "invalid_value")
            return Refusal(
                name,
                f"Invalid '{name}': {value} is outside {rule.describe()} for model '{self.model}'.",
                "integer_out_of_range",
            )
        limit = self.max_images.get(kind)
        if limit is not None and images and not limit.allows(images):
            return Refusal("image", f"Invalid 'image': {images} images; '{self.model}' takes {limit.describe()}.",
                           "invalid_value")  # fmt: skip
        return None

    def limits(self) -> list[str]:
        """One line per operation kind: what the model takes (for `--plan`)."""
        lines = []
        for kind in KINDS:
            if not self.serves(kind):
                lines.append(f"{kind}s: not served")
                continue
            rules = self.kinds[kind]
            shown = [f"{name} {rule.describe()}" for name, rule in sorted(rules.items())]
            if kind in self.max_images:
                shown.append(f"input images {self.max_images[kind].describe()}")
            lines.append(f"{kind}s: " + "; ".join(shown))
        return lines


_WXH = re.compile(r"^(\d+)x(\d+)$")


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,6}", value.strip()):
        return int(value)
    return None


# --- the rules, from the SDK's docstrings -----------------------------------------------------------------------------

_N = Rule(cite("generation", "n", "Must be between 1 and 10."), low=1, high=10)
_N_EDIT = Rule(cite("edit", "n", "Must be between 1 and 10."), low=1, high=10)
_N_VARIATION = Rule(cite("variation", "n", "Must be between 1 and 10."), low=1, high=10)
_GPT_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
_GPT_SIZE_QUOTE = "The standard sizes `1024x1024`, `1536x1024`, and `1024x1536` are supported by the GPT image models"
_DALLE2_SIZES = ("256x256", "512x512", "1024x1024")
_DALLE2_SIZE_QUOTE = "For `dall-e-2`, use one of `256x256`, `512x512`, or `1024x1024`."
_GPT_ONLY = "This parameter is only supported for the GPT image models."
_NO_RESPONSE_FORMAT = (
    "This parameter isn't supported for the GPT image models, which always return base64-encoded images."
)
_STREAM_QUOTE = "This parameter is only supported for the GPT image models."
_STYLE_QUOTE = "This parameter is only supported for `dall-e-3`."
_BACKGROUND_QUOTE = "This parameter is only supported for GPT image models that support transparent backgrounds."
_GPT2_GRID = SizeGrid(step=16, max_edge=3840, max_pixels=3840 * 2160, max_ratio=3)


def _gpt_image(model: str, *, grid: bool = False, fidelity: bool = True) -> ModelRules:
    def common(kind: Kind) -> dict[str, Rule]:
        size_quote = _GPT_SIZE_QUOTE + (
            "; for `gpt-image-2` ... arbitrary resolutions are supported as `WIDTHxHEIGHT` strings" if grid else ""
        )
        rules = {
            "size": Rule(cite(kind, "size", size_quote), values=_GPT_SIZES, grid=_GPT2_GRID if grid else None),
            "n": _N if kind == "generation" else _N_EDIT,
            "response_format": not_taken(
                cite(kind, "response_format", _NO_RESPONSE_FORMAT)
                if kind == "generation"
                else cite(kind, "response_format", "This parameter is only supported for `dall-e-2`")
            ),
            "quality": Rule(
                cite(kind, "quality", "`high`, `medium` and `low` are supported for the GPT image models."),
                values=("low", "medium", "high", "auto"),
            ),
            "partial_images": Rule(cite(kind, "partial_images", "Value must be between 0 and 3."), low=0, high=3),
        }
        if grid:
            rules["background"] = Rule(
                cite(kind, "background", "`gpt-image-2` ... do not support transparent backgrounds."),
                values=("opaque", "auto"),
            )
        return rules

    generation = common("generation")
    generation["style"] = not_taken(cite("generation", "style", _STYLE_QUOTE))
    edit = common("edit")
    if not fidelity:
        edit["input_fidelity"] = not_taken(
            cite("edit", "input_fidelity", "unsupported for `gpt-image-1-mini`"),
        )
    return ModelRules(
        model,
        {"generation": generation, "edit": edit},
        cite("variation", "model", "Only `dall-e-2` is supported at this time."),
        max_images={"edit": Rule(cite("edit", "image", "You can provide up to 16 images."), low=1, high=16)},
    )


def _dalle_not_taken(kind: Kind) -> dict[str, Rule]:
    """The GPT-image-only fields, refused by the DALL-E models."""
    fields = ["background", "moderation", "output_compression", "output_format", "partial_images", "stream"]
    if kind == "edit":
        fields.remove("moderation")
        fields.append("input_fidelity")
    quotes = {
        "background": _BACKGROUND_QUOTE,
        "stream": _STREAM_QUOTE,
        "moderation": "Control the content-moderation level for images generated by the GPT image models.",
        "partial_images": "This parameter is used for streaming responses",
        "input_fidelity": "This parameter is only supported for `gpt-image-1` and `gpt-image-1.5` and later models",
    }
    return {name: not_taken(cite(kind, name, quotes.get(name, _GPT_ONLY))) for name in fields}


DALL_E_2 = ModelRules(
    "dall-e-2",
    {
        "generation": {
            "size": Rule(cite("generation", "size", _DALLE2_SIZE_QUOTE), values=_DALLE2_SIZES),
            "n": _N,
            "quality": Rule(
                cite("generation", "quality", "`standard` is the only option for `dall-e-2`."),
                values=("standard", "auto"),
            ),
            "style": not_taken(cite("generation", "style", _STYLE_QUOTE)),
            **_dalle_not_taken("generation"),
        },
        "edit": {
            "size": Rule(cite("edit", "size", _DALLE2_SIZE_QUOTE), values=_DALLE2_SIZES),
            "n": _N_EDIT,
            "quality": Rule(
                cite("edit", "quality", "The quality of the image that will be generated for GPT image models."),
                values=("standard", "auto"),
            ),
            **_dalle_not_taken("edit"),
        },
        "variation": {
            "size": Rule(
                cite("variation", "size", "Must be one of `256x256`, `512x512`, or `1024x1024`."), values=_DALLE2_SIZES
            ),
            "n": _N_VARIATION,
        },
    },
    cite("variation", "model", "Only `dall-e-2` is supported at this time."),
    max_images={"edit": Rule(cite("edit", "image", "For `dall-e-2`, you can only provide one image"), low=1, high=1)},
)

DALL_E_3 = ModelRules(
    "dall-e-3",
    {
        "generation": {
            "size": Rule(
                cite("generation", "size", "For `dall-e-3`, use one of `1024x1024`, `1792x1024`, or `1024x1792`."),
                values=("1024x1024", "1792x1024", "1024x1792"),
            ),
            "n": Rule(cite("generation", "n", "For `dall-e-3`, only `n=1` is supported."), low=1, high=1),
            "quality": Rule(
                cite("generation", "quality", "`hd` and `standard` are supported for `dall-e-3`."),
                values=("standard", "hd", "auto"),
            ),
            "style": Rule(
                cite(
                    "generation",
                    "style",
                    "This parameter is only supported for `dall-e-3`. Must be one of `vivid` or `natural`.",
                ),
                values=("vivid", "natural"),
            ),
            **_dalle_not_taken("generation"),
        },
    },
    cite("edit", "model", "One of `dall-e-2` or a GPT image model"),
)

#: Model name (bare, as the provider knows it) -> its rules.
MODELS: dict[str, ModelRules] = {
    rules.model: rules
    for rules in (
        DALL_E_2,
        DALL_E_3,
        _gpt_image("gpt-image-1"),
        _gpt_image("gpt-image-1-mini", fidelity=False),
        _gpt_image("gpt-image-1.5"),
        _gpt_image("gpt-image-2", grid=True),
        _gpt_image("gpt-image-2-2026-04-21", grid=True),
        _gpt_image("chatgpt-image-latest"),
    )
}


def rules_for(model: str | None) -> ModelRules | None:
    """The rules of a model named bare or as provider/model (`openai/gpt-image-1`), None when the table has none."""
    if not model:
        return None
    return MODELS.get(model.rsplit("/", 1)[-1])


def provider_fields(provider: str, kind: Kind) -> frozenset[str] | None:
    """The fields a provider's API takes for an operation kind; None for a provider the table does not know."""
    fields = API_FIELDS.get(provider)
    return fields[kind] if fields is not None else None
