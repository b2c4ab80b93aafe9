"""The fleet's guards on a real Redis (tests/conftest.py starts one): an account's lock, a
task's done mark, an account resting after failures. No browser: the round is a fake."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from agent.app.fleet import keys
from agent.app.fleet.lock import AccountLock
from agent.app.fleet.tasks import Fleet, masked
from agent.config import Account, FleetSettings, Settings
from agent.errors import SiteUnavailable
from agent.home import Home

ACC = Account(name="shop", base_url="https://sellercentral.amazon.com", timezone="UTC")


@pytest.fixture
def client(redis_url: str) -> Redis:
    return Redis.from_url(redis_url)


# -- the account's lock -------------------------------------------------------------------


def test_an_account_lock_admits_one_worker_at_a_time(client: Redis) -> None:
    first, second = AccountLock(client, "shop", 5), AccountLock(client, "shop", 5)
    assert first.acquire()
    assert not second.acquire()
    assert AccountLock(client, "other", 5).acquire()  # accounts are independent
    first.release()
    assert second.acquire()
    second.release()


def test_a_held_lock_is_renewed_past_its_time(client: Redis) -> None:
    """The renewing thread keeps it (it must see the token the task's thread took)."""
    lock = AccountLock(client, "shop", 0.6)
    assert lock.acquire()
    time.sleep(1.5)  # 2.5 times its time
    assert not AccountLock(client, "shop", 0.6).acquire()
    assert not lock.lost
    lock.release()
    assert client.get(keys.lock("shop")) is None


def test_the_lock_of_a_killed_worker_frees_itself_after_its_time(client: Redis) -> None:
    client.set(keys.lock("shop"), "the token of a worker that was killed", px=400)
    waiting = AccountLock(client, "shop", 5)
    assert not waiting.acquire()
    time.sleep(0.5)
    assert waiting.acquire()
    waiting.release()


# -- a task: done once, never twice ---------------------------------------------------------


class Retry(Exception):
    pass


@dataclass
class FakeTask:
    """What :meth:`Fleet.round` uses of a Celery task: its id, and ``retry``."""

    id: str
    retries: list[float] = field(default_factory=list)

    @property
    def request(self) -> Any:
        return type("Request", (), {"id": self.id})()

    def retry(self, countdown: float, max_retries: object = None) -> Exception:
        self.retries.append(countdown)
        return Retry()


@pytest.fixture
def fleet(redis_url: str, tmp_path: Path) -> Any:
    def make(outcomes: list[object]) -> tuple[Fleet, list[str]]:
        settings = Settings(accounts=[ACC], fleet=FleetSettings(backoff_minutes=5))
        fleet = Fleet(Home(tmp_path / "home"), settings, redis_url)
        calls: list[str] = []
        todo = iter(outcomes)

        def one_round(account: Account) -> object:
            calls.append(account.name)
            outcome = next(todo)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        fleet._one_round = one_round  # type: ignore[method-assign]
        return fleet, calls

    return make


def test_a_task_delivered_again_after_it_ran_does_nothing(fleet: Any, client: Redis) -> None:
    f, calls = fleet(["ok", "ok"])
    task = FakeTask("t-1")
    assert f.round(task, "shop") == "complete"
    assert f.round(task, "shop") == "duplicate"  # acks_late: delivered again after its end
    assert calls == ["shop"]
    assert json.loads(client.get(keys.done("t-1")) or "{}")["result"] == "complete"
    assert [json.loads(x)["task_id"] for x in client.lrange(keys.rounds("shop"), 0, -1)] == ["t-1"]


def test_a_task_whose_account_is_taken_tries_again_later(fleet: Any, client: Redis) -> None:
    f, calls = fleet(["ok"])
    other_worker = AccountLock(client, "shop", 5)
    assert other_worker.acquire()
    task = FakeTask("t-2")
    with pytest.raises(Retry):
        f.round(task, "shop")
    assert calls == [] and task.retries and 0 < task.retries[0] <= 15
    other_worker.release()
    assert f.round(task, "shop") == "complete"


def test_a_failed_account_rests_and_its_tasks_end_at_once(fleet: Any, client: Redis) -> None:
    f, calls = fleet([SiteUnavailable("the Case Log is blank")])
    assert f.round(FakeTask("t-3"), "shop") == "failed"
    health = json.loads(client.get(keys.health("shop")) or "{}")
    assert health["failures"] == 1 and health["rest_until"]
    assert f.round(FakeTask("t-4"), "shop") == "resting"
    assert calls == ["shop"]  # the resting round took no browser time


def test_an_unknown_account_is_dropped(fleet: Any) -> None:
    f, calls = fleet([])
    assert f.round(FakeTask("t-5"), "gone") == "unknown"
    assert calls == []


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:s3cret@redis:6379/1", "redis://:***@redis:6379/1"),
        ("rediss://user:s3cret@host/0", "rediss://user:***@host/0"),
    ],
)
def test_a_redis_password_is_never_shown(url: str, shown: str) -> None:
    assert masked(url) == shown


@pytest.mark.parametrize("command", ["worker", "scheduler"])
def test_no_redis_is_one_sentence_and_exit_8(
    command: str, caselog_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from agent.cli import app

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CASELOG_REDIS_URL", f"redis://:s3cret@127.0.0.1:{port}/0")
    result = CliRunner().invoke(app, [command])
    assert result.exit_code == 8, result.output
    assert "cannot reach the fleet's Redis at redis://:***@127.0.0.1" in result.output
    assert "s3cret" not in result.output and "Traceback" not in result.output


def test_a_worker_never_lets_the_autopilot_send_with_nobody_told(
    redis_url: str, tmp_path: Path
) -> None:
    from agent.app.fleet.run import run_worker
    from agent.config import ContactSettings
    from agent.errors import ConfigError

    settings = Settings(
        accounts=[ACC],
        contact=ContactSettings(auto_send=["follow_up"]),
        fleet=FleetSettings(redis_url=redis_url),
    )
    with pytest.raises(ConfigError, match="autopilot send messages without telling anyone"):
        run_worker(Home(tmp_path / "home"), settings)


def test_a_worker_killed_while_looking_for_lost_tasks_does_not_hold_up_redelivery(
    redis_url: str, tmp_path: Path
) -> None:
    """Workers take turns, under a lock in Redis, to look for the tasks of dead workers. One
    killed while it held that lock kept every other from redelivering for kombu's default
    5 minutes; the broker's own channel now lets the lock lapse after seconds."""
    from agent.app.fleet.tasks import UNACKED_MUTEX_SECONDS, make_app

    settings = Settings(accounts=[ACC])
    app = make_app(Home(tmp_path / "home"), settings, redis_url)
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        assert channel.unacked_mutex_expire == UNACKED_MUTEX_SECONDS <= 10
