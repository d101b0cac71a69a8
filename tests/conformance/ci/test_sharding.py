"""--shard K/N and `pixelpact merge-reports`: three shards merged give the pairs, statuses and verdict of one
unsharded run with the same seed, with no request sent twice; an incomplete set of shards is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pixelpact.conformance.cli import main
from pixelpact.conformance.scope.sharding import Shard
from pixelpact.conformance.suite import ALL_GROUPS

#: Every group on three operations (JSON generations, multipart edits and variations): one per shard.
RUN = ["--operation", "createImage", "--operation", "createImageEdit", "--operation", "createImageVariation"]
RUN += ["--seed", "5", "--max-examples", "1"]


def check(url: str, report: Path, *args: str) -> int:
    return main(["check", "--base-url", url, *RUN, "--json-report", str(report), *args])


def pairs(document: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(r["id"], r["operation"]): r["status"] for r in document["requirements"]}


def test_three_shards_merged_equal_one_unsharded_run(
    two_deviations_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = tmp_path / "whole.json"
    assert check(two_deviations_url, whole) == 1
    shards = [tmp_path / f"shard-{k}.json" for k in (1, 2, 3)]
    for k, path in enumerate(shards, start=1):
        check(two_deviations_url, path, "--shard", f"{k}/3")
    merged = tmp_path / "merged.json"

    status = main(
        ["merge-reports", *map(str, shards), "--json-report", str(merged), "--junit", str(tmp_path / "j.xml")]
    )

    capsys.readouterr()
    expected, got = json.loads(whole.read_text()), json.loads(merged.read_text())
    assert status == expected["exit_status"] == 1
    assert got["verdict"] == expected["verdict"] == "fail"
    assert pairs(got) == pairs(expected)
    assert [r["id"] for r in got["requirements"]] == [r["id"] for r in expected["requirements"]]  # same order
    parts = [json.loads(path.read_text()) for path in shards]
    assert all(part["requirements"] for part in parts)  # every shard had work
    # the shards split the requests between them: none sent twice, none left out
    assert sum(part["requests_sent"] for part in parts) == expected["requests_sent"] == got["requests_sent"]


def test_the_plan_deals_every_unit_to_exactly_one_shard() -> None:
    from pixelpact.conformance.engine.contract import load_contract

    operations = load_contract().operations
    for chosen, total in ((operations, 4), (operations[:2], 3)):
        whole = {(group.name, op.operation_id) for group in ALL_GROUPS for op in chosen}
        plans = [Shard(k, total).plan(ALL_GROUPS, chosen) for k in range(1, total + 1)]
        dealt = [(name, op.operation_id) for plan in plans for name, ops in plan.items() for op in ops]
        assert sorted(dealt) == sorted(whole)
        sizes = [sum(len(ops) for ops in plan.values()) for plan in plans]
        assert all(sizes) and max(sizes) - min(sizes) <= len(ALL_GROUPS)
    # with enough operations, an operation and every group on it stay together (its preconditions, its findings)
    owners: dict[str, set[int]] = {}
    for k in (1, 2, 3, 4):
        for ops in Shard(k, 4).plan(ALL_GROUPS, operations).values():
            for op in ops:
                owners.setdefault(op.operation_id, set()).add(k)
    assert all(len(shards) == 1 for shards in owners.values()) and len(owners) == len(operations)
    assert Shard.parse(" 2/3 ") == Shard(2, 3) and str(Shard(2, 3)) == "2/3"


@pytest.mark.parametrize("text", ["0/3", "4/3", "3", "a/b", "1/0"])
def test_a_bad_shard_is_refused_by_argparse(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--shard", text])
    assert exc.value.code == 2
    assert "--shard: " in capsys.readouterr().err


def test_a_shard_with_nothing_to_run_is_an_error(stub_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", "--base-url", stub_url, "--operation", "createImage", "--group", "valid", "--shard", "2/2"])
    assert status == 2
    assert "shard 2/2 has nothing to run" in capsys.readouterr().err


@pytest.fixture(scope="module")
def shard_reports(stub_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three small shard reports (three groups on one operation: three units, one per shard) and an unsharded one."""
    folder = tmp_path_factory.mktemp("shards")
    reports = {}
    for name, extra in (("1", ["--shard", "1/3"]), ("2", ["--shard", "2/3"]), ("3", ["--shard", "3/3"]), ("all", [])):
        reports[name] = folder / f"{name}.json"
        extra += ["--group", "valid", "--group", "invalid", "--group", "robustness", "--seed", "9"]
        extra += ["--json-report", str(reports[name])]
        main(["check", "--base-url", stub_url, "--operation", "createImage", *extra])
    return reports


@pytest.mark.parametrize(
    ("names", "error"),
    [
        (["1", "2"], "shard 3/3 missing: a merged verdict without it would not cover the run"),
        (["1", "2", "2", "3"], "shard 2/3 again"),
        (["1", "all"], "not a shard (run with --shard K/N)"),
        ([], "no reports to merge"),
    ],
)
def test_an_incomplete_set_of_shards_is_refused(
    shard_reports: dict[str, Path], names: list[str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    if not names:
        from pixelpact.conformance.ci.merge import MergeError, merge

        with pytest.raises(MergeError, match=error):
            merge([])
        return
    status = main(["merge-reports", *(str(shard_reports[name]) for name in names)])

    err = capsys.readouterr().err
    assert status == 2 and error in err and len(err.strip().splitlines()) == 1


def test_a_single_unsharded_report_merges_to_itself(shard_reports: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "again.json"
    assert main(["merge-reports", str(shard_reports["all"]), "--json-report", str(out)]) == 0
    assert pairs(json.loads(out.read_text())) == pairs(json.loads(shard_reports["all"].read_text()))


def test_merge_judges_the_whole_run_against_a_baseline(
    shard_reports: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fixed entry is only fixed when no shard still fails it; --strict-baseline then fails the merged run."""
    file = tmp_path / "baseline.toml"
    file.write_text('[[deviation]]\nrequirement = "n-out-of-range-rejected"\nwhy = "was accepted"\n')
    shards = [str(shard_reports[name]) for name in ("1", "2", "3")]

    assert main(["merge-reports", *shards, "--baseline", str(file)]) == 0
    assert "fixed: n-out-of-range-rejected (remove it from the baseline)" in capsys.readouterr().out
    assert main(["merge-reports", *shards, "--baseline", str(file), "--strict-baseline"]) == 1
    assert main(["merge-reports", *shards, "--baseline", str(tmp_path / "nope.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_budget_cut_shard_lists_only_its_own_operations(stub_url: str, tmp_path: Path) -> None:
    report = tmp_path / "cut.json"
    cut = ["--shard", "2/3", "--max-requests", "5", "--json-report", str(report)]
    status = main(["check", "--base-url", stub_url, *RUN, *cut])

    document = json.loads(report.read_text())
    assert status == document["exit_status"] == 3  # incomplete: the budget cut it short
    assert {r["operation"] for r in document["requirements"]} == {"createImageEdit"}
    assert any(r["reason"] == "budget" for r in document["requirements"])
