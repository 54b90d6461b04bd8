"""Speed of the dynamics issue, measured side by side in one run.

1. A 200 x 200 tanh phase diagram (q*, chi1, xi_c; sigma_w in [0.5, 4], sigma_b in [0, 1]) in
   float64: one process, two local worker processes (target <= 30 s on 2 cores; the ratio
   is the speed-up from 1 to 2 workers), and a Dask LocalCluster with two worker processes
   (the ratio to the two local workers is the Dask overhead). All three must give the same
   numbers.
2. The 30-digit fixed-point report at tanh sigma_w = 2.5, sigma_b = 0.3 (target <= 5 s), in a
   fresh process (cold: import, derivations, compilation) and warm, against a straightforward
   use of the laws (mpmath.findroot on certified ``Law.evaluate`` for q* and c*).

Run: python benchmarks/bench_dynamics.py [--resolution N]
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import textwrap
import time

import mpmath
import numpy as np

from _common import report


def phase_diagram(resolution: int) -> None:
    from symfield.dynamics import sweep
    from symfield.dynamics.model import mean_field
    from symfield.dynamics.vectorised import fixed_points_float64

    # build the laws once in this process (forked local workers inherit them)
    fixed_points_float64(mean_field("tanh"), np.array([2.5]), np.array([0.3]))
    grid = {"sigma_w": np.linspace(0.5, 4.0, resolution),
            "sigma_b": np.linspace(0.0, 1.0, resolution)}
    quantities = ["q_star", "chi1", "xi_c"]
    chunk = max(1, resolution * resolution // 32)

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def run(**executor):
        t0, c0 = time.perf_counter(), cpu()
        result = sweep("tanh", quantities, grid, chunk_size=chunk, progress=False, **executor)
        return time.perf_counter() - t0, cpu() - c0, result

    one, one_cpu, r1 = run(workers=1)
    two, two_cpu, r2 = run(workers=2)
    phases = np.asarray(r1.grid("chi1") > 1)
    print(f"  ({resolution}x{resolution} = {resolution**2} points, {phases.mean():.0%} chaotic, "
          f"chunks of {chunk}; CPU time 1 worker {one_cpu:.1f} s, 2 workers {two_cpu:.1f} s; "
          f"load average before: {os.getloadavg()[0]:.1f})")
    report(f"tanh phase diagram {resolution}^2, 2 local workers vs 1", two, one, "<= 30 s",
           two <= 30.0)
    try:
        from distributed import LocalCluster
    except ImportError:
        print("  (dask[distributed] not installed: Dask overhead not measured)")
        return
    from distributed import Client

    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        start = time.perf_counter() - t0
        with Client(cluster) as client:
            t0 = time.perf_counter()
            client.run(_warm_worker)  # the workers import symfield and derive the laws
            warm = time.perf_counter() - t0
        dask, _cpu, r3 = run(scheduler=cluster.scheduler_address)
    print(f"  (not included: LocalCluster start-up {start:.1f} s; warming its 2 worker "
          f"processes (import, derivations) {warm:.1f} s)")
    report("same on a Dask LocalCluster (2 processes) vs 2 local", dask, two,
           "overhead only", True)
    for name in quantities:
        a, b, c = r1.array(name), r2.array(name), r3.array(name)
        same = np.array_equal(a, b, equal_nan=True) and np.array_equal(a, c, equal_nan=True)
        print(f"  {name}: identical on all three executors: {same}")


def _warm_worker() -> None:
    from symfield.dynamics.model import mean_field
    from symfield.dynamics.vectorised import fixed_points_float64

    fixed_points_float64(mean_field("tanh"), np.array([2.5]), np.array([0.3]))


COLD = textwrap.dedent("""
    import time
    t0, c0 = time.perf_counter(), time.process_time()
    import symfield
    r = symfield.fixed_point("tanh", sigma_w="2.5", sigma_b="0.3", dps=30)
    t1, c1 = time.perf_counter(), time.process_time()
    r = symfield.fixed_point("tanh", sigma_w="1.7", sigma_b="0.4", dps=30)
    t2, c2 = time.perf_counter(), time.process_time()
    print(t1 - t0, t2 - t1, min(r.digits.values()), c1 - c0, c2 - c1)
""")


def naive_report() -> float:
    """q*, c*, chi_c with mpmath.findroot on certified Law.evaluate calls (30 digits)."""
    import symfield

    vmap = symfield.derive("length_map", "tanh")
    cmap = symfield.derive("correlation_map", "tanh")
    dker = symfield.derive("derivative_kernel", "tanh")
    t0 = time.perf_counter()
    with mpmath.workdps(30):
        q_star = mpmath.findroot(
            lambda v: vmap.evaluate(dps=30, q=v, sigma_w="2.5", sigma_b="0.3") - v,
            mpmath.mpf(4))
        c_star = mpmath.findroot(
            lambda c: cmap.evaluate(dps=30, c=c, q=q_star, sigma_w="2.5", sigma_b="0.3") - c,
            mpmath.mpf("0.1"))
        chi_c = mpmath.mpf("6.25") * dker.evaluate(dps=30, q1=q_star, q2=q_star,
                                                   rho=q_star * c_star)
    elapsed = time.perf_counter() - t0
    print(f"  (naive: c* = {mpmath.nstr(c_star, 12)}, chi_c = {mpmath.nstr(chi_c, 12)})")
    return elapsed


def fixed_point_report() -> None:
    out = subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True,
                         check=True)
    cold, warm, digits, cold_cpu, warm_cpu = out.stdout.split()
    cold, warm = float(cold), float(warm)
    print(f"  (fresh process: import + first report {cold:.2f} s (CPU {float(cold_cpu):.2f} s), "
          f"a report at another point {warm:.2f} s (CPU {float(warm_cpu):.2f} s); {digits} "
          f"digits verified; load average {os.getloadavg()[0]:.1f})")
    baseline = naive_report()
    report("30-digit fixed-point report, tanh (cold, fresh process)", cold, baseline,
           "<= 5 s", cold <= 5.0)
    report("30-digit fixed-point report, tanh (warm)", warm, baseline, "<= 5 s", warm <= 5.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=200)
    args = parser.parse_args()
    phase_diagram(args.resolution)
    fixed_point_report()


if __name__ == "__main__":
    main()
