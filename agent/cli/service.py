"""``caselog service install | uninstall | status``: ``caselog watch`` in the background."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.app.service import (
    PLATFORMS,
    InstallPlan,
    install,
    plan_install,
    service_status,
    uninstall,
)
from agent.cli.common import ConfigOpt, JsonOpt, commands, err, handle_errors, home, out, print_json
from agent.cli.common import settings as load
from agent.errors import ServiceUnavailable

app = commands()

service_app = typer.Typer(
    name="service",
    help="Run `caselog watch` in the background (systemd, launchd, Task Scheduler, cron).",
    no_args_is_help=True,
)
app.add_typer(service_app)


def _yes(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _show_plan(plan: InstallPlan) -> None:
    for planned in (plan.service_file, plan.env_file):
        where = planned.path or "for your crontab (add it with `crontab -e`)"
        note = (
            " (only if it does not exist; you fill in the values)" if planned.keep_existing else ""
        )
        out.print(f"# {where}{note}", markup=False)
        out.print(planned.text, end="" if planned.text.endswith("\n") else "\n", markup=False)
        out.print()
    if plan.commands:
        out.print("# then:", markup=False)
        for command in plan.commands:
            out.print(plan.shown(command), markup=False)


def _warn_missing(names: list[str], env_file: object) -> None:
    if names:
        err.print(
            f"note: {', '.join(names)} ha{'s' if len(names) == 1 else 've'} no "
            f"value in {env_file}; fill them in so the service can sign in, then run "
            "`caselog service install` again",
            markup=False,
        )


@service_app.command("install")
@handle_errors
def install_cmd(
    platform: Annotated[
        str | None,
        typer.Option(
            help=f"Generate for this platform ({', '.join(PLATFORMS)}); "
            "another machine's only with --dry-run."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the files and commands; change nothing.")
    ] = False,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the service file, then enable and start `caselog watch` under it."""
    where = home()
    plan = install(
        plan_install(where, load(config), platform=platform, config=config, dry_run=dry_run)
    )
    if json_out:
        print_json(plan.as_dict())
    elif dry_run:
        _show_plan(plan)
    else:
        if plan.service_file.path is None:  # cron: the seller adds the line
            out.print(plan.service_file.text, end="", markup=False)
        else:
            out.print(f"installed {plan.service_file.path}; {plan.manager} started caselog watch")
        kept = "kept as it was" if plan.env_file_kept else "created, mode 0600"
        out.print(f"credentials: {plan.env_file.path} ({kept})")
        out.print(f"log:         {plan.log_file}")
    if not json_out and not dry_run:
        _warn_missing(plan.missing_env, plan.env_file.path)


@service_app.command("uninstall")
@handle_errors
def uninstall_cmd(json_out: JsonOpt = False) -> None:
    """Stop and disable the service and remove its file (credentials and log are kept)."""
    report = uninstall(home())
    if json_out:
        print_json(report.as_dict())
        return
    if not report.removed:
        out.print(f"not installed: there is no {report.service_file}")
    else:
        out.print(f"stopped, disabled and removed {report.service_file}")
    for path in report.kept:
        out.print(f"kept {path}")


@service_app.command("status")
@handle_errors
def status_cmd(config: ConfigOpt = None, json_out: JsonOpt = False) -> None:
    """Whether the service is installed, enabled and running; where its file and log are."""
    status = service_status(home(), load(config))
    if json_out:
        print_json(status.as_dict())
    else:
        out.print(f"{status.manager}: {status.detail}")
        out.print(f"installed: {_yes(status.installed)}  ({status.service_file})")
        out.print(f"enabled:   {_yes(status.enabled)}")
        out.print(f"running:   {_yes(status.running)}")
        out.print(f"credentials: {status.env_file}")
        out.print(f"log:         {status.log_file}")
        _warn_missing(status.missing_env if status.installed else [], status.env_file)
    if status.problem:
        raise ServiceUnavailable(status.problem)
