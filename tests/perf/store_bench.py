"""Where a fleet keeps each account's store, measured: ``python -m tests.perf.store_bench``.

Prints figures and asserts nothing. Two candidates, the same :class:`~agent.store.Store` (the
same TinyDB tables, read and written the same way) over two backends:

- **folder**: the store as it is (:class:`~agent.store.backend.FolderBackend`, a generation
  folder per commit, temp + fsync + rename) in a home the workers share, each round under
  the account's Redis lock (:class:`~agent.app.fleet.lock.AccountLock`), whose acquire and
  release are timed with it;
- **redis**: a prototype kept here, not in the product (:class:`RedisBackend`): every table a
  field of one Redis hash per account, a commit one ``WATCH``/``MULTI``/``EXEC`` that writes
  the changed tables and bumps a generation, refused when the generation moved (optimistic
  locking, as the folder's ``StoreConflict``).

For an account of ``--cases`` × ``--messages`` (synthetic records, tests/perf/export_bench.py),
each backend: the first commit (every table written), then ``--repeat`` rounds of what a
watch round does to the store: open it (and take the account's lock), read the cases and the
threads of ``--changed`` cases, put those cases with one more message each, commit, close.
Also: the bytes an account takes, and what that makes for a fleet of 500 accounts.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from redis import Redis, WatchError

from agent.app.fleet.lock import AccountLock
from agent.core.models import Case, Direction, Message
from agent.errors import StoreConflict
from agent.store import Store
from tests.perf.export_bench import synthetic_case
from tests.perf.redis_process import RedisProcess

ACCOUNT = "bench-seller"
GENERATION = "__generation__"


class RedisBackend:
    """An account's tables in one Redis hash (the prototype this benchmark measures)."""

    def __init__(self, client: Redis, account: str) -> None:
        self.client = client
        self.key = f"caselog:store:{account}"
        raw = client.hget(self.key, GENERATION)
        self._generation = int(raw) if raw else 0

    def read(self, table: str) -> bytes | None:
        return self.client.hget(self.key, table)  # type: ignore[return-value]

    def commit(self, tables: Mapping[str, bytes]) -> None:
        if not tables:
            return
        with self.client.pipeline() as pipe:
            try:
                pipe.watch(self.key)
                now = pipe.hget(self.key, GENERATION)
                if (int(now) if now else 0) != self._generation:
                    raise StoreConflict(f"{self.key} moved since it was read")
                pipe.multi()
                pipe.hset(self.key, mapping=dict(tables))
                pipe.hincrby(self.key, GENERATION, 1)
                pipe.execute()
            except WatchError:
                raise StoreConflict(f"{self.key} moved while it was written") from None
        self._generation += 1

    def exists(self) -> bool:
        return bool(self.client.exists(self.key))

    def size(self) -> int:
        return sum(len(v) for k, v in self.client.hgetall(self.key).items() if k != GENERATION)

    def legacy_tables(self) -> None:
        return None


def account_records(n_cases: int, n_messages: int) -> tuple[list[Case], list[Message]]:
    cases: list[Case] = []
    messages: list[Message] = []
    for i in range(n_cases):
        rnd = random.Random(7_000_003 + i)
        case, msgs, _, _ = synthetic_case(rnd, ACCOUNT, f"{10_000_000_000 + i}", n_messages)
        cases.append(case)
        messages += msgs
    return cases, messages


def news(case: Case, n: int) -> tuple[Case, Message]:
    """One more message from Amazon on ``case``: what a round stores for a changed case."""
    msg = Message(
        message_id=f"m{case.case_id}-news{n}",
        case_id=case.case_id,
        direction=Direction.FROM_AMAZON,
        sender="Amazon Seller Support",
        sent_at=case.last_updated_at,
        body=f"An update ({n}) on your case.",
    )
    return case.model_copy(update={"message_count": case.message_count + 1}), msg


class Candidate:
    def __init__(self, name: str, open_store: Callable[[], Store], lock: Callable[[], Any]):
        self.name = name
        self.open_store = open_store
        self.lock = lock
        self.first_s = 0.0
        self.rounds: list[float] = []
        self.commits: list[float] = []
        self.bytes = 0


def measure(c: Candidate, cases: list[Case], messages: list[Message], args: Any) -> None:
    t = time.perf_counter()
    with c.open_store() as store:
        store.put_cases(cases)
        store.put_messages(messages)
        store.commit()
    c.first_s = time.perf_counter() - t
    step = max(1, len(cases) // max(1, args.changed))
    for r in range(args.repeat):
        t = time.perf_counter()
        lock = c.lock()
        with lock, c.open_store() as store:
            stored = store.cases()
            changed = [stored[i] for i in range(r % step, len(stored), step)][: args.changed]
            store.messages_of([x.case_id for x in changed])
            updated = [news(x, r) for x in changed]
            store.put_cases([u[0] for u in updated])
            store.put_messages([u[1] for u in updated])
            t_commit = time.perf_counter()
            store.commit()
            c.commits.append(time.perf_counter() - t_commit)
        c.rounds.append(time.perf_counter() - t)
    with c.open_store() as store:
        c.bytes = store.size()


class Held:
    """An :class:`AccountLock` taken and given back, as a round does."""

    def __init__(self, client: Redis) -> None:
        self.lock = AccountLock(client, ACCOUNT, 120)

    def __enter__(self) -> None:
        if not self.lock.acquire():
            raise RuntimeError("the bench's own lock is taken")

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def spread(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return f"{min(ms):7.1f} {statistics.median(ms):7.1f} {max(ms):7.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=300)
    ap.add_argument("--messages", type=int, default=6)
    ap.add_argument("--changed", type=int, default=10, help="cases changed per round")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--accounts", type=int, default=500, help="a fleet's size, for its total")
    ap.add_argument("--home", type=Path, default=None, help="the folder store here (a share)")
    args = ap.parse_args(argv)
    cases, messages = account_records(args.cases, args.messages)
    with RedisProcess() as redis_server, tempfile.TemporaryDirectory() as tmp:
        client = redis_server.client()
        folder = (args.home or Path(tmp)) / "data" / ACCOUNT
        candidates = [
            Candidate("folder", lambda: Store.open(folder), lambda: Held(client)),
            Candidate(
                "redis",
                lambda: Store(RedisBackend(client, ACCOUNT), None, None),
                lambda: Held(client),
            ),
        ]
        for c in candidates:
            measure(c, cases, messages, args)
        used = int(client.info("memory")["used_memory"])
    print(
        f"store benchmark: one account of {args.cases} cases x {args.messages} messages, "
        f"{args.changed} cases changed per round, {args.repeat} rounds (ms: min median max)"
    )
    for c in candidates:
        print(f"\n{c.name}")
        print(f"  first commit (every table)           {c.first_s * 1000:7.1f}")
        print(f"  round: lock, open, read, put, commit {spread(c.rounds)}")
        print(f"  of which the commit                  {spread(c.commits)}")
        print(f"  the account's tables                 {c.bytes / 1e6:7.2f} MB")
        fleet = f"{args.accounts} such accounts"
        print(f"  {fleet:<37}{c.bytes * args.accounts / 1e9:7.2f} GB")
    print(f"\nRedis's used_memory after both: {used / 1e6:.1f} MB (the redis candidate's hash)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
