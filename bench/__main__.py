"""``make bench``: run every benchmark module, print BENCH lines, write var/bench.json."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import pkgutil
import sys
import time
import traceback
from pathlib import Path

import bench
from bench.common import BenchContext, Figure

OUTPUT = Path("var/bench.json")


def discover(selected: list[str]) -> list[str]:
    names = sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__) if info.name.startswith("bench_")
    )
    if selected:
        names = [name for name in names if any(word in name for word in selected)]
    return names


def run_module(name: str, context: BenchContext) -> list[Figure]:
    module = importlib.import_module(f"bench.{name}")
    result = module.run(context)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    figures: list[Figure] = list(result)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("only", nargs="*", help="run only modules whose name contains one of these")
    args = parser.parse_args(argv)
    context = BenchContext()
    results: list[dict[str, object]] = []
    failures: list[str] = []
    started = time.monotonic()
    try:
        for name in discover(args.only):
            module_started = time.monotonic()
            try:
                figures = run_module(name, context)
            except Exception:
                failures.append(name)
                print(f"# {name} failed:\n{traceback.format_exc()}", file=sys.stderr)
                continue
            for figure in figures:
                print(figure.line(), flush=True)
                results.append({"module": name, **figure.as_dict()})
            print(f"# {name}: {time.monotonic() - module_started:.1f} s", flush=True)
    finally:
        context.close()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(
        json.dumps(
            {
                "seconds": round(time.monotonic() - started, 1),
                "figures": results,
                "failed": failures,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"# wrote {OUTPUT} ({len(results)} figures) in {time.monotonic() - started:.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
