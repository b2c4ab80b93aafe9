"""Living in the background, through the CLI against the mock: a session signed in on one
machine carried to another (`login --save-state` / `--import-state`), `caselog status` after a
complete sync, a blank-page streak and an expired session (with its exit codes), a watch that
`status` can see, `caselog init` -> `caselog sync` with the secrets only in a keyring, and an
imported archive that every read command and `status` show."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from e2e_cli import Cli
from e2e_truth import differences, site_view, store_view
from file_keyring import BACKEND, ENV_FILE

from agent.app.demo import settings_toml
from agent.config import Account, Marketplace, Settings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ACCOUNT = "demo-outdoor"
MERCHANT = "A2DEMOOUTDOOR"
OUTDOOR_MAPS = {"ATVPDKIKX0DER": "modern-en-US", "A1F83G8C2ARO7P": "classic-en-GB"}
SECRET_VARS = ("CASELOG_DEMO_PASSWORD", "CASELOG_DEMO_TOTP")
LOG_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4} [A-Z]+ [\w.]+: ")


def sign_ins(site: Any) -> int:
    """How many sessions the mock has handed out (each one a completed sign-in)."""
    return len(site.server.site.auth.sessions)


def bare_env(home: Path) -> dict[str, str]:
    """The environment of a machine that has no credentials for the mock at all."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    return {**env, "CASELOG_HOME": str(home)}


def no_credentials_home(home: Path, site: Any) -> Cli:
    """A home whose only account is demo-outdoor with no password, TOTP or keyring."""
    account = Account(
        name=ACCOUNT,
        base_url=site.url,
        merchant_id=MERCHANT,
        email=site.server.login["email"],
        marketplaces=[Marketplace(id=m, selector_map=s) for m, s in OUTDOOR_MAPS.items()],
    )
    home.mkdir(parents=True, mode=0o700)
    (home / "caselog.toml").write_text(settings_toml(Settings(accounts=[account])))
    return Cli(home, bare_env(home))


def status(cli: Cli, *extra: str) -> tuple[int, dict[str, Any]]:
    proc = cli("status", "--json", *extra)
    assert proc.stdout.strip().startswith("{"), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def account_status(report: dict[str, Any], name: str = ACCOUNT) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in report["accounts"] if a["account"] == name)
    return found


def add_settings(cli: Cli, text: str) -> None:
    config = cli.home / "caselog.toml"
    config.write_text(config.read_text() + text)


def test_a_session_saved_on_one_machine_syncs_on_another_without_signing_in(
    cli: Cli, site: Any, tmp_path: Path
) -> None:
    carried = tmp_path / "desktop" / "outdoor-session.json"
    carried.parent.mkdir()
    saved = cli("login", "--account", ACCOUNT, "--save-state", str(carried), "--json")
    assert saved.returncode == 0, saved.stderr
    assert json.loads(saved.stdout)["saved_to"] == str(carried)
    assert carried.stat().st_mode & 0o777 == 0o600
    assert {"cookies", "origins"} <= set(json.loads(carried.read_text()))

    server = no_credentials_home(tmp_path / "server-home", site)
    refused = server("sync", "--account", ACCOUNT)  # no session, no credentials: a person
    assert refused.returncode == 3
    said = " ".join(refused.stderr.split())
    assert (
        f"`caselog login --account {ACCOUNT} --headed --save-state {ACCOUNT}-session.json`" in said
    )
    assert f"`caselog login --account {ACCOUNT} --import-state {ACCOUNT}-session.json`" in said

    taken = server("login", "--account", ACCOUNT, "--import-state", str(carried), "--json")
    assert taken.returncode == 0, taken.stderr
    state = server.home / "state" / f"{ACCOUNT}.json"
    assert json.loads(taken.stdout)["state_file"] == str(state)
    assert state.stat().st_mode & 0o777 == 0o600

    before = sign_ins(site)
    synced = server("sync", "--account", ACCOUNT, "--json")
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["complete"] is True
    assert sign_ins(site) == before, "the server signed in again instead of using the session"
    truth = site_view(site.admin.ground_truth(), MERCHANT)
    assert differences(truth, store_view(server.home, ACCOUNT)) == []


def test_import_state_refuses_what_is_not_a_session_for_the_account(
    cli: Cli, site: Any, tmp_path: Path
) -> None:
    server = no_credentials_home(tmp_path / "server-home", site)
    other = tmp_path / "other-site.json"
    other.write_text(
        json.dumps(
            {
                "cookies": [
                    {"name": "at-main", "value": "x", "domain": ".example.com", "path": "/"}
                ],
                "origins": [],
            }
        )
    )
    proc = server("login", "--account", ACCOUNT, "--import-state", str(other))
    assert proc.returncode == 2
    err = " ".join(proc.stderr.split())
    assert err == (
        f"error: {other} holds no session for account {ACCOUNT} at 127.0.0.1 (it has cookies "
        f"for example.com); sign in to that site with `caselog login --account {ACCOUNT} "
        "--headed --save-state FILE` and import that file"
    )
    assert not (server.home / "state").exists()
    both = server("login", "--import-state", str(other), "--save-state", str(other))
    assert both.returncode == 2 and "--import-state takes a saved session" in both.stderr


def test_status_after_a_sync_a_blank_page_streak_and_an_expired_session(
    cli: Cli, site: Any
) -> None:
    add_settings(cli, "\n[watch]\nstale_after_hours = 1\nkeep_failed_pages = 1\n")
    code, report = status(cli, "--account", ACCOUNT)
    assert code == 6, report  # never synced: nothing monitors it yet
    assert account_status(report)["problems"] == [
        f"{ACCOUNT} has had no complete sync yet; run `caselog sync --account {ACCOUNT}`"
    ]

    assert cli("sync", "--account", ACCOUNT).returncode == 0
    code, report = status(cli, "--account", ACCOUNT)
    s = account_status(report)
    assert code == 0 and report["problems"] == [], report
    assert s["last_sync_complete"] is True and s["incomplete_streak"] == 0
    assert 0 <= s["last_complete_age_seconds"] < 600
    assert s["session"]["saved"] is True and s["session"]["cookies"] > 0
    assert s["store_bytes"] > 0 and s["cases"] > 0 and s["failed_pages"] == 0
    assert s["stale"] is False and s["stale_after_hours"] == 1

    site.admin.set_faults(blank=True)
    assert cli("sync", "--account", ACCOUNT).returncode == 4
    assert cli("sync", "--account", ACCOUNT).returncode == 4
    code, report = status(cli, "--account", ACCOUNT)
    s = account_status(report)
    assert code == 0, report  # incomplete, but within the hour allowed
    assert (s["incomplete_streak"], s["incomplete_reason"]) == (2, "blank_page")
    assert s["last_sync_complete"] is False and s["last_complete_sync_at"] is not None
    assert s["failed_pages"] == 1  # two pages kept, pruned to keep_failed_pages
    assert len(list((cli.home / "failed-pages").glob("*.html"))) == 1

    config = cli.home / "caselog.toml"
    config.write_text(
        config.read_text().replace("stale_after_hours = 1", "stale_after_hours = 0.0003")
    )
    time.sleep(1.5)
    code, report = status(cli, "--account", ACCOUNT)
    s = account_status(report)
    assert code == 6 and s["stale"] is True
    assert s["problems"][0].startswith(f"{ACCOUNT} has had no complete sync for ")
    assert "the last 2 sync(s) were incomplete (blank_page: " in s["problems"][0]
    human = cli("status", "--account", ACCOUNT)
    assert human.returncode == 6 and "STALE" in human.stdout

    config.write_text(
        config.read_text().replace("stale_after_hours = 0.0003", "stale_after_hours = 1")
    )
    site.admin.clear_faults()
    site.admin.expire_sessions()
    code, report = status(cli, "--account", ACCOUNT)
    assert code == 0, report  # without a browser, the saved file looks as it did
    code, report = status(cli, "--account", ACCOUNT, "--check-session")
    s = account_status(report)
    assert code == 3, report
    assert (s["session"]["checked"], s["session"]["needs_person"]) == ("expired", True)
    assert "--import-state" in s["problems"][-1]

    assert cli("sync", "--account", ACCOUNT).returncode == 0  # signs in again with its TOTP
    code, report = status(cli, "--account", ACCOUNT, "--check-session")
    s = account_status(report)
    assert code == 0 and s["session"]["checked"] == "works" and s["incomplete_streak"] == 0


def test_a_running_watch_shows_in_status_and_logs_one_line_per_round(
    cli: Cli, site: Any, notice_sink: Any
) -> None:
    watch = "\n[watch]\ninterval_minutes = 30\njitter_seconds = 0\n"
    add_settings(cli, watch + f'\n[notify]\nurls = ["{notice_sink.url}"]\n')
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent", "watch", "--account", ACCOUNT, "-v"],
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    journal = cli.home / "monitor" / "watch.json"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if journal.is_file() and json.loads(journal.read_text())["accounts"][ACCOUNT].get(
                "next_run_at"
            ):
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.3)
        code, report = status(cli, "--account", ACCOUNT)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert code == 0, report
    s = account_status(report)
    watch = s["watch"]
    assert watch["running"] is True and watch["pid"] == proc.pid
    assert watch["last_round"]["result"] == "complete" and watch["last_round"]["cases"] > 0
    assert watch["next_run_at"] > report["now"]  # about 30 minutes on
    (target,) = report["notify"]
    assert target["works"] is True and target["last_success_at"] is not None
    assert notice_sink.received, "the first round's notice was not sent"

    lines = err.strip().splitlines()
    assert lines and all(LOG_LINE.match(line) for line in lines), err
    rounds = [line for line in lines if f"caselog.watch: {ACCOUNT}: complete in " in line]
    assert len(rounds) == 1 and re.search(r"\d+ cases listed, \d+ read in full", rounds[0])
    assert any(" apprise: " in line for line in lines), err  # -v: apprise's lines, our format
    assert "Traceback" not in err
    log = cli.home / "logs" / "caselog.log"
    assert log.stat().st_mode & 0o777 == 0o600 and rounds[0] in log.read_text()
    code, report = status(cli, "--account", ACCOUNT)
    watch = account_status(report)["watch"]
    assert watch["running"] is False and watch["stopped_at"] and watch["next_run_at"] is None


def keyring_env(home: Path, ring: Path) -> dict[str, str]:
    here = str(Path(__file__).parent)
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    return {
        **bare_env(home),
        "PYTHONPATH": path,
        "PYTHON_KEYRING_BACKEND": BACKEND,
        ENV_FILE: str(ring),
    }


def test_init_then_sync_with_the_secrets_only_in_the_keyring(site: Any, tmp_path: Path) -> None:
    home, ring = tmp_path / "fresh-home", tmp_path / "keyring.json"
    cli = Cli(home, keyring_env(home, ring))
    login = site.server.login
    args = (
        "init", "--account", "shop", "--marketplace", "US", "--marketplace", "UK",
        "--base-url", site.url, "--merchant-id", MERCHANT, "--email", login["email"],
        "--password-stdin", "--totp-secret-stdin",
    )  # fmt: skip
    secrets = f"{login['password']}\n{login['totp_secret']}\n"
    before = sign_ins(site)
    made = cli(*args, stdin=secrets)
    assert made.returncode == 0, made.stderr
    assert sign_ins(site) == before + 1  # verified by signing in
    text = (home / "caselog.toml").read_text()
    assert login["password"] not in text and login["totp_secret"] not in text
    assert 'keyring_service = "caselog"' in text
    assert json.loads(ring.read_text()) == {
        f"caselog/{login['email']}:password": login["password"],
        f"caselog/{login['email']}:totp": login["totp_secret"],
    }
    assert cli("config").returncode == 0

    (home / "state" / "shop.json").unlink()  # no saved session: sync must sign in itself
    synced = cli("sync", "--account", "shop", "--json")
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["complete"] is True
    assert sign_ins(site) == before + 2  # with the password and TOTP from the keyring
    truth = site_view(site.admin.ground_truth(), MERCHANT)
    assert differences(truth, store_view(home, "shop")) == []

    again = cli(*args, stdin=secrets)
    assert again.returncode == 2 and "already exists; add --force" in again.stderr


def test_init_without_a_keyring_names_environment_variables_that_sync_reads(
    site: Any, tmp_path: Path
) -> None:
    home = tmp_path / "server-home"
    env = {**bare_env(home), "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    cli = Cli(home, env)
    login = site.server.login
    made = cli(
        "init", "--account", "shop", "--marketplace", "US", "--base-url", site.url,
        "--merchant-id", MERCHANT, "--email", login["email"], "--no-verify",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "no keyring backend is available here" in " ".join(made.stderr.split())
    text = (home / "caselog.toml").read_text()
    assert 'password_env = "CASELOG_SHOP_PASSWORD"' in text
    assert 'totp_env = "CASELOG_SHOP_TOTP"' in text
    cli.env.update(CASELOG_SHOP_PASSWORD=login["password"], CASELOG_SHOP_TOTP=login["totp_secret"])
    synced = cli("sync", "--account", "shop", "--json")
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["complete"] is True


def test_an_imported_archive_is_listed_everywhere_and_says_how_to_sync_it(
    cli: Cli, site: Any, tmp_path: Path
) -> None:
    assert cli("sync", "--account", ACCOUNT).returncode == 0
    out = tmp_path / "export"
    assert (
        cli("export", "--account", ACCOUNT, "--format", "json", "--out", str(out)).returncode == 0
    )
    fresh = tmp_path / "fresh-home"
    other = Cli(fresh, bare_env(fresh))
    imported = other("import", str(out / "archive.json"))
    assert imported.returncode == 0, imported.stderr
    said = " ".join(imported.stdout.split())
    assert re.search(rf"{ACCOUNT}: \d+ case\(s\), \d+ message\(s\) and \d+ event\(s\)", said)
    assert f"run `caselog init --account {ACCOUNT}`" in said
    assert f"then `caselog sync --account {ACCOUNT}`" in said

    cases = other("cases", "--json")
    assert cases.returncode == 0 and len(json.loads(cases.stdout)) > 0
    code, report = status(other)
    assert code == 2  # nothing is configured, so nothing is monitored
    s = account_status(report)
    assert s["archived"] is True and s["cases"] == len(json.loads(cases.stdout))
    assert s["session"] is None and s["stale"] is False
    human = other("status")
    assert "ARCHIVED" in human.stdout and "never synced" in human.stdout
