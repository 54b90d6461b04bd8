"""Laws exported as source code (Law.to_source / symfield export): the time to write one law,
against the target of issue 17 (export of one law <= 1 s).

For each law: 'derive' is the derivation (not part of the export; shown for scale), 'first
export' the first to_c() of the derived law in this process (what ``symfield export`` adds
to the derivation), 'export' to_source(lang) again (best of 3). The ratio is the first
export's time over the target.

Run: python benchmarks/bench_export.py
"""
from __future__ import annotations

import time

from _common import best_of

import symfield

CASES = [
    ("chi1", "erf"),
    ("kernel", "relu"),            # arcsine with its exact end series
    ("distance_map", "gelu"),      # the largest closed form of the registry
    ("chi1", "tanh"),              # a Faddeeva pole series
    ("curvature_map", "tanh"),     # two pole series
    ("derivative_moment3", "sigmoid"),  # the longest pole-series coefficients
]
LANGUAGES = ("c", "numpy")
TARGET = 1.0


def main() -> None:
    print(f"{'law':32s} {'derive s':>9s} {'first export s':>15s} " +
          " ".join(f"{'export ' + lang + ' s':>14s}" for lang in LANGUAGES) +
          f" {'ratio to target':>16s}  target <= {TARGET} s")
    worst = 0.0
    for name, act in CASES:
        start = time.perf_counter()
        law = symfield.derive(name, act)
        derived = time.perf_counter()
        law.to_c()
        first = time.perf_counter() - derived
        times = [best_of(lambda lang=lang, law=law: law.to_source(lang), 3) for lang in LANGUAGES]
        ratio = max([first, *times]) / TARGET
        worst = max(worst, ratio)
        print(f"{name + '[' + act + ']':32s} {derived - start:9.3f} {first:15.3f} " +
              " ".join(f"{t:14.3f}" for t in times) +
              f" {ratio:16.2f}  {'OK' if ratio <= 1 else 'MISSED'}")
    print(f"worst export time / target: {worst:.2f} ({'OK' if worst <= 1 else 'MISSED'})")


if __name__ == "__main__":
    main()
