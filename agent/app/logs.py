"""The log of ``caselog watch``: one format for every line, ours and apprise's; the whole story
in a rotated file in the home; one sentence per line on the terminal.

- Every record goes through the root logger, so apprise's own lines (logger ``apprise``) look
  like ours: ``2026-11-22T08:00:03+0000 WARNING apprise: Failed to send ...``. Apprise says
  what it sent at INFO; that is shown with ``-v`` only (WARNING and up always). Other
  libraries stay at WARNING (filelock and urllib3 say a line per lock and per connection).
- ``logs/caselog.log`` in the home keeps everything, tracebacks included, mode 0600, rotated
  at 1 MB with 5 old files (:class:`PrivateRotatingFileHandler`: a rotated-in file is 0600
  too, whatever the umask).
- The terminal (a handler the CLI passes in, which prints through its safe console) gets each
  record as one line: a traceback is replaced by where to read it. Text from the site that a
  message quotes is shown, never run (:func:`agent.core.text.visible`), in the file too.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from pathlib import Path

from agent.core.text import visible
from agent.home import Home

__all__ = [
    "DATE_FORMAT",
    "LOG_FORMAT",
    "FileFormatter",
    "LineFormatter",
    "PrivateRotatingFileHandler",
    "setup_logging",
]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
LOG_FILE = "caselog.log"
MAX_BYTES = 1024 * 1024
BACKUPS = 5
QUIET_LIBRARIES = ("filelock", "urllib3", "requests", "schedule", "asyncio")


class LineFormatter(logging.Formatter):
    """One line per record for the terminal; a traceback stays in the log file."""

    def __init__(self, log_file: Path | None = None) -> None:
        super().__init__(LOG_FORMAT, DATE_FORMAT)
        self.log_file = log_file

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        if record.exc_info and self.log_file is not None:
            line += f" (traceback in {self.log_file})"
        return visible(line, one_line=True)


class FileFormatter(logging.Formatter):
    """The log file's lines: the same format, with tracebacks."""

    def __init__(self) -> None:
        super().__init__(LOG_FORMAT, DATE_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return visible(super().formatMessage(record))


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file is created 0600."""

    def _open(self) -> io.TextIOWrapper:
        return open(  # appending: a rotating log is always opened with mode "a"
            self.baseFilename,
            "a",
            encoding=self.encoding,
            errors=self.errors,
            opener=lambda path, flags: os.open(path, flags, 0o600),
        )


_OURS = "_caselog_handler"


def setup_logging(
    home: Home,
    *,
    verbose: bool = False,
    console: logging.Handler | None = None,
    to_file: bool = True,
) -> Path:
    """Send every log record to ``logs/caselog.log`` in ``home`` and, one line each, to
    ``console``; return the log file's path. Calling it again replaces what it set up.
    ``to_file=False`` (the fleet's processes, many of them on one home: a rotated file is
    one process's affair) leaves the file out; their lines go to the console only."""
    path = home.folder("logs") / LOG_FILE
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _OURS, False)]:
        root.removeHandler(handler)
        handler.close()
    level = logging.DEBUG if verbose else logging.INFO
    handlers: list[logging.Handler] = []
    if to_file:
        file_handler = PrivateRotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
        file_handler.setFormatter(FileFormatter())
        handlers.append(file_handler)
    if console is not None:
        console.setFormatter(LineFormatter(path))
        handlers.append(console)
    for handler in handlers:
        handler.setLevel(level)
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apprise").setLevel(logging.INFO if verbose else logging.WARNING)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    return path
