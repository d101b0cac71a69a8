"""Check's options, declared once: one `Flag` per option of `pixelpact check`, in the order `--help` lists them.

Everything else is derived from the table `FLAGS`:
- `pixelpact check`'s argument parser (`add_arguments`), and through it the config file's keys (pixelpact.toml,
  `[tool.pixelpact]`: the long option without its dashes) and `--show-config` (`secret` values redacted);
- the pytest plugin's options (`add_pytest_options`): `--pixelpact-NAME` for check's `--NAME` (`--pixelpact-url` for
  `--base-url`), with the same help, choices and repetition, and its own `--pixelpact`; check's parser converts and
  validates their values (`check_tokens`); the options that make the plugin run (`starts_run`); an option of check the
  plugin does not offer says why (`not_in_pytest`);
- the config file's own options (--config, --target, --show-config), which the file cannot set (`NOT_IN_FILE`);
- validation (`problem`): each flag's bounds and rules (`check`), one line naming the option;
- the `CheckOptions` a parsed command line describes (`check_options`: each flag's `field`, through `to_option`);
- the options a `--plan` dry run keeps (`changes_plan`: the others describe the target, not the plan, and the dry
  run against its private stub drops them).

This module is light on purpose (no HTTP library, no suite): `pixelpact check --help` imports it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pixelpact.conformance.engine.profiles import PROFILES
from pixelpact.conformance.wire.headers import HeaderError, parse_header
from pixelpact.conformance.wire.limits import MAX_BODY
from pixelpact.conformance.wire.ratelimit import parse_rate
from pixelpact.conformance.wire.schemes import AUTH_SCHEMES
from pixelpact.generator.loader import DEFAULT_SPEC

if TYPE_CHECKING:
    from pixelpact.conformance.scope.sharding import Shard

API_KEY_ENV = "PIXELPACT_API_KEY"


def _prefix(text: str) -> tuple[str, str]:
    spec, sep, gateway = text.partition("=")
    if not sep or not spec.startswith("/") or (gateway and not gateway.startswith("/")):
        raise argparse.ArgumentTypeError(f"expected SPEC=GATEWAY with both starting with /, got {text!r}")
    return spec.rstrip("/"), gateway.rstrip("/")


def _shard(text: str) -> Shard:
    from pixelpact.conformance.scope.sharding import Shard

    try:
        return Shard.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _rate(text: str) -> float:
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _header(text: str) -> tuple[str, str]:
    try:
        return parse_header(text)
    except HeaderError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _known_auth(scheme: str, options: Any) -> str | None:
    if scheme not in AUTH_SCHEMES:
        return f"unknown auth scheme {scheme!r}; use one of {', '.join(AUTH_SCHEMES)}"
    return None


def _http_url(url: str, options: Any) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return f"base URL {url!r} is not an http(s) URL"
    return None


def _rooted_prefixes(prefixes: Iterable[tuple[str, str]], options: Any) -> str | None:
    for spec_prefix, gateway_prefix in prefixes:
        if not spec_prefix.startswith("/") or not (gateway_prefix == "" or gateway_prefix.startswith("/")):
            return f"prefix {spec_prefix}={gateway_prefix}: both sides must start with /"
    return None


def _well_formed_headers(headers: Iterable[tuple[str, str]], options: Any) -> str | None:
    for name, value in headers:
        try:
            parse_header(f"{name}: {value}")
        except HeaderError as exc:
            return str(exc)
    return None


def _at_least_a_byte(max_body: int, options: Any) -> str | None:
    return "max-body must be at least 1 byte" if max_body < 1 else None


def _two_sided(options: Any) -> bool:
    return bool(options.upstream or options.upstream_port is not None)


def _behind_a_gateway(upstream: Any, options: Any) -> str | None:
    if _two_sided(options) and options.base_url is None:
        # The built-in stub answers requests itself; a recording upstream behind it would never see one.
        return "--upstream/--upstream-port check what a gateway forwards: give the gateway with --base-url"
    return None


def _known_model_rules(model: str, options: Any) -> str | None:
    from pixelpact.generator.runtime.provider_api import MODELS, rules_for

    if not _two_sided(options):
        return "--upstream-model-rules is for the recording upstream: give --upstream-port too"
    if rules_for(model) is None:
        return f"upstream-model-rules: no rules for {model!r} (known: {', '.join(MODELS)})"
    return None


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _or_none(value: str | None) -> str | None:
    return value or None


def _mebibytes(value: int) -> int:
    return value * 2**20


@dataclass(frozen=True)
class Flag:
    """One option of `pixelpact check`: how it is typed, what it means, where its value goes."""

    name: str
    """The long option without its dashes: `--NAME`, the config file's key, `--pixelpact-NAME` under pytest."""
    help: str
    section: str
    """The `--help` section: target, run, baseline or reports."""
    field: str | None
    """The CheckOptions field it sets; None for what only the command does (reports, --plan, --changed-since)."""
    type: Callable[[str], Any] | None = None
    """Converts and validates the text typed (argparse's `type`); None keeps the text."""
    default: Any = None
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    repeat: bool = False
    """Repeatable (`--operation A --operation B`, a list in the config file); the default is then empty."""
    switch: bool = False
    """An on/off flag without a value (`--plan`)."""
    secret: bool = False
    """Its value never appears in any output (`--show-config` redacts it)."""
    secret_values: bool = False
    """Its values are headers (`NAME: VALUE`), any of which may carry a credential: `--show-config` shows the names
    only. (Which header names carry one, for every other output: pixelpact.generator.runtime.credentials.)"""
    changes_plan: bool = True
    """Whether it changes what a run sends: a `--plan` dry run keeps it; False for what only describes the target
    (a prefix, a rate limit), which the dry run against its private stub drops."""
    to_option: Callable[[Any], Any] | None = None
    """From the parsed value to the CheckOptions field's (a list to a tuple, MiB to bytes); None: as parsed."""
    exclusive: str | None = None
    """Flags naming the same group exclude each other on the command line."""
    not_in_pytest: str | None = None
    """Why the pytest plugin does not offer it; None: it does, as `pytest_name` (--pixelpact-NAME)."""
    pytest_option: str | None = None
    """The plugin's option where it is not --pixelpact-NAME (--pixelpact-url for --base-url)."""
    pytest_help: str | None = None
    """The plugin's help where it differs from the command's."""
    starts_run: bool = False
    """Under pytest, giving it runs the suite: without one of these the plugin collects nothing and changes nothing."""
    command: bool = True
    """Offered by `pixelpact check`; False for the plugin's own (--pixelpact: the config file's gateway)."""
    in_file: bool = True
    """A key of the config file; False for the options about the file itself (--config, --target, --show-config)."""
    minimum: float | None = None
    """The least value a CheckOptions field may hold: `validate` says "NAME must be at least MINIMUM"."""
    positive: bool = False
    """The value must be above zero: `validate` says "NAME must be positive"."""
    check: Callable[[Any, Any], str | None] | None = None
    """A rule beyond the bounds: (the CheckOptions field's value, the whole CheckOptions) -> what is wrong, one line
    naming the option, or None. `validate` asks it after the bounds, for a value that is not None."""

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")

    @property
    def pytest(self) -> bool:
        """Offered by the pytest plugin."""
        return self.not_in_pytest is None

    def parsed_default(self) -> Any:
        """The value argparse gives when the option is absent."""
        if self.repeat:
            return []
        if self.switch:
            return False
        return self.default


def _option(flag: Flag, value: Any) -> Any:
    return flag.to_option(value) if flag.to_option is not None else value


FLAGS: tuple[Flag, ...] = (
    # the pytest plugin's own: without --pixelpact-url, the gateway the config file names
    Flag(
        "pixelpact",
        "check the gateway the config file (pixelpact.toml or [tool.pixelpact] in pyproject.toml) names",
        "config file",
        None,
        switch=True,
        pytest_option="--pixelpact",
        starts_run=True,
        command=False,
        in_file=False,
    ),
    # target
    Flag(
        "base-url",
        "the gateway to check (default: the built-in stub)",
        "target",
        "base_url",
        metavar="URL",
        pytest_option="--pixelpact-url",
        pytest_help="the gateway to check; without it the plugin does nothing",
        starts_run=True,
        check=_http_url,
    ),
    Flag(
        "operation",
        "check only this operationId (repeatable; default: every operation of the spec)",
        "target",
        "operations",
        metavar="OPID",
        repeat=True,
        to_option=_tuple,
    ),
    Flag(
        "group",
        "run only this requirement group (repeatable; default: all)",
        "target",
        "groups",
        metavar="NAME",
        repeat=True,
        to_option=_tuple,
    ),
    Flag(
        "requirement",
        "judge only requirements matching this id or glob, e.g. 'stream-*' (repeatable; default: all; "
        "`pixelpact requirements` lists them)",
        "target",
        "requirements",
        metavar="ID",
        repeat=True,
        to_option=_tuple,
    ),
    Flag(
        "exclude-requirement",
        "do not judge requirements matching this id or glob (repeatable)",
        "target",
        "exclude_requirements",
        metavar="ID",
        repeat=True,
        to_option=_tuple,
    ),
    Flag(
        "api-key",
        f"the key the gateway needs; enables the auth requirements (default: ${API_KEY_ENV}, which keeps the "
        "key out of the process list)",
        "target",
        "api_key",
        metavar="KEY",
        secret=True,
        to_option=_or_none,
    ),
    Flag(
        "auth",
        "how the key is sent (default: bearer); basic takes KEY as user:password, or as the password alone",
        "target",
        "auth",
        default="bearer",
        choices=AUTH_SCHEMES,
        check=_known_auth,
    ),
    Flag("model", "model to request (default: the spec's example model)", "target", "model"),
    Flag("deployment", "Azure deployment id (default: the model name without its provider)", "target", "deployment"),
    Flag("api-version", "Azure api-version query (default: the spec's example)", "target", "api_version"),
    Flag(
        "prefix",
        "serve the spec's route prefix SPEC at GATEWAY, e.g. /openai/openai/deployments=/openai/deployments "
        "(repeatable)",
        "target",
        "prefixes",
        type=_prefix,
        metavar="SPEC=GATEWAY",
        repeat=True,
        changes_plan=False,
        to_option=_tuple,
        check=_rooted_prefixes,
    ),
    Flag(
        "header",
        "send this header on every request to the gateway (repeatable); values of credential-like headers "
        "(authorization, cookie, *key*, *token*, *secret*, *auth*, x-bf-vk) never appear in any output",
        "target",
        "headers",
        type=_header,
        metavar='"NAME: VALUE"',
        repeat=True,
        to_option=_tuple,
        check=_well_formed_headers,
        secret_values=True,
    ),
    Flag(
        "secret-header",
        "treat this --header's value as a secret too: redacted from every output (repeatable)",
        "target",
        "secret_headers",
        metavar="NAME",
        repeat=True,
        secret=True,
        to_option=_tuple,
    ),
    Flag(
        "spec",
        "the contract (default: the spec shipped with pixelpact)",
        "target",
        "spec",
        type=Path,
        default=DEFAULT_SPEC,
        metavar="PATH",
    ),
    Flag(
        "changed-since",
        "check only the requirements x operations the spec's change since OLD touches (a file, git:REF:PATH, "
        "or a git ref of --spec); see `pixelpact diff`",
        "target",
        None,
        metavar="OLD",
        not_in_pytest="not yet: a run of the pairs a spec change touches is the command's",
    ),
    # run
    Flag("seed", "seed of the run (default: random, printed so it can be repeated)", "run", "seed", type=int),
    Flag(
        "profile",
        "how deep the run goes: quick judges every pair once at the least cost, standard sends every value the "
        "suite knows, deep adds schemathesis's coverage phase and more examples (default: deep for the built-in stub "
        "and loopback targets, quick for any other host)",
        "run",
        "profile",
        choices=tuple(PROFILES),
    ),
    Flag(
        "max-examples",
        "examples per operation for the property-based groups (default: the profile's, "
        + " / ".join(str(profile.max_examples) for profile in PROFILES.values())
        + ")",
        "run",
        "max_examples",
        type=_positive,
        metavar="N",
        minimum=1,
    ),
    Flag(
        "timeout",
        "seconds per request, all of it: connect, headers, the whole body or stream; per image for a request "
        "asking for several (default: %(default)s)",
        "run",
        "timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        positive=True,
    ),
    Flag(
        "concurrency",
        "requests in flight (default: %(default)s)",
        "run",
        "concurrency",
        type=_positive,
        default=4,
        metavar="N",
        minimum=1,
    ),
    Flag(
        "max-time",
        "a time limit for the whole run: what is left when it runs out is not judged (time), exit 3",
        "run",
        "max_time",
        type=_seconds,
        metavar="SECONDS",
        positive=True,
    ),
    Flag(
        "max-body-mb",
        "read at most MB MiB of a response; a larger one is a failure, and is not read at all when its "
        "Content-Length says so (default: %(default)s)",
        "run",
        "max_body",
        type=_positive,
        default=MAX_BODY // 2**20,
        metavar="MB",
        to_option=_mebibytes,
        check=_at_least_a_byte,
    ),
    Flag(
        "max-requests",
        "a budget: send at most N requests (a paid provider charges per image)",
        "run",
        "max_requests",
        type=_positive,
        metavar="N",
        minimum=1,
    ),
    Flag(
        "shard",
        "run shard K of N (a CI matrix spreads one run over N machines; `pixelpact merge-reports` joins them)",
        "run",
        "shard",
        type=_shard,
        metavar="K/N",
    ),
    Flag(
        "max-images",
        "a budget: ask providers for at most N images (n per request on the image routes); like --max-requests "
        "it is spent breadth first, every pair's cheapest exchange before any depth",
        "run",
        "max_images",
        type=_positive,
        metavar="N",
        minimum=0,
    ),
    Flag(
        "rate-limit",
        "send at most N requests per second or minute; a 429 is waited out (Retry-After) and retried, and ends "
        "as not judged (rate-limited) if it persists",
        "run",
        "rate_limit",
        type=_rate,
        metavar="N/s|N/min",
        changes_plan=False,
        positive=True,
    ),
    Flag(
        "plan",
        "print what the run would send (requests, images, megapixels, the pairs each judges) and send nothing",
        "run",
        None,
        switch=True,
        not_in_pytest="a dry run sends nothing and judges nothing: there would be no test to run",
    ),
    Flag(
        "upstream",
        "run the stub as a recording upstream on HOST:PORT and check the forwarding side",
        "run",
        "upstream",
        metavar="HOST:PORT",
        exclusive="upstream",
        check=_behind_a_gateway,
    ),
    Flag(
        "upstream-port",
        "the same on 127.0.0.1:PORT",
        "run",
        "upstream_port",
        type=_positive,
        metavar="PORT",
        exclusive="upstream",
        check=_behind_a_gateway,
    ),
    Flag(
        "upstream-model-rules",
        "the recording upstream plays this provider model (dall-e-2, dall-e-3, gpt-image-1 ...): it refuses what "
        "the model does not take with OpenAI's 400 invalid_request_error, so the report shows where a refusal came "
        "from (default: it serves everything the spec allows)",
        "run",
        "upstream_model_rules",
        metavar="MODEL",
        check=_known_model_rules,
    ),
    # baseline
    Flag(
        "baseline",
        "a TOML file of known deviations, each with why: they are reported, but only new failures fail the run",
        "baseline",
        "baseline",
        type=Path,
        metavar="FILE",
    ),
    Flag(
        "strict-baseline",
        "fail while the baseline lists a deviation that is fixed",
        "baseline",
        "strict_baseline",
        switch=True,
    ),
    Flag(
        "update-baseline",
        "rewrite the baseline: drop what is fixed, add new failures (edit their why); the verdict is judged "
        "against the file as it was",
        "baseline",
        "update_baseline",
        switch=True,
        not_in_pytest="it rewrites the baseline file: the command's job, not a test run's",
    ),
    # reports
    Flag(
        "junit",
        "write JUnit XML (a testcase per requirement per operation)",
        "reports",
        None,
        type=Path,
        metavar="PATH",
        not_in_pytest="pytest's own --junitxml writes a testcase per requirement per operation",
    ),
    Flag("json-report", "write the JSON report", "reports", None, type=Path, metavar="PATH"),
    Flag(
        "html-report",
        "write a self-contained HTML report",
        "reports",
        None,
        type=Path,
        metavar="PATH",
    ),
    Flag(
        "markdown-report",
        "write a Markdown summary for a CI job summary or a pull-request comment (links to --html-report)",
        "reports",
        None,
        type=Path,
        metavar="PATH",
        pytest_help="write a Markdown summary for a CI job summary or a pull-request comment (links to "
        "--pixelpact-html-report)",
    ),
    # config file (pixelpact.conformance.ci.config)
    Flag(
        "config",
        "the config file (default: pixelpact.toml or the [tool.pixelpact] table of pyproject.toml, in the current "
        "folder or above)",
        "config file",
        None,
        type=Path,
        metavar="PATH",
        pytest_help="the config file (default: found from the rootdir up)",
        starts_run=True,
        in_file=False,
    ),
    Flag(
        "target",
        "use the file's [targets.NAME] table over its top level",
        "config file",
        None,
        metavar="NAME",
        pytest_help="check the config file's [targets.NAME]",
        starts_run=True,
        in_file=False,
    ),
    Flag(
        "show-config",
        "print the options a run will use and exit",
        "config file",
        None,
        switch=True,
        not_in_pytest="it prints the options and exits: `pixelpact check --show-config` in the same folder shows them",
        in_file=False,
    ),
)

#: The secret options' names: --show-config redacts their values (pixelpact.conformance.ci.config).
SECRET = frozenset(flag.name for flag in FLAGS if flag.secret)
#: The options whose values are headers: --show-config shows their names only.
SECRET_VALUES = frozenset(flag.name for flag in FLAGS if flag.secret_values)
#: The options about the config file itself, which it cannot set.
NOT_IN_FILE = frozenset(flag.name for flag in FLAGS if flag.command and not flag.in_file)


def _keywords(flag: Flag, default: Any) -> dict[str, Any]:
    """argparse's keywords for `flag` (pytest's addoption takes the same)."""
    keywords: dict[str, Any] = {"help": flag.help, "default": default}
    if flag.switch:
        keywords["action"] = "store_true"
        return keywords
    if flag.repeat:
        keywords["action"] = "append"
    if flag.metavar is not None:
        keywords["metavar"] = flag.metavar
    if flag.choices is not None:
        keywords["choices"] = flag.choices
    return keywords


def add_arguments(parser: argparse.ArgumentParser, environ: dict[str, str] | None = None) -> None:
    """`pixelpact check`'s options, in sections, each typed and defaulted as FLAGS declares (--api-key defaults to
    $PIXELPACT_API_KEY)."""
    import os

    environment = os.environ if environ is None else environ
    sections: dict[str, Any] = {}
    exclusive: dict[str, Any] = {}
    for flag in FLAGS:
        if not flag.command:
            continue
        section = sections.get(flag.section)
        if section is None:
            section = sections[flag.section] = parser.add_argument_group(flag.section)
        container = section
        if flag.exclusive is not None:
            container = exclusive.get(flag.exclusive)
            if container is None:
                container = exclusive[flag.exclusive] = section.add_mutually_exclusive_group()
        default = environment.get(API_KEY_ENV) if flag.name == "api-key" else flag.parsed_default()
        keywords = _keywords(flag, default)
        if flag.type is not None:
            keywords["type"] = flag.type
        container.add_argument(f"--{flag.name}", **keywords)


def pytest_name(flag: Flag) -> str:
    """The pytest plugin's option for a flag: --pixelpact-NAME, or the flag's own (--pixelpact-url for --base-url)."""
    return flag.pytest_option or f"--pixelpact-{flag.name}"


def pytest_dest(flag: Flag) -> str:
    """Where pytest keeps the plugin's option (`config.getoption`)."""
    return pytest_name(flag).removeprefix("--").replace("-", "_")


def add_pytest_options(addoption: Callable[..., None]) -> None:
    """The pytest plugin's --pixelpact-NAME options, one per flag it offers. Their values stay text (no type, no
    default): the plugin hands them to check's parser, which converts them and fills the config file's values and
    the defaults in, exactly as for `pixelpact check`."""
    for flag in sorted(FLAGS, key=lambda flag: not flag.starts_run):  # first what makes the plugin run at all
        if flag.pytest:
            keywords = _keywords(flag, flag.parsed_default() if flag.repeat or flag.switch else None)
            # pytest shows no %(default)s of check's: the default is check's, said in words
            keywords["help"] = (flag.pytest_help or flag.help).replace("%(default)s", str(flag.default))
            addoption(pytest_name(flag), **keywords)


def check_tokens(getoption: Callable[[str], Any]) -> list[str]:
    """The plugin's options given (`getoption` of each pytest dest) as `pixelpact check`'s command line."""
    tokens: list[str] = []
    for flag in FLAGS:
        if not (flag.pytest and flag.command):
            continue
        value = getoption(pytest_dest(flag))
        for item in value if isinstance(value, list) else [value]:
            if item is not None and item is not False:
                tokens += [f"--{flag.name}"] if item is True else [f"--{flag.name}", str(item)]
    return tokens


def starts_run(getoption: Callable[[str], Any]) -> bool:
    """Whether the plugin's options given ask for a run (--pixelpact-url, --pixelpact, a config file or target)."""
    return any(getoption(pytest_dest(flag)) for flag in FLAGS if flag.starts_run)


def check_options(args: argparse.Namespace) -> dict[str, Any]:
    """The CheckOptions fields a parsed (and resolved) command line gives."""
    return {flag.field: _option(flag, getattr(args, flag.dest)) for flag in FLAGS if flag.field is not None}


def target_only() -> dict[str, Any]:
    """The CheckOptions fields a --plan dry run drops, at their defaults (`changes_plan` False)."""
    return {flag.field: _option(flag, flag.parsed_default()) for flag in FLAGS if flag.field and not flag.changes_plan}


def problem(options: Any) -> str | None:
    """The first CheckOptions field its flag rejects, as one line naming the option; None when all hold.

    The bounds first (`minimum`, `positive`), then each flag's `check`, in the table's order."""
    fields = [(flag, getattr(options, flag.field)) for flag in FLAGS if flag.field is not None]
    for flag, value in fields:
        if value is None:
            continue
        if flag.minimum is not None and value < flag.minimum:
            return f"{flag.name} must be at least {flag.minimum:g}"
        if flag.positive and value <= 0:
            return f"{flag.name} must be positive"
    for flag, value in fields:
        found = flag.check(value, options) if flag.check is not None and value is not None else None
        if found is not None:
            return found
    return None
