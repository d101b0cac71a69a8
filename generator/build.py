"""The whole pipeline in memory: spec file -> validated dict -> IR -> rendered, formatted files."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from generator.errors import GenerationFailed
from generator.formatting import format_files
from generator.loader import SpecError, SpecProblem, iter_problems, read_document
from generator.parser import parse
from generator.render import render


def generate(spec: Path) -> dict[str, str]:
    """The files of the generated package, by relative path. Raises SpecError or GenerationFailed on a bad spec.

    Validating the document against OpenAPI 3.1 and generating from it are the two slow steps and independent, so
    validation runs in a forked process meanwhile; its verdict wins: code generated from an invalid spec is dropped.
    """
    document = read_document(spec)
    with _validation(document) as pending:
        try:
            api, errors = parse(document)
            files = {} if errors else format_files(render(api))
            failure: Exception | None = None
        except Exception as exc:  # judged below: an invalid spec explains it, otherwise it is a generator bug
            failure, errors, files = exc, [], {}
        problems = pending.result()
    if problems:
        raise SpecError(spec, problems)
    if failure is not None:
        raise failure
    if errors:
        raise GenerationFailed(str(spec), errors)
    return files


class _validation:
    """`with _validation(document) as pending: ... pending.result()`: iter_problems in a forked child when possible."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Future[list[SpecProblem]]:
        if "fork" in multiprocessing.get_all_start_methods():
            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
            return self.pool.submit(_problems, self.document)
        done: Future[list[SpecProblem]] = Future()
        done.set_result(_problems(self.document))
        return done

    def __exit__(self, *exc_info: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _problems(document: dict[str, Any]) -> list[SpecProblem]:
    return list(iter_problems(document))
