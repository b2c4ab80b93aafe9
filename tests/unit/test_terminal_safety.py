"""Text from the site is shown, never run: a hostile corpus through every command that prints,
plain and JSON, asserting on the bytes (no browser: the store is written directly).

Plain output must carry no ESC or C1 byte and no live markup (the markup shows literally,
control characters as visible escapes); ``--json`` must give back every string exactly.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.core.models import (
    Case,
    CaseStatus,
    Direction,
    Event,
    EventKind,
    Message,
    Snapshot,
)
from agent.home import Home
from agent.store import Store

CASE = "31000001616"
NOW = datetime.now(UTC).replace(microsecond=0)
MARKUP = "[bold red]X[/bold red] [link=http://127.0.0.1:9/]click[/link] :warning:"
SUBJECT = f"\x1b[31mRED\x1b[0m {MARKUP} \x1b]0;pwned\x07 EVILWORD"
BODY = (
    "safe\rEVIL overwrite\n\x1b[2J clear \x9b31m C1 \x1b]8;;http://127.0.0.1:9/\x07osc\x1b]8;;\x07"
    "\n\u202eevil reversed\u202c \u2066isolate\u2069 zero\u200bwidth EVILWORD "
    "[bold]markup[/bold] :smile:"
)
CC = ("[red]cc[/red]@hostile.example",)
ATTACHMENT = "inv\x1b[31m.pdf"
SENDER = "Amazon [bold]agent[/bold]"
ACCOUNT_TOML = """
[[accounts]]
name = "hostile"
base_url = "https://sellercentral.amazon.com"
timezone = "UTC"
"""

# ESC, and C1 controls as they reach a terminal (UTF-8 encoded: C2 80 - C2 9F).
UNSAFE_BYTES = re.compile(rb"\x1b|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-home")
    (root / "caselog.toml").write_text(ACCOUNT_TOML)
    created = NOW - timedelta(days=10)
    case = Case(
        case_id=CASE,
        account="hostile",
        subject=SUBJECT,
        status=CaseStatus.PENDING_AMAZON_ACTION,
        status_raw="Pending \x1b[5mAmazon\x1b[0m [blink]action[/blink]",
        created_at=created,
        primary_email="ops@hostile.example",
        cc=CC,
        message_count=2,
        first_seen_at=created,
        last_seen_at=NOW,
    )
    messages = [
        Message(
            message_id="m1",
            case_id=CASE,
            direction=Direction.FROM_SELLER,
            sender="You",
            sent_at=created,
            body=BODY,
            attachments=(ATTACHMENT,),
        ),
        Message(
            message_id="m2",
            case_id=CASE,
            direction=Direction.FROM_AMAZON,
            sender=SENDER,
            sent_at=created + timedelta(days=1),
            body=BODY,
            seq=1,
        ),
    ]
    snapshot = Snapshot(
        snapshot_id="s1", account="hostile", taken_at=NOW, profile="p", complete=True
    )
    event = Event(
        event_id="e1",
        account="hostile",
        case_id=CASE,
        kind=EventKind.SUBJECT_CHANGED,
        before="old \x1b[2J [bold]subject[/bold]",
        after=SUBJECT,
        detected_at=NOW - timedelta(hours=1),
        snapshot_id="s1",
    )
    with Store.open(Home(root).store_path("hostile")) as store:
        store.put_cases([case])
        store.put_messages(messages)
        store.add_snapshot(snapshot)
        store.add_events([event])
        store.set_meta(timezone="UTC")
        store.commit()
    return root


def caselog(home: Path, *args: str, color: bool = False) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "CASELOG_HOME": str(home), "COLUMNS": "200"}
    env.pop("FORCE_COLOR", None)
    if color:  # as a person's terminal: Rich styles its own output with ANSI codes
        env.update(FORCE_COLOR="1", TERM="xterm-256color")
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        env=env,
        capture_output=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


PLAIN = [
    ("cases",),
    ("show", CASE),
    ("search", "EVILWORD"),
    ("changes", "--since", "7d"),
    ("due", "--upcoming"),
    ("draft", CASE, "--kind", "follow-up"),
    ("draft", CASE, "--kind", "escalation"),
    ("history", CASE),
    ("snoozes",),
    ("open", CASE, "--print"),
]


@pytest.mark.parametrize("args", PLAIN, ids=lambda a: " ".join(a[:1] + a[2:]))
def test_plain_output_shows_hostile_text_and_runs_none_of_it(home: Path, args: tuple[str]) -> None:
    proc = caselog(home, *args)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout + proc.stderr
    assert UNSAFE_BYTES.search(out) is None, out
    text = out.decode()
    if args[0] in ("cases", "show", "search", "changes", "history"):
        assert "\\x1b[31mRED" in text  # the escape is shown, not obeyed
        assert "[bold red]X[/bold red]" in text  # markup is text
        assert "[link=http://127.0.0.1:9/]click[/link]" in text
        assert ":warning:" in text  # no emoji codes either


@pytest.mark.parametrize("args", PLAIN[:3], ids=lambda a: a[0])
def test_a_colour_terminal_gets_our_styles_and_nothing_from_the_site(
    home: Path, args: tuple[str]
) -> None:
    out = caselog(home, *args, color=True).stdout
    # Rich's own SGR styles (ESC [ ... m) are allowed; nothing else may reach the terminal:
    # no OSC (title, hyperlink), no other CSI (clear screen...), no C1, no bidi controls.
    others = re.sub(rb"\x1b\[[0-9;]*m", b"", out)
    assert UNSAFE_BYTES.search(others) is None, others
    assert b"\\x1b[31mRED" in out


def test_show_shows_every_field_visibly(home: Path) -> None:
    text = caselog(home, "show", CASE).stdout.decode()
    assert "safe\\rEVIL overwrite" in text  # a CR cannot overwrite the line
    assert "\\x9b31m C1" in text
    assert "\\u202eevil reversed" in text  # the reversal is shown, not applied
    assert "zero\u200bwidth" in text  # harmless characters stay as they are
    assert "inv\\x1b[31m.pdf" in text  # attachment names
    assert "[red]cc[/red]@hostile.example" in text  # CCs
    assert SENDER in text


@pytest.mark.parametrize(
    "args",
    [("cases", "--json"), ("show", CASE, "--json"), ("search", "EVILWORD", "--json")],
    ids=lambda a: a[0],
)
def test_json_gives_back_every_string_exactly(home: Path, args: tuple[str]) -> None:
    proc = caselog(home, *args)
    assert proc.returncode == 0, proc.stderr.decode()
    assert UNSAFE_BYTES.search(proc.stdout) is None  # escaped as \u001b, \u009b, \u202e
    data = json.loads(proc.stdout)
    if args[0] == "cases":
        assert data[0]["subject"] == SUBJECT and list(data[0]["cc"]) == list(CC)
    elif args[0] == "show":
        assert data["case"]["subject"] == SUBJECT
        assert [m["body"] for m in data["messages"]] == [BODY, BODY]
        assert data["messages"][0]["attachments"] == [ATTACHMENT]
        assert data["messages"][1]["sender"] == SENDER
    else:
        assert {h["case_id"] for h in data} == {CASE}


def test_an_error_echoes_the_command_line_as_text(home: Path) -> None:
    proc = caselog(home, "show", "[bold]123[/bold]\x1b]0;pwned\x07")
    assert proc.returncode == 2
    assert UNSAFE_BYTES.search(proc.stderr) is None
    err = proc.stderr.decode()
    assert "[bold]123[/bold]\\x1b]0;pwned\\x07" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_markdown_export_carries_no_control_bytes(home: Path, tmp_path: Path) -> None:
    proc = caselog(home, "export", "--format", "md", "--out", str(tmp_path / "md"))
    assert proc.returncode == 0, proc.stderr.decode()
    page = (tmp_path / "md" / "md" / f"{CASE}.md").read_bytes()
    assert UNSAFE_BYTES.search(page) is None
    assert b"\\\\x1b\\[31mRED" in page  # visible, then Markdown-escaped
