"""``reflexarc plan`` and ``reflexarc serve``: the planner from the command line (DESIGN.md contract).

``plan`` runs the chosen backend in-process and prints the validated plan (``--json``: the stable
shape); a refused command exits 2 with the reason on stderr. ``serve`` runs the gRPC planner until
SIGINT/SIGTERM, printing ``listening on HOST:PORT`` once bound so scripts can read the port.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from reflexarc.scene_graph import SceneGraph, SceneGraphError

__all__ = ["add_serve_arguments", "load_scene", "register", "run_serve"]

_log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_REJECTED = 2


def load_scene(path: str | Path | None) -> SceneGraph:
    """A scene graph from a JSON file, a home-layout YAML file, or (None) the seed home."""
    from sim.home_layout import load_home_layout  # pure loader, no PyBullet

    if path is None:
        return load_home_layout().scene_graph()
    path = Path(path)
    if path.suffix in (".yaml", ".yml"):
        return load_home_layout(path).scene_graph()
    return SceneGraph.from_json(path.read_text(encoding="utf-8"))


def _backend_options(args: argparse.Namespace):
    from cloud_planner.backend import BackendOptions

    return BackendOptions(base_url=args.base_url or "", model=args.model or "", timeout_s=args.timeout)


def _add_backend_args(parser: argparse.ArgumentParser) -> None:
    from cloud_planner.backend import backend_names

    parser.add_argument("--backend", default="embedded", choices=backend_names(), help="planning backend")
    parser.add_argument("--base-url", help="endpoint of an LLM backend")
    parser.add_argument("--model", help="model of an LLM backend (default XiaomiMiMo/MiMo-V2-Flash)")
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="deadline of one LLM planning request (seconds)"
    )


def _print_plan(plan) -> None:
    out = sys.stdout
    out.write(f"plan {plan.plan_id} ({plan.backend}, {plan.language}): {plan.summary}\n")
    if plan.cost.tokens_in or plan.cost.tokens_out:
        out.write(
            f"  cost: {plan.cost.tokens_in} tokens in, {plan.cost.tokens_out} out, ${plan.cost.usd:.6f}\n"
        )
    if plan.cancel:
        out.write("  cancel the current plan\n")

    def write_step(step, depth: int) -> None:
        args = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in step.args.items())
        prefix = "  " * (depth + 1) + ("else " if depth else f"{step.index:2d} ")
        out.write(f"{prefix}{step.robot}: {step.skill}({args})\n")
        for contingency in step.on_failure:
            write_step(contingency, depth + 1)

    for step in plan.steps:
        write_step(step, 0)


def _handle_plan(args: argparse.Namespace) -> int:
    from cloud_planner.backend import create_backend, plan_command
    from cloud_planner.errors import PlanRejected
    from cloud_planner.plan import Command, CommandSource, plan_to_json

    text = " ".join(args.text)
    try:
        scene = load_scene(args.scene)
    except (OSError, SceneGraphError, ValueError) as exc:
        sys.stderr.write(f"error: cannot load scene {args.scene}: {exc}\n")
        return EXIT_ERROR
    source = CommandSource.EVENT if args.event else CommandSource.TEXT
    try:
        backend = create_backend(args.backend, _backend_options(args))
        plan = plan_command(backend, Command(text, args.language or "", source), scene)
    except PlanRejected as exc:
        sys.stderr.write(f"rejected ({exc.code.value}): {exc.message}\n")
        if args.json:
            sys.stdout.write(json.dumps(exc.to_json(), ensure_ascii=False, indent=2) + "\n")
        return EXIT_REJECTED
    if args.json:
        sys.stdout.write(json.dumps(plan_to_json(plan), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_plan(plan)
    return EXIT_OK


def _handle_serve(args: argparse.Namespace) -> int:
    from cloud_planner.auth import AuthError, TokenTable
    from cloud_planner.server import PlannerConfig, serve

    tokens = None
    if args.token_file:
        try:
            tokens = TokenTable.from_file(args.token_file)
        except AuthError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return EXIT_ERROR
    if bool(args.tls_cert) != bool(args.tls_key):
        sys.stderr.write("error: --tls-cert and --tls-key go together\n")
        return EXIT_ERROR
    try:
        default_scene = load_scene(args.scene)
    except (OSError, SceneGraphError, ValueError) as exc:
        sys.stderr.write(f"error: cannot load scene {args.scene}: {exc}\n")
        return EXIT_ERROR
    config = PlannerConfig(
        host=args.host,
        port=args.port,
        backend=args.backend,
        backend_options=_backend_options(args),
        lookahead=args.lookahead,
        max_workers=args.max_workers,
        tls_cert=Path(args.tls_cert) if args.tls_cert else None,
        tls_key=Path(args.tls_key) if args.tls_key else None,
        tls_client_ca=Path(args.tls_client_ca) if args.tls_client_ca else None,
        tokens=tokens,
        insecure_loopback=args.insecure_loopback,
        reflection=args.reflection,
        default_scene=default_scene,
    )
    try:
        server = serve(config)
    except (RuntimeError, ValueError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_ERROR
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sys.stdout.write(f"listening on {server.address}\n")
    sys.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop(grace=args.grace)
    return EXIT_OK


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``plan`` and ``serve``."""
    plan = subparsers.add_parser("plan", help="print the plan for a command without running it")
    plan.add_argument("text", nargs="+", help="the command, e.g. 'bring me the red cup from the kitchen'")
    plan.add_argument("--scene", metavar="FILE", help="scene graph JSON or home layout YAML (default: seed home)")
    _add_backend_args(plan)
    plan.add_argument("--language", choices=("en", "ko"), help="language of TEXT (default: detected)")
    plan.add_argument("--event", action="store_true", help="TEXT is a home event name (e.g. car_arrived)")
    plan.add_argument("--json", action="store_true", help="print the plan (or rejection) as JSON")
    plan.set_defaults(func=_handle_plan)

    srv = subparsers.add_parser("serve", help="run the cloud planner gRPC server")
    add_serve_arguments(srv)
    srv.set_defaults(func=_handle_serve)


def run_serve(args: argparse.Namespace) -> int:
    """Run the server described by parsed ``serve`` arguments until SIGINT/SIGTERM; the exit code."""
    return _handle_serve(args)


def add_serve_arguments(srv: argparse.ArgumentParser) -> None:
    """The options of ``serve`` (shared with the ``planner_server`` console script)."""
    srv.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 for all)")
    srv.add_argument("--port", type=int, default=50051, help="TCP port; 0 picks a free one")
    _add_backend_args(srv)
    srv.add_argument("--lookahead", type=int, default=None, metavar="K",
                     help="steps streamed ahead of the robot (default: whole plan; 0: one at a time)")
    srv.add_argument("--scene", metavar="FILE", help="scene for Plan requests without one (default: seed home)")
    srv.add_argument("--tls-cert", metavar="F", help="PEM certificate chain (with --tls-key)")
    srv.add_argument("--tls-key", metavar="F", help="PEM private key")
    srv.add_argument("--tls-client-ca", metavar="F",
                     help="PEM CA bundle: require client certificates it signed (mutual TLS)")
    srv.add_argument("--token-file", metavar="F",
                     help="per-robot tokens, one robot_id:token per line (or one shared token)")
    srv.add_argument("--insecure-loopback", action="store_true",
                     help="development only: accept tokens over plaintext when bound to 127.0.0.1")
    srv.add_argument("--reflection", action="store_true", help="serve gRPC server reflection (off by default)")
    srv.add_argument("--max-workers", type=int, default=128, help="handler threads (one per open session)")
    srv.add_argument("--grace", type=float, default=2.0, help="seconds to drain calls on shutdown")
