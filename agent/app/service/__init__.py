"""Running ``caselog watch`` in the background: a systemd user unit, a launchd agent, a
Task Scheduler task, or a cron line.

:mod:`.render` writes the files (pure), :mod:`.managers` knows each platform's service
manager, :mod:`.manage` installs, uninstalls and reports, and :mod:`.runtime` is what
``caselog watch --env-file/--log-file`` does for a service.
"""

from __future__ import annotations

from agent.app.service.manage import (
    InstallPlan,
    ServiceStatus,
    UninstallReport,
    current_platform,
    install,
    plan_install,
    service_status,
    uninstall,
)
from agent.app.service.managers import PLATFORMS
from agent.app.service.runtime import load_env_file, open_log

__all__ = [
    "PLATFORMS",
    "InstallPlan",
    "ServiceStatus",
    "UninstallReport",
    "current_platform",
    "install",
    "load_env_file",
    "open_log",
    "plan_install",
    "service_status",
    "uninstall",
]
