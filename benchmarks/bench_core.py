"""Speed of the core issue, measured side by side in one run.

1. Cold derivation of every single-input law for erf, relu, tanh, linear in a fresh process
   (target: <= 3 s in total).
2. tanh chi0, chi1, chi2 at 50 digits: symfield's certified evaluate vs mpmath.quad over
   (-inf, inf) at the same precision (target: >= 2x faster).
3. float64: erf laws' to_numpy() on 10^6 points vs hand-written numpy/scipy (target: within
   2x), and tanh float64 laws on 10^6 points with relative error <= 1e-12 against mpmath.

Run: python benchmarks/bench_core.py
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import mpmath
import numpy as np
import scipy.special as sc

from _common import best_of, report

SINGLE_LAWS = ["chi0", "chi1", "chi2", "length_map", "activity_map", "length_map_slope"]


def cold_derivation() -> float:
    code = textwrap.dedent(f"""
        import time
        t0 = time.perf_counter()
        import symfield
        for act in ["erf", "relu", "tanh", "linear"]:
            for law in {SINGLE_LAWS!r}:
                symfield.derive(law, act)
        print(time.perf_counter() - t0)
    """)
    wall0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - wall0
    inside = float(out.stdout.strip())
    print(f"  (import + derivations inside the process: {inside:.2f} s; whole process {wall:.2f} s)")
    return wall


def tanh_high_precision() -> None:
    import symfield

    integrands = {
        "chi0": lambda x: mpmath.tanh(x) ** 2,
        "chi1": lambda x: mpmath.sech(x) ** 4,
        "chi2": lambda x: 4 * mpmath.tanh(x) ** 2 * mpmath.sech(x) ** 4,
    }
    for name, f in integrands.items():
        law = symfield.derive(name, "tanh")
        kw = {"q": 1} if name == "chi0" else {"q": 1, "sigma_w": 1}
        for q in ("0.001", "1", "10", "1000"):
            kw["q"] = q
            law.evaluate(dps=50, **kw)  # warm caches of nodes
            ours = best_of(lambda: law.evaluate(dps=50, **kw), 3)

            def baseline():
                with mpmath.workdps(50):
                    s = mpmath.sqrt(mpmath.mpf(q))
                    return mpmath.quad(lambda z: f(s * z) * mpmath.npdf(z), [-mpmath.inf, mpmath.inf])

            base = best_of(baseline, 3)
            with mpmath.workdps(80):
                s = mpmath.sqrt(mpmath.mpf(q))
                ref = mpmath.quad(lambda z: f(s * z) * mpmath.npdf(z),
                                  [-mpmath.inf, -1 / s, 0, 1 / s, mpmath.inf])
                ours_err = abs(law.evaluate(dps=50, **kw) - ref) / abs(ref)
                base_err = abs(baseline() - ref) / abs(ref)
            report(f"tanh {name} at 50 digits, q={q} (err {mpmath.nstr(ours_err, 2)} vs "
                   f"{mpmath.nstr(base_err, 2)})", ours, base, ">= 2x", base / ours >= 2)


def float64_laws() -> None:
    import symfield

    rng = np.random.default_rng(0)
    n = 10**6
    q = np.exp(rng.uniform(np.log(1e-6), np.log(1e3), n))
    sw = rng.uniform(0.5, 3.0, n)
    hand = {
        "chi0": (lambda: 2 / np.pi * np.arcsin(2 * q / (1 + 2 * q)), {"q": q}),
        "chi1": (lambda: 4 * sw**2 / (np.pi * np.sqrt(1 + 4 * q)), {"q": q, "sigma_w": sw}),
        "chi2": (lambda: 16 * q * sw**2 / (np.pi * (1 + 4 * q) ** 1.5), {"q": q, "sigma_w": sw}),
        "length_map_slope": (lambda: 4 * sw**2 / (np.pi * (1 + 2 * q) * np.sqrt(1 + 4 * q)),
                             {"q": q, "sigma_w": sw}),
    }
    for name, (fn, kw) in hand.items():
        f = symfield.derive(name, "erf").to_numpy()
        ours = best_of(lambda: f(**kw), 5)
        base = best_of(fn, 5)
        err = np.max(np.abs(f(**kw) - fn()) / np.abs(fn()))
        report(f"erf {name} to_numpy, 1e6 points (max rel diff {err:.1e})", ours, base,
               "within 2x", ours <= 2 * base)
    for name in ("chi0", "chi1", "chi2"):
        law = symfield.derive(name, "tanh")
        f = law.to_numpy()
        kw = {"q": q} if name == "chi0" else {"q": q, "sigma_w": 1.0}
        t0 = time.perf_counter()
        vals = f(**kw)
        took = time.perf_counter() - t0
        idx = rng.choice(n, 60, replace=False)
        worst = 0.0
        for i in idx:
            ref = law.evaluate(dps=20, **{k: (float(v[i]) if np.ndim(v) else v) for k, v in kw.items()})
            worst = max(worst, abs(vals[i] - float(ref)) / abs(float(ref)))
        print(f"tanh {name} float64 on 1e6 points: {took:.2f} s, max rel error on 60 sampled "
              f"points vs mpmath {worst:.1e} (target <= 1e-12: {'OK' if worst <= 1e-12 else 'MISSED'})")


if __name__ == "__main__":
    print("== cold derivation (fresh process) ==")
    wall = cold_derivation()
    report("every single-input law x {erf, relu, tanh, linear}", wall, 3.0, "<= 3 s", wall <= 3.0)
    print("== tanh at 50 digits vs mpmath.quad(-inf, inf) ==")
    tanh_high_precision()
    print("== float64 ==")
    float64_laws()
