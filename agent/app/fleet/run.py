"""``caselog worker`` and ``caselog scheduler``: the two processes of a fleet.

- A **worker** is a Celery worker (prefork pool): ``concurrency`` processes, each with its
  own Chromium, each running one account's round at a time (see :mod:`.tasks`).
- The **scheduler** is Celery beat with RedBeat's scheduler: the schedule (every account
  every ``[watch] interval_minutes``) and each entry's last run are kept in Redis, and beat
  holds a lock there, renewed every few seconds. A second scheduler started by mistake waits
  for that lock and sends nothing; when the first dies, the lock expires (``[fleet]
  scheduler_lock_seconds``, 30 s) and the second carries on from the last runs Redis
  recorded, without sending what was already sent. What it sends is listed in Redis
  (``caselog:published``, with the sender's PID) for whoever wants to check.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from celery.signals import after_task_publish

from agent.app.fleet import keys
from agent.app.fleet.tasks import ROUND_TASK, connect, make_app, masked, redis_url
from agent.config import Settings
from agent.errors import ConfigError
from agent.home import Home

__all__ = ["run_scheduler", "run_worker"]

log = logging.getLogger("caselog.fleet")
PUBLISHED_KEPT = 5000


def run_worker(
    home: Home,
    settings: Settings,
    *,
    concurrency: int = 1,
    max_tasks: int | None = None,
    hostname: str | None = None,
    verbose: bool = False,
) -> None:
    """Run a worker until SIGTERM (it finishes its rounds) or SIGINT."""
    url = redis_url(settings)
    connect(url)  # one sentence now, rather than Celery's retries, when Redis is not there
    if not settings.accounts:
        settings.account(None)  # says: no account configured
    if settings.contact.auto_send and not settings.notify.urls:
        raise ConfigError(
            "caselog worker would let the autopilot send messages without telling anyone; add "
            '[notify] urls = ["..."] to caselog.toml, or remove [contact] auto_send'
        )
    app = make_app(home, settings, url)
    argv = [
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        f"--max-tasks-per-child={max_tasks or settings.fleet.worker_max_tasks}",
        f"--loglevel={'DEBUG' if verbose else 'INFO'}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-O",
        "fair",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    log.info("worker: %d process(es), broker %s", concurrency, masked(url))
    app.worker_main(argv)


def run_scheduler(home: Home, settings: Settings, *, verbose: bool = False) -> None:
    """Run the scheduler (beat) until SIGTERM or SIGINT; see the module docstring."""
    url = redis_url(settings)
    client = connect(url)
    if not settings.accounts:
        settings.account(None)
    app = make_app(home, settings, url)

    def published(sender: Any = None, headers: Any = None, body: Any = None, **_: Any) -> None:
        if sender != ROUND_TASK or not headers:
            return
        args = body[0] if isinstance(body, (list, tuple)) and body else []
        line = json.dumps(
            {
                "task_id": headers.get("id"),
                "account": args[0] if args else None,
                "at": time.time(),
                "by": os.getpid(),  # which scheduler: never two at once (the module docstring)
            }
        )
        with client.pipeline() as pipe:
            pipe.rpush(keys.PUBLISHED, line)
            pipe.ltrim(keys.PUBLISHED, -PUBLISHED_KEPT, -1)
            pipe.execute()

    after_task_publish.connect(published, weak=False)
    log.info(
        "scheduler: %d account(s) every %s min, broker %s",
        len(settings.accounts),
        f"{settings.watch.interval_minutes:g}",
        masked(url),
    )
    beat = app.Beat(
        scheduler="redbeat.RedBeatScheduler",
        max_interval=app.conf.beat_max_interval,
        loglevel="DEBUG" if verbose else "INFO",
    )
    beat.run()
