"""The Celery app of the fleet: a Redis broker, one task (an account's round), one Chromium per
worker process.

- **One task = one account's round**: sync, rules, notices (:func:`agent.app.round.run_round`),
  wrapped by the watch's own job (:meth:`agent.app.watch.Watch.job`), so a worker writes the
  same log line, journal entry and "monitoring is broken" notice as ``caselog watch``. Its
  health (failures in a row, said or not, resting until) lives in Redis, as any worker may
  run the account next.
- **A Chromium per worker process**, started after the fork (``worker_process_init``: a
  browser and its driver do not survive a fork) and kept for the process's life; each task
  opens a fresh context and closes it. ``worker_max_tasks_per_child`` replaces the process,
  and with it Chromium, after ``[fleet] worker_max_tasks`` tasks.
- **Nothing lost, nothing twice.** ``acks_late`` with ``reject_on_worker_lost``: a task is
  acknowledged only when it ended, so one whose process died is delivered again (at once when
  the worker's parent saw its child die; after ``[fleet] redeliver_seconds`` when the whole
  worker went). A round commits its store once, atomically, at its end, so a killed round left
  nothing behind, and its rerun is the round itself. A round that did end marks its task done
  (``keys.done``) before it is acknowledged; a second delivery of it finds the mark and does
  nothing. Never two workers on one account (:class:`~agent.app.fleet.lock.AccountLock`): a
  task that finds its account taken tries again a little later.
- An account that failed rests as in ``caselog watch`` (``[fleet] backoff_minutes``...): its
  tasks in the meantime end at once, so one broken account does not take a worker's time.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from celery import Celery, Task
from celery.signals import worker_process_init, worker_process_shutdown
from redis import Redis
from redis.exceptions import RedisError

from agent.app.fleet import keys
from agent.app.fleet.lock import AccountLock
from agent.app.journal import NotifyJournal, WatchJournal
from agent.app.notify import Notifier
from agent.app.watch import AccountHealth, Watch, checked_round
from agent.config import Account, Settings
from agent.core.models import utcnow
from agent.errors import ConfigError, FleetUnavailable
from agent.home import Home
from agent.site.session import KeptBrowser

__all__ = ["ROUND_TASK", "Fleet", "make_app", "masked", "redis_url"]

log = logging.getLogger("caselog.fleet")

ROUND_TASK = "caselog.round"
DONE_FOR = timedelta(days=2)  # how long a task's done mark is kept (longer than any redelivery)
ROUNDS_KEPT = 200  # rounds listed per account in Redis
NEVER = datetime(2000, 1, 1, tzinfo=UTC)
UNACKED_MUTEX_SECONDS = 10  # see make_app: the redelivery sweep's lock


def redis_url(settings: Settings) -> str:
    """The fleet's Redis: ``CASELOG_REDIS_URL`` if set, else ``[fleet] redis_url``."""
    return os.environ.get("CASELOG_REDIS_URL") or settings.fleet.redis_url


def masked(url: str) -> str:
    """The URL without its password, for a log line or an error."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def connect(url: str) -> Redis:
    """A client of the fleet's Redis, checked; one sentence when it cannot be reached."""
    client = Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
    try:
        client.ping()
    except RedisError as exc:
        raise FleetUnavailable(
            f"cannot reach the fleet's Redis at {masked(url)} ({exc}); start it (`redis-server`"
            ", or `docker compose up -d redis`) or point [fleet] redis_url in caselog.toml or "
            "CASELOG_REDIS_URL at it"
        ) from None
    return client


def _health_from(raw: bytes | str | None) -> AccountHealth:
    if not raw:
        return AccountHealth()
    data = json.loads(raw)
    rest = data.get("rest_until")
    return AccountHealth(
        failures=int(data.get("failures", 0)),
        alerted=bool(data.get("alerted", False)),
        rounds=int(data.get("rounds", 0)),
        last_error=str(data.get("last_error", "")),
        rest_until=datetime.fromisoformat(rest) if rest else None,
    )


def _health_json(health: AccountHealth) -> str:
    data = asdict(health)
    data["rest_until"] = health.rest_until.isoformat() if health.rest_until else None
    return json.dumps(data)


class Fleet:
    """What one worker process keeps between tasks: the settings, its Redis client, its
    Chromium (started after the fork), its notifier and journal."""

    def __init__(self, home: Home, settings: Settings, url: str) -> None:
        self.home = home
        self.settings = settings
        self.url = url
        self._client: Redis | None = None
        self.browser = KeptBrowser(max_rounds=10**9)  # the process is replaced instead
        self.notifier = Notifier(settings.notify.urls, NotifyJournal(home))
        self.journal = WatchJournal(home, settings.watch.interval_minutes)

    @property
    def client(self) -> Redis:
        if self._client is None:  # after the fork: a connection is not shared with the parent
            self._client = connect(self.url)
        return self._client

    def start_browser(self) -> None:
        self.browser.session()

    def close(self) -> None:
        self.browser.close()

    # -- one task ---------------------------------------------------------------------------

    def round(self, task: Task, name: str) -> str:
        """Run one round of account ``name`` for ``task``; say what came of it."""
        task_id = str(task.request.id)
        client = self.client
        if client.exists(keys.done(task_id)):
            log.info("%s: task %s already ran to its end; nothing to do", name, task_id)
            return "duplicate"
        try:
            account = self.settings.account(name)
        except ConfigError as exc:
            log.warning("%s: %s; the task is dropped", name, exc)
            return "unknown"
        lock = AccountLock(client, name, self.settings.fleet.lock_seconds)
        if not lock.acquire():
            wait = min(15.0, self.settings.fleet.lock_seconds / 4)
            log.info("%s: another worker has this account; trying again in %.0f s", name, wait)
            raise task.retry(countdown=wait, max_retries=None)
        with lock:
            if client.exists(keys.done(task_id)):  # its other delivery ended while we waited
                return "duplicate"
            health = _health_from(client.get(keys.health(name)))
            if health.rest_until is not None and utcnow() < health.rest_until:
                log.info(
                    "%s: resting after %d failed round(s) until %s",
                    name,
                    health.failures,
                    health.rest_until.isoformat(timespec="seconds"),
                )
                self._done(task_id, name, {"result": "resting"})
                return "resting"
            return self._run(task_id, account, health)

    def _run(self, task_id: str, account: Account, health: AccountHealth) -> str:
        name = account.name
        started = utcnow()
        watch = Watch(
            self.settings,
            [account],
            lambda acc: self._one_round(acc),
            self.notifier,
            journal=self.journal,
            notify=bool(self.settings.notify.urls),
            health={name: health},
        )
        watch.job(account)
        after = watch.health[name]
        result = "complete" if after.failures == 0 else "failed"
        self.client.set(keys.health(name), _health_json(after))
        self._done(
            task_id,
            name,
            {
                "result": result,
                "started": started.isoformat(),
                "ended": utcnow().isoformat(),
                "worker": os.getpid(),
                "detail": after.last_error,
            },
        )
        return result

    def _one_round(self, account: Account) -> object:
        try:
            return checked_round(
                self.browser.session(), account, self.settings, self.home, self.notifier
            )
        finally:
            self.browser.round_done()

    def _done(self, task_id: str, name: str, record: dict[str, Any]) -> None:
        line = json.dumps({"task_id": task_id, "account": name, **record})
        with self.client.pipeline() as pipe:  # MULTI/EXEC: the mark and the record together
            pipe.set(keys.done(task_id), line, ex=int(DONE_FOR.total_seconds()))
            pipe.rpush(keys.rounds(name), line)
            pipe.ltrim(keys.rounds(name), -ROUNDS_KEPT, -1)
            pipe.execute()


def make_app(home: Home, settings: Settings, url: str | None = None) -> Celery:
    """The fleet's Celery app for this home and settings (workers and scheduler alike)."""
    url = url or redis_url(settings)
    fleet = settings.fleet
    app = Celery("caselog", broker=url, set_as_current=False)
    interval = timedelta(minutes=settings.watch.interval_minutes)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_max_tasks_per_child=fleet.worker_max_tasks,
        worker_hijack_root_logger=False,
        worker_redirect_stdouts=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": fleet.redeliver_seconds,
            # look for tasks of dead workers every ~5 s (kombu's default: every 100 s)
            "unacked_restore_interval": 1,
            "unacked_restore_throttle": 5,
            # the lock a worker holds while it looks (a few ms): a worker killed holding it
            # kept every other from redelivering anything for kombu's default 5 minutes
            "unacked_mutex_expire": UNACKED_MUTEX_SECONDS,
        },
        timezone="UTC",
        result_expires=None,  # no results kept, so no cleanup entry in the schedule
        # the scheduler renews its lock at every tick: ticks well within the lock's time
        beat_max_interval=min(5.0, fleet.scheduler_lock_seconds / 3),
        redbeat_redis_url=url,
        redbeat_redis_options={},  # its own (else it borrows the broker's, and warns)
        redbeat_key_prefix=keys.BEAT_PREFIX,
        redbeat_lock_timeout=fleet.scheduler_lock_seconds,
        beat_schedule={
            f"round:{account.name}": {
                "task": ROUND_TASK,
                "schedule": interval,
                "args": (account.name,),
                # an entry never sent is due at once: a fleet's first round starts when it
                # does, as `caselog watch`'s does (RedBeat keeps the last run of one it knows)
                "last_run_at": NEVER,
            }
            for account in settings.accounts
        },
    )
    state = Fleet(home, settings, url)
    app.fleet = state

    @app.task(name=ROUND_TASK, bind=True, acks_late=True, reject_on_worker_lost=True)
    def account_round(self: Task, account: str) -> str:
        return state.round(self, account)

    def started(**_: object) -> None:
        state.start_browser()

    def stopping(**_: object) -> None:
        state.close()

    worker_process_init.connect(started, weak=False)
    worker_process_shutdown.connect(stopping, weak=False)
    return app
