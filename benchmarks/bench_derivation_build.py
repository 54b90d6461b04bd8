"""Time of ``symfield derivations build`` (issue 11, "Speed": every activation <= 60 s on
2 cores), and of each activation's share of it.

The build derives each activation in a fresh spawned process (documents.generated_documents),
as many at once as there are CPUs. This script times that call for a subset of activations
(default: a fast subset; ``--all`` for every activation, the issue's target) and, with
``--each``, every activation alone in its own process (one worker), slowest first, so the
activation that bounds the build is visible.

Run: python benchmarks/bench_derivation_build.py [--all] [--each] [--workers N]
"""
from __future__ import annotations

import argparse
import time

from _common import report

from symfield.activations import registered_activations
from symfield.output.documents import generated_documents
from symfield.processes import available_cpus

#: The default subset: one activation per kind of derivation, all of them quick.
SUBSET = ("relu", "erf", "tanh", "hard_tanh", "gelu", "elu", "sin")
#: The issue's target for the whole build, in seconds.
TARGET_SECONDS = 60.0


def build_seconds(names: list[str] | None, workers: int | None) -> float:
    t0 = time.perf_counter()
    generated_documents(workers=workers, only=names)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="every activation (the target)")
    parser.add_argument("--each", action="store_true", help="also each activation alone")
    parser.add_argument("--workers", type=int, default=None, help="default: every CPU")
    args = parser.parse_args()
    names = list(registered_activations()) if args.all else list(SUBSET)
    workers = args.workers or available_cpus()
    took = build_seconds(names, workers)
    label = "every activation" if args.all else f"{len(names)} of {len(registered_activations())} activations"
    report(f"derivations build, {label}, {workers} workers", took, TARGET_SECONDS,
           f"<= {TARGET_SECONDS:.0f} s (all)", took <= TARGET_SECONDS)
    if args.each:
        each = {n: build_seconds([n], 1) for n in names}
        for n, s in sorted(each.items(), key=lambda kv: -kv[1]):
            print(f"  {n:12s} {s:7.1f} s (fresh process, documents and record)")


if __name__ == "__main__":
    main()
