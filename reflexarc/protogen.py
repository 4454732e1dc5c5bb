"""Regenerate the Python wire code from ``protos/`` (``make proto``) and check it is up to date.

The generated modules are committed so that installing ReflexArc needs no protoc; a test regenerates
them into a temporary folder and fails on any difference, so ``protos/`` stays the single source.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = REPO_ROOT / "protos" / "reflexarc" / "v1"
_GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def proto_sources() -> list[Path]:
    """Every ``.proto`` file of the wire contract."""
    return sorted(PROTO_DIR.glob("*.proto"))


def generate(out_root: Path) -> list[Path]:
    """Run protoc on the contract, writing ``protos/reflexarc/v1/*_pb2*.py`` below ``out_root``."""
    from grpc_tools import protoc  # dev dependency: only needed to regenerate

    sources = [str(p.relative_to(REPO_ROOT)) for p in proto_sources()]
    include = str(Path(protoc.__file__).parent / "_proto")
    out_root.mkdir(parents=True, exist_ok=True)
    argv = [
        "grpc_tools.protoc",
        f"-I{REPO_ROOT}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *sources,
    ]
    if protoc.main(argv) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(argv)}")
    generated_dir = out_root / PROTO_DIR.relative_to(REPO_ROOT)
    return sorted(p for p in generated_dir.iterdir() if p.name.endswith(_GENERATED_SUFFIXES))


def stale_files() -> list[str]:
    """Names of generated files that differ from (or are missing beside) what protoc produces now."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        stale = [p.name for p in fresh if not (PROTO_DIR / p.name).exists() or not filecmp.cmp(p, PROTO_DIR / p.name, shallow=False)]
        fresh_names = {p.name for p in fresh}
        stale += [p.name for p in PROTO_DIR.iterdir() if p.name.endswith(_GENERATED_SUFFIXES) and p.name not in fresh_names]
        return sorted(stale)


def main(argv: list[str] | None = None) -> int:
    """Regenerate in place, or with ``--check`` exit 1 when the committed code is stale."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report stale generated files")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            sys.stderr.write(f"stale generated file: {name} (run `make proto`)\n")
        return 1 if stale else 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in generate(Path(tmp)):
            shutil.copyfile(path, PROTO_DIR / path.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
