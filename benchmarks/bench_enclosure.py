"""Certified evaluation by proven enclosures (Law.enclose, Arb balls) against the
two-precision route of Law.evaluate (``proven=False``; evaluate's default now rounds an
enclosure itself: benchmarks/bench_evaluate_balls.py), measured side by side in one run. Targets (issue 16): closed forms
and pole series at 50 digits no slower than 2x evaluate; integral-form laws at most 0.5 s at
30 digits (their ratio to evaluate is printed too): one-variable expectations (Arb's
integration plus the proven tail) and two-variable ones with smooth factors (the product
trapezoidal rule); the kinked two-variable ones (ELU: Gauss-Legendre panels) are reported
against the same target separately.

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

INTEGRAL_CASES = [
    ("chi0", "softplus", {"q": "1"}),
    ("chi0", "softplus", {"q": "100"}),
    ("length_map_slope", "softplus", {"q": "2.5", "sigma_w": "1.3"}),
    ("chi1", "mish", {"q": "0.7", "sigma_w": "1.1"}),
    ("chi2", "mish", {"q": "3", "sigma_w": "1"}),
    ("length_map", "mish", {"q": "30", "sigma_w": "1.2", "sigma_b": "0.1"}),
    ("derivative_moment3", "gelu", {"q": "1.7"}),
    # two variables, smooth factors: the product trapezoidal rule
    ("kernel", "silu", {"q1": "1", "q2": "2", "rho": "0.5"}),
    ("derivative_kernel", "silu", {"q1": "1.4", "q2": "0.5", "rho": "0.3"}),
    ("kernel", "softplus", {"q1": "3", "q2": "0.5", "rho": "-0.9"}),
    ("kernel", "mish", {"q1": "0.8", "q2": "2.5", "rho": "1.2"}),
    ("correlation_map", "silu", {"q": "1.2", "c": "0.6", "sigma_w": "1.4", "sigma_b": "0.1"}),
    # nearly degenerate pairs (1 - c^2 = 2e-6; refused before the box rule)
    ("kernel", "silu", {"q1": "1", "q2": "2", "rho": "1.414213"}),
    # a Mehler series (no proven tail), enclosed through its definition's expectations
    ("kernel", "tanh", {"q1": "0.75", "q2": "1.25", "rho": "-0.3"}),
    ("derivative_kernel", "tanh", {"q1": "2", "q2": "0.5", "rho": "0.4"}),
]
#: Two variables with a kinked factor (Gauss-Legendre panels following the kinks).
KINKED_CASES = [
    ("kernel", "elu", {"q1": "1", "q2": "2", "rho": "0.5"}),
    ("kernel", "elu", {"q1": "1", "q2": "2", "rho": "-1.414213"}),
]
INTEGRAL_DPS = 30
INTEGRAL_TARGET = 0.5

#: Recursions over depth enclosed as a whole (ball arithmetic through every layer) against
#: their two-precision evaluate: the ratio is reported, no target.
RECURSION_CASES = [
    ("four_point_vertex", "relu", {"q": "0.7", "sigma_w": "1.3", "sigma_b": "0.4", "L": 10}),
]
RECURSION_DPS = 30


def main() -> None:
    print(f"{'law':28s} {'values':44s} {'enclose s':>10s} {'evaluate s':>11s} "
          f"{'ratio':>6s} {'proven':>7s}  target <= {TARGET}x")
    worst = 0.0
    for name, act, values in CASES:
        law = symfield.derive(name, act)
        enclosure = law.enclose(dps=DPS, **values)   # warm the caches of both routes
        value = law.evaluate(dps=DPS, proven=False, **values)
        assert enclosure.contains(value) or abs(value - enclosure.mid) <= \
            abs(value) * 10 ** -(DPS - 1), (name, act, value, enclosure)
        t_enclose = best_of(lambda: law.enclose(dps=DPS, **values), 7)
        t_evaluate = best_of(lambda: law.evaluate(dps=DPS, proven=False, **values), 7)
        ratio = t_enclose / t_evaluate
        worst = max(worst, ratio)
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        print(f"{name + '[' + act + ']':28s} {shown:44s} {t_enclose:10.5f} {t_evaluate:11.5f} "
              f"{ratio:6.2f} {int(enclosure.digits):7d}  {'OK' if ratio <= TARGET else 'MISSED'}")
    print(f"worst ratio {worst:.2f}x (target <= {TARGET}x): {'OK' if worst <= TARGET else 'MISSED'}")
    print()
    print(f"integral forms at {INTEGRAL_DPS} digits: {'law':26s} {'values':36s} "
          f"{'enclose s':>10s} {'evaluate s':>11s} {'ratio':>6s}  target <= {INTEGRAL_TARGET} s")
    slowest = {"one": 0.0, "two": 0.0, "kinked": 0.0}
    for name, act, values in INTEGRAL_CASES + KINKED_CASES:
        law = symfield.derive(name, act)
        enclosure = law.enclose(dps=INTEGRAL_DPS, **values)
        value = law.evaluate(dps=INTEGRAL_DPS + 5, proven=False, **values)
        assert abs(value - enclosure.mid) <= enclosure.rad + abs(value) * 10 ** -(INTEGRAL_DPS + 4)
        t_enclose = best_of(lambda: law.enclose(dps=INTEGRAL_DPS, **values), 3)
        t_evaluate = best_of(lambda: law.evaluate(dps=INTEGRAL_DPS, proven=False, **values), 3)
        kind = ("kinked" if (name, act, values) in KINKED_CASES
                else "one" if len(values) == 1 or "q" in values and "c" not in values
                else "two")
        slowest[kind] = max(slowest[kind], t_enclose)
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        print(f"{'':34s}{name + '[' + act + ']':26s} {shown:36s} {t_enclose:10.4f} "
              f"{t_evaluate:11.4f} {t_enclose / t_evaluate:6.2f}  "
              f"{'OK' if t_enclose <= INTEGRAL_TARGET else 'MISSED'}")
    for kind, label in (("one", "one-variable"), ("two", "two-variable, smooth factors"),
                        ("kinked", "two-variable, kinked factor")):
        print(f"slowest {label} integral form {slowest[kind]:.3f} s "
              f"(target <= {INTEGRAL_TARGET} s): "
              f"{'OK' if slowest[kind] <= INTEGRAL_TARGET else 'MISSED'}")
    print()
    print(f"recursions at {RECURSION_DPS} digits (ratio only): {'law':22s} {'values':40s} "
          f"{'enclose s':>10s} {'evaluate s':>11s} {'ratio':>6s}")
    for name, act, values in RECURSION_CASES:
        law = symfield.derive(name, act)
        enclosure = law.enclose(dps=RECURSION_DPS, **values)
        value = law.evaluate(dps=RECURSION_DPS, **values)
        assert abs(value - enclosure.mid) <= enclosure.rad + abs(value) * 10 ** -RECURSION_DPS
        t_enclose = best_of(lambda: law.enclose(dps=RECURSION_DPS, **values), 5)
        t_evaluate = best_of(lambda: law.evaluate(dps=RECURSION_DPS, **values), 5)
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        print(f"{'':34s}{name + '[' + act + ']':22s} {shown:40s} {t_enclose:10.4f} "
              f"{t_evaluate:11.4f} {t_enclose / t_evaluate:6.2f}")


if __name__ == "__main__":
    main()
