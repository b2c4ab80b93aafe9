"""A crew reads several accounts at once on one Chromium from one thread: jobs that wait
through the browser overlap, at most ``at_once`` run at a time, outcomes come back in the
jobs' order, and a job's exception is its outcome, not the others' end."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from agent.site.crew import Crew

pytestmark = pytest.mark.browser

WAIT_MS = 400


def jobs_on(page: Any, n: int, log: list[int]) -> list[Callable[[], object]]:
    """``n`` jobs, each waiting WAIT_MS through the browser; job 2 fails. ``log`` gets +1
    when a job starts and -1 when it ends."""

    def job(i: int) -> object:
        log.append(1)
        try:
            page.wait_for_timeout(WAIT_MS)
            if i == 2:
                raise ValueError("account 2 is broken")
            return f"account {i}"
        finally:
            log.append(-1)

    return [lambda i=i: job(i) for i in range(n)]


def most_at_once(log: list[int]) -> int:
    running = peak = 0
    for step in log:
        running += step
        peak = max(peak, running)
    return peak


def timed(crew: Crew, jobs: list[Callable[[], object]]) -> tuple[list[object], float]:
    started = time.monotonic()
    outcomes = crew.run(jobs)
    return outcomes, time.monotonic() - started


def test_a_crew_overlaps_its_jobs_in_order_and_keeps_failures_apart(
    browser: Any, page: Any
) -> None:
    one_log: list[int] = []
    one, one_s = timed(Crew(browser, 1), jobs_on(page, 6, one_log))
    many_log: list[int] = []
    many, many_s = timed(Crew(browser, 3), jobs_on(page, 6, many_log))

    for outcomes in (one, many):
        assert [o if isinstance(o, str) else repr(o) for o in outcomes] == [
            "account 0",
            "account 1",
            "ValueError('account 2 is broken')",
            "account 3",
            "account 4",
            "account 5",
        ]
    assert most_at_once(one_log) == 1
    assert most_at_once(many_log) == 3
    assert one_s >= 6 * WAIT_MS / 1000
    assert many_s < one_s * 0.7, (one_s, many_s)  # two waves of three instead of six


def test_a_crew_of_one_job_runs_it_here(browser: Any) -> None:
    assert Crew(browser, 4).run([lambda: "alone"]) == ["alone"]
    assert Crew(browser, 4).run([]) == []
