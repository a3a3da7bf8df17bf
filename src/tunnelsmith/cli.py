"""`tunnelsmith` command line. Exit codes: 0 all checks pass, 1 a check failed, 2 usage or
inventory error. Everything printed passes through the secret masker."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from tunnelsmith import secrets as secretmod
from tunnelsmith.errors import InventoryError, TunnelsmithError, UsageError

RUNS_DEFAULT = os.environ.get("TUNNELSMITH_RUNS_DIR", "runs")


def _print_problems(problems: list, fmt: str = "text") -> None:
    if fmt == "json":
        print(secretmod.mask(json.dumps({"ok": False, "problems": [p.as_dict() for p in problems]}, indent=2)))
        return
    sys.stderr.write(f"{len(problems)} problem(s) in the inventory:\n")
    for p in problems:
        sys.stderr.write(secretmod.mask(f"  {p}") + "\n")


def cmd_schema(args: argparse.Namespace) -> int:
    from tunnelsmith import schema

    print(json.dumps(schema.inventory_schema(), indent=2))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from tunnelsmith import validate

    problems = validate.check(args.inventory, offline=args.offline, ssh_keys=True)
    if problems:
        _print_problems(problems, args.format)
        return 2
    if args.format == "json":
        print(json.dumps({"ok": True, "problems": []}))
    else:
        print(f"{args.inventory}: inventory is valid" + (" (offline: secrets and SSH keys not checked)"
                                                        if args.offline else ""))
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from tunnelsmith import render
    from tunnelsmith.runbooks.common import load_checked

    inv = load_checked(args.inventory)
    hosts = args.host or sorted(inv.devices)
    for host in hosts:
        if host in inv.clouds:
            side = args.side or "cloud"
        elif host in inv.devices:
            side = args.side or "device"
        else:
            raise UsageError(f"unknown host {host!r}; devices: {', '.join(sorted(inv.devices))}; "
                             f"cloud gateways: {', '.join(sorted(inv.clouds))}")
        if side == "cloud":
            from tunnelsmith import console

            clouds = [host] if host in inv.clouds else sorted({t.cloud for t in inv.tunnels_of(host)})
            for cloud in clouds:
                text = console.render_console(inv, cloud, show_secrets=args.show_secrets)
                print(text if args.show_secrets else secretmod.mask(text))
        else:
            if host not in inv.devices:
                raise UsageError(f"{host} is a cloud gateway; use --side cloud")
            rendered = render.render_device(inv, host)
            print(f"##### {host} ({inv.devices[host].platform})")
            print(rendered.text(masked=not args.show_secrets))
    return 0


def cmd_rollout(args: argparse.Namespace) -> int:
    from tunnelsmith.runbooks.common import open_context
    from tunnelsmith.runbooks.rollout import run_rollout

    ctx = open_context(args.inventory, args.runs_dir)
    sys.stderr.write(f"run {ctx.run.run_id}: {ctx.run.root}\n")
    return run_rollout(ctx, limit=args.limit, yes=args.yes, fmt=args.format,
                       trust_on_first_use=args.trust_on_first_use, confirmed_minutes=args.commit_confirmed,
                       settle=args.settle, rotate_secrets=args.rotate_secrets)


def cmd_verify(args: argparse.Namespace) -> int:
    from tunnelsmith.runbooks.common import open_context
    from tunnelsmith.runbooks.verify import run_verify

    ctx = open_context(args.inventory, args.runs_dir)
    sys.stderr.write(f"run {ctx.run.run_id}: {ctx.run.root}\n")
    return run_verify(ctx, limit=args.limit, wait=args.wait, fmt=args.format,
                      trust_on_first_use=args.trust_on_first_use)


def cmd_rollback(args: argparse.Namespace) -> int:
    from tunnelsmith.runbooks.common import open_context
    from tunnelsmith.runbooks.rollback import run_rollback
    from tunnelsmith.runbooks.rollout import tty_confirm
    from tunnelsmith.rundir import RunDir

    try:
        source = RunDir.open(args.runs_dir, args.run)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    if not args.yes:
        if not sys.stdin.isatty():
            sys.stderr.write("refusing to roll back: no --yes and no terminal to ask on\n")
            return 2
        if not tty_confirm(f"restore the backups of run {args.run} on {', '.join(args.limit or ['all devices'])}?"):
            return 2
    ctx = open_context(args.inventory, args.runs_dir)
    return run_rollback(ctx, source, limit=args.limit, trust_on_first_use=args.trust_on_first_use)


def cmd_lab(args: argparse.Namespace) -> int:
    from tunnelsmith import inventory as invmod
    from tunnelsmith import lab

    if args.lab_command == "down":
        print(lab.down(None).table())
        return 0
    inv = invmod.load(args.inventory)
    st = lab.up(inv, None) if args.lab_command == "up" else lab.status(inv, None)
    print(st.table())
    return 0 if getattr(st, "ok", True) else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tunnelsmith", description=__doc__.split(".")[0])
    sub = p.add_subparsers(dest="command", required=True)

    def inv_arg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("-i", "--inventory", required=True, help="inventory directory (hosts.yaml, tunnels.yaml, ...)")

    def run_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--limit", nargs="+", metavar="HOST", help="only these devices")
        sp.add_argument("--runs-dir", default=RUNS_DEFAULT, help="where run directories go (default: runs/)")
        sp.add_argument("--trust-on-first-use", action="store_true",
                        help="accept and record unknown SSH host keys (default: refuse them)")

    sp = sub.add_parser("schema", help="print the inventory JSON Schema")
    sp.set_defaults(func=cmd_schema)

    sp = sub.add_parser("validate", help="check an inventory; exit 2 listing every problem")
    inv_arg(sp)
    sp.add_argument("--format", choices=["text", "json"], default="text")
    sp.add_argument("--offline", action="store_true",
                    help="for CI: check everything except that secrets resolve and SSH key files exist")
    sp.set_defaults(func=cmd_validate)

    sp = sub.add_parser("render", help="print what would be pushed (secrets masked)")
    inv_arg(sp)
    sp.add_argument("--host", nargs="+", help="devices or cloud gateways (default: every device)")
    sp.add_argument("--side", choices=["device", "cloud"], help="cloud: the values to enter in the cloud console")
    sp.add_argument("--show-secrets", action="store_true", help="print pre-shared keys in clear")
    sp.set_defaults(func=cmd_render)

    sp = sub.add_parser("rollout", help="render, show changes, ask, push, verify")
    inv_arg(sp)
    run_args(sp)
    sp.add_argument("--yes", action="store_true", help="push without asking")
    sp.add_argument("--format", choices=["table", "json"], default="table")
    sp.add_argument("--commit-confirmed", type=int, metavar="MIN",
                    help="platforms with confirmed commits roll back unless confirmed within MIN minutes")
    sp.add_argument("--settle", type=float, default=30.0, help="seconds to wait for SAs after a push")
    sp.add_argument("--rotate-secrets", action="store_true",
                    help="push pre-shared-key lines even where the device shows them encrypted and they "
                    "cannot be compared (key rotation)")
    sp.set_defaults(func=cmd_rollout)

    sp = sub.add_parser("verify", help="read-only: phase 1, phase 2, ping for every tunnel")
    inv_arg(sp)
    run_args(sp)
    sp.add_argument("--format", choices=["table", "json"], default="table")
    sp.add_argument("--wait", type=float, default=0.0, help="wait up to this many seconds for SAs to come up")
    sp.set_defaults(func=cmd_verify)

    sp = sub.add_parser("rollback", help="restore the pre-change backups of a run")
    inv_arg(sp)
    run_args(sp)
    sp.add_argument("--run", required=True, help="the run id whose backups to restore")
    sp.add_argument("--yes", action="store_true")
    sp.set_defaults(func=cmd_rollback)

    sp = sub.add_parser("lab", help="the local lab of real IPsec peers in network namespaces")
    lsub = sp.add_subparsers(dest="lab_command", required=True)
    for name, helptext in (("up", "create or repair the lab"), ("status", "show the lab"),
                           ("down", "remove everything the lab created")):
        lp = lsub.add_parser(name, help=helptext)
        lp.add_argument("-i", "--inventory", default="inventory/lab", help="lab inventory (default inventory/lab)")
    sp.set_defaults(func=cmd_lab)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    secretmod.guard_terminal()  # masked stderr, one-line third-party logs, no raw tracebacks
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except InventoryError as exc:
        _print_problems(exc.problems, getattr(args, "format", "text") if getattr(args, "format", "") == "json"
                        else "text")
        return 2
    except TunnelsmithError as exc:
        sys.stderr.write(secretmod.mask(f"error: {exc}") + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
