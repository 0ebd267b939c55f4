"""Metaflow's core test suite, through our driver, as pytest cases.

Default: the CI subset (``ci_subset.SUBSET``), with the cases known to fail
marked ``xfail(strict=True)``. ``pytest --metaflow-core-full`` runs every case
of the ``python3-all-local`` context instead, with no expected failures (the
measurement; the driver's script prints the same as a report).
"""

from __future__ import annotations

import functools

import pytest

from tests.metaflow_core import ci_subset, driver, execute

FULL_OPTION = "--metaflow-core-full"


def runner_available() -> bool:
    try:
        from sfncompile import Runner  # noqa: F401
    except (ImportError, AttributeError):
        return False
    return True


@functools.lru_cache(maxsize=None)
def generated() -> dict:
    return driver.generate()


def _full_matrix_params():
    context = execute.load_context()
    result = generated()
    cases = driver.select(result["cases"], context, set(), set())
    if not cases:
        return [pytest.param("harness", "cli", id="harness-load")]
    params = []
    for case in cases:
        case_id = f"{case['test']}/{case['graph']}"
        if driver.refusal_of(case) is not None:
            params.append(pytest.param(case_id, "check", id=f"{case_id}@check"))
        else:
            params.extend(pytest.param(case_id, e, id=f"{case_id}@{e}") for e in ("cli", "api"))
    return params


def _subset_params():
    params = []
    for case_id in ci_subset.SUBSET + ci_subset.REFUSED:
        executors = ("check",) if case_id in ci_subset.REFUSED else ("cli", "api")
        for executor in executors:
            marks = []
            reason = ci_subset.EXPECTED_FAILURES.get(f"{case_id}@{executor}") or \
                ci_subset.EXPECTED_FAILURES.get(case_id)
            if executor == "api" and not runner_available():
                marks.append(pytest.mark.skip(reason="the Runner API is not on main yet (executor)"))
            elif reason:
                marks.append(pytest.mark.xfail(reason=reason, strict=True))
            params.append(pytest.param(case_id, executor, id=f"{case_id}@{executor}", marks=marks))
    return params


def pytest_generate_tests(metafunc):
    if {"case_id", "executor"} <= set(metafunc.fixturenames):
        full = metafunc.config.getoption(FULL_OPTION)
        metafunc.parametrize(("case_id", "executor"), _full_matrix_params() if full else _subset_params())


@pytest.fixture(scope="module")
def suite():
    context = execute.load_context()
    settings = execute.configure(execute.Settings(timeout=300.0, context=context), context)
    result = generated()
    cases = {f"{c['test']}/{c['graph']}": c for c in result["cases"]}
    return context, settings, cases, result["errors"]


def _details(outcome: execute.Outcome) -> str:
    lines = [f"{outcome.case} [{outcome.executor}]: {outcome.reason}"]
    for proc in outcome.procs[-2:]:
        lines.append(f"--- {proc.what} (exit {proc.returncode}, {proc.seconds:.1f}s): {' '.join(proc.argv)}")
        lines.extend(proc.stderr.strip().splitlines()[-25:])
    return "\n".join(lines)


def test_metaflow_core_case(case_id, executor, suite):
    context, settings, cases, errors = suite
    case = cases.get(case_id)
    if case is None:
        why = "; ".join(f"{e['what']}: {e['error']}" for e in errors) or "not a case of the python3-all-local context"
        pytest.fail(f"{case_id} was not generated: {why}", pytrace=False)
    refusal = driver.refusal_of(case)
    if refusal is not None:
        outcome = execute.check_refusal(case, refusal[1], settings, context)
        assert outcome.verdict == execute.REFUSED, _details(outcome)
        return
    outcome = execute.run_case(case, executor, context, settings)
    if outcome.verdict == execute.UNAVAILABLE:
        pytest.skip(outcome.reason)
    assert outcome.verdict == execute.PASS, _details(outcome)
