"""Certified 50-digit evaluation of closed forms and pole series: proven enclosures
(Law.enclose, Arb balls) against today's two-precision Law.evaluate(dps=50), measured side by
side in one run. Target (issue 16): the enclosure no slower than 2x evaluate.

Run: python benchmarks/bench_enclosure.py
"""
from __future__ import annotations

import symfield
from _common import best_of

CASES = [
    ("chi0", "erf", {"q": "0.7"}),
    ("chi1", "gelu", {"q": "2.5", "sigma_w": "1.3"}),
    ("length_map", "elu", {"q": "0.8", "sigma_w": "1.2", "sigma_b": "0.1"}),
    ("kernel", "relu", {"q1": "1.1", "q2": "0.9", "rho": "-0.4"}),
    ("kernel", "relu", {"q1": "1", "q2": "1", "rho": "-0.999999999999"}),
    ("derivative_kernel", "erf", {"q1": "1.1", "q2": "0.9", "rho": "0.6"}),
    ("correlation_map", "erf", {"q": "0.9", "c": "0.3", "sigma_w": "1.5", "sigma_b": "0.2"}),
    ("kernel", "gaussian", {"q1": "3", "q2": "0.2", "rho": "0.5"}),
    # Faddeeva pole series (evaluate's 'auto' takes the faster of series and quadrature)
    ("chi0", "tanh", {"q": "1"}),
    ("chi1", "tanh", {"q": "30", "sigma_w": "1.1"}),
    ("chi2", "sigmoid", {"q": "0.05", "sigma_w": "1"}),
    ("length_map_slope", "tanh", {"q": "3", "sigma_w": "1"}),
]
DPS = 50
TARGET = 2.0


def main() -> None:
    print(f"{'law':28s} {'values':44s} {'enclose s':>10s} {'evaluate s':>11s} "
          f"{'ratio':>6s} {'proven':>7s}  target <= {TARGET}x")
    worst = 0.0
    for name, act, values in CASES:
        law = symfield.derive(name, act)
        enclosure = law.enclose(dps=DPS, **values)   # warm the caches of both routes
        value = law.evaluate(dps=DPS, **values)
        assert enclosure.contains(value) or abs(value - enclosure.mid) <= \
            abs(value) * 10 ** -(DPS - 1), (name, act, value, enclosure)
        t_enclose = best_of(lambda: law.enclose(dps=DPS, **values), 7)
        t_evaluate = best_of(lambda: law.evaluate(dps=DPS, **values), 7)
        ratio = t_enclose / t_evaluate
        worst = max(worst, ratio)
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        print(f"{name + '[' + act + ']':28s} {shown:44s} {t_enclose:10.5f} {t_evaluate:11.5f} "
              f"{ratio:6.2f} {int(enclosure.digits):7d}  {'OK' if ratio <= TARGET else 'MISSED'}")
    print(f"worst ratio {worst:.2f}x (target <= {TARGET}x): {'OK' if worst <= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
