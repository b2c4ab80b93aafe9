"""Several accounts read at once by one Chromium, from one thread.

Playwright's sync API runs its event loop in a *dispatcher* greenlet: a call sends its
request to the driver, then switches to the dispatcher until the answer comes back, and the
answer switches back to the greenlet that asked. Any greenlet may ask, not only the main one,
so several jobs, each in a greenlet of its own, wait for the browser at the same time and
take turns in Python, where each runs until its next browser call: while one account's page
fetches its Case Log, another's store is being written. That is what :class:`Crew` does.

Why greenlets and not threads or processes: the sync API is bound to the thread that started
it, so a thread per account would need a driver (a Node process, ~140 MB) and, for isolation,
a Chromium of its own; one process with one driver, one Chromium and one context per account
costs a renderer per account being read, nothing more. The Python side (parsing, diff, the
store) is serialised anyway by the interpreter lock.

The rule for a job: it waits only through the browser (a Playwright call, or
:meth:`~agent.site.session.AccountContext.pause`), never with ``time.sleep``, or it holds up
every other job for that long. A job's exception is its result; it never reaches the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from greenlet import GreenletExit, getcurrent, greenlet

__all__ = ["Crew"]

T = TypeVar("T")


class Crew:
    """Runs jobs ``at_once`` at a time on the Playwright connection of ``anchor`` (any sync
    Playwright object: the session's browser)."""

    def __init__(self, anchor: Any, at_once: int) -> None:
        self._loop = anchor._loop
        self._dispatcher: greenlet = anchor._dispatcher_fiber
        self.at_once = max(1, at_once)

    def run(self, jobs: Sequence[Callable[[], T]]) -> list[T | BaseException]:
        """Every job's outcome, in the order of ``jobs``."""
        results: list[Any] = [None] * len(jobs)
        if not jobs:
            return results
        if self.at_once == 1 or len(jobs) == 1:
            for i, job in enumerate(jobs):
                results[i] = _outcome(job)
            return results
        queue: Iterator[tuple[int, Callable[[], T]]] = iter(enumerate(jobs))
        done = self._loop.create_future()
        running = [min(self.at_once, len(jobs))]

        def worker() -> None:
            for i, job in queue:  # one queue shared by every worker: the next job, in order
                results[i] = _outcome(job)
            running[0] -= 1
            if running[0] == 0 and not done.done():
                done.set_result(None)
            # returning hands control back to the dispatcher, this greenlet's parent

        for _ in range(running[0]):
            self._loop.call_soon(greenlet(worker, parent=self._dispatcher).switch)
        self._wait(done)
        return results

    def _wait(self, future: Any) -> None:
        """Let the dispatcher run (and with it the workers) until ``future`` is done, as a
        Playwright call waits for its answer."""
        me = getcurrent()

        def resume(_: object) -> None:
            me.switch()

        future.add_done_callback(resume)
        try:
            while not future.done():
                if self._dispatcher.dead:
                    raise RuntimeError("the browser driver stopped while accounts were read")
                self._dispatcher.switch()
        finally:
            future.remove_done_callback(resume)


def _outcome(job: Callable[[], T]) -> T | BaseException:
    try:
        return job()
    except GreenletExit:
        raise
    except BaseException as exc:  # the job's own result: the caller decides what it means
        return exc
