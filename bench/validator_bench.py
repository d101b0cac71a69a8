"""Evaluate jsonschema-rs (already installed: schemathesis depends on it) against the validators pixelpact uses.

Run: .venv/bin/python bench/validator_bench.py [--runs 5] [--responses 2000]

1. The spec: openapi-spec-validator (import, then `OpenAPIV31SpecValidator(doc).iter_errors()`, what `validate-spec`
   and `check` run) against `pixelpact.generator.quick_check` (what `generate` runs first: jsonschema-rs with the
   OpenAPI 3.1 schema, the 2020-12 meta-schema on component schemas, unique operationIds, declared path parameters).
   Each import and first validation in a fresh process (median of --runs), as a cold command pays them. The quick pass
   checks less: openapi-spec-validator also walks every Schema Object, default and parameter.
2. The suite's response validation (`pixelpact.conformance.groups._judge.schema_problem`): jsonschema's
Draft202012Validator
   against jsonschema-rs on the same schemas and bodies, in-process, per response (a valid ImagesResponse body).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SPEC_OSPV = """
import time; t0 = time.perf_counter()
from openapi_spec_validator import OpenAPIV31SpecValidator
t1 = time.perf_counter()
import yaml; doc = yaml.load(open({spec!r}), Loader=yaml.CSafeLoader)
t2 = time.perf_counter(); errors = list(OpenAPIV31SpecValidator(doc).iter_errors()); t3 = time.perf_counter()
print(t1 - t0, t3 - t2, len(errors))
"""
SPEC_RS = """
import time; t0 = time.perf_counter()
import jsonschema_rs
t1 = time.perf_counter()
import yaml; doc = yaml.load(open({spec!r}), Loader=yaml.CSafeLoader)
t2 = time.perf_counter()
from pixelpact.generator.quick_check import looks_valid
ok = looks_valid(doc); t3 = time.perf_counter()
print(t1 - t0, t3 - t2, 0 if ok else 1)
"""
IMPORT_RS = "import time; t0 = time.perf_counter(); import jsonschema_rs; print(time.perf_counter() - t0, 0, 0)"


def fresh(code: str, runs: int) -> tuple[float, float, int]:
    rows = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        rows.append([float(x) for x in out.split()])
    return statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows), int(rows[0][2])


def responses(count: int) -> None:
    import jsonschema_rs
    from jsonschema import Draft202012Validator

    from pixelpact.conformance.engine.contract import load_contract

    contract = load_contract()
    operation = next(op for op in contract.operations if op.operation_id == "createImage")
    schema = operation.response_schema
    png = "iVBORw0KGgo" + "A" * 2000
    body = json.loads(json.dumps({"created": 1, "data": [{"b64_json": png}, {"b64_json": png}]}))
    for name, make in (("jsonschema Draft202012Validator", Draft202012Validator), ("jsonschema-rs", None)):
        start = time.perf_counter()
        validator = make(schema) if make is not None else jsonschema_rs.validator_for(schema)
        built = time.perf_counter() - start
        assert not list(validator.iter_errors(body)), name
        start = time.perf_counter()
        for _ in range(count):
            next(iter(validator.iter_errors(body)), None)
        each = (time.perf_counter() - start) / count
        print(f"| {name} | {built * 1000:.2f} ms | {each * 1e6:.1f} µs |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--responses", type=int, default=2000)
    args = parser.parse_args()
    spec = str(ROOT / "spec" / "openapi.yaml")
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.2f}, runs: {args.runs}")
    print("| the spec, fresh process | import (s) | validation (s) | errors |")
    print("|---|---:|---:|---:|")
    for label, code in (
        ("openapi-spec-validator 0.9 (OpenAPIV31SpecValidator)", SPEC_OSPV),
        ("pixelpact.generator.quick_check (jsonschema-rs: 3.1 schema, meta-schema, ids, path parameters)", SPEC_RS),
        ("jsonschema-rs alone (import)", IMPORT_RS),
    ):
        imported, validated, errors = fresh(code.format(spec=spec), args.runs)
        print(f"| {label} | {imported:.3f} | {validated:.3f} | {errors} |")
    print()
    print(f"| response validation ({args.responses} valid createImage bodies) | build | per response |")
    print("|---|---:|---:|")
    responses(args.responses)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
