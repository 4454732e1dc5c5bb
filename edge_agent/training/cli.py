"""``reflexarc train-policy`` and ``reflexarc eval-policy``.

``eval-policy`` never imports torch; ``train-policy`` imports it only when it runs (``train`` extra).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edge_agent.policy import DEFAULT_MODEL_PATH


def _train(args: argparse.Namespace) -> int:
    try:
        from edge_agent.training.distill import train_policy
    except ImportError as exc:
        sys.stderr.write(f"train-policy needs the train extra (pip install -e '.[train]'): {exc}\n")
        return 2
    log_path = args.log or str(Path(args.out).with_suffix(".train.jsonl"))
    result = train_policy(args.seed, args.out, log_path=log_path, checkpoint_dir=args.checkpoints)
    sys.stdout.write(json.dumps({"out": str(args.out), "log": log_path, **result["metrics"]}, indent=2) + "\n")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from edge_agent.training.evaluate import evaluate

    result = evaluate(args.policy, args.sim, args.episodes, args.seed, shield=not args.no_shield,
                      model_path=args.model, local_goal=args.local_goal)
    text = json.dumps(result, indent=2)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``train-policy`` and ``eval-policy``."""
    train = subparsers.add_parser("train-policy", help="reproduce the shipped ONNX reflex policy (needs torch)")
    train.add_argument("--seed", type=int, default=0, help="training seed (the shipped model uses 0)")
    train.add_argument("--out", default=str(DEFAULT_MODEL_PATH), help="where to write the ONNX model")
    train.add_argument("--log", default=None, help="per-iteration JSON lines (default: next to --out)")
    train.add_argument("--checkpoints", metavar="DIR", default=None,
                       help="also keep every iteration's weights (iterN.npz) and the dataset in DIR")
    train.set_defaults(func=_train)

    ev = subparsers.add_parser("eval-policy", help="navigation evaluation on held-out seeds")
    ev.add_argument("--episodes", type=int, default=100, help="number of episodes")
    ev.add_argument("--seed", type=int, default=0, help="evaluation seed (selects held-out episodes)")
    ev.add_argument("--sim", choices=("2d", "pybullet"), default="2d", help="which world")
    ev.add_argument("--policy", choices=("student", "teacher", "baseline"), default="student")
    ev.add_argument("--model", default=None, help="ONNX model for --policy student (default: shipped)")
    ev.add_argument("--no-shield", action="store_true", help="evaluate the bare policy without the shield")
    ev.add_argument("--local-goal", choices=("route", "doorways"), default="route",
                    help="route: the stack's A* waypoints (default); doorways: next doorway, then the goal (pre-2026-11)")
    ev.add_argument("--json", metavar="FILE", help="also write the result to FILE")
    ev.set_defaults(func=_eval)
