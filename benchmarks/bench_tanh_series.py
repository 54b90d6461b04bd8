"""tanh chi0, chi1, chi2 at 50 digits: the Faddeeva pole series against the quadrature path,
measured side by side in one run. Law.evaluate(method="auto") takes the faster one; both
must agree to the requested digits.

Run: python benchmarks/bench_tanh_series.py
"""
from __future__ import annotations

import mpmath

import symfield
from _common import best_of


def main() -> None:
    print(f"{'law':6s} {'q':>7s} {'series s':>10s} {'quadrature s':>13s} {'faster':>11s} "
          f"{'agree':>7s} {'auto uses':>10s}")
    for name in ("chi0", "chi1", "chi2"):
        law = symfield.derive(name, "tanh")
        for q in ("0.001", "1", "10", "1000"):
            kw = {"q": q} if name == "chi0" else {"q": q, "sigma_w": 1}
            law.evaluate(dps=50, method="series", **kw)       # warm caches
            law.evaluate(dps=50, method="quadrature", **kw)
            t_series = best_of(lambda: law.evaluate(dps=50, method="series", **kw), 3)
            t_quad = best_of(lambda: law.evaluate(dps=50, method="quadrature", **kw), 3)
            a = law.evaluate(dps=50, method="series", **kw)
            b = law.evaluate(dps=50, method="quadrature", **kw)
            agree = abs(a - b) <= mpmath.mpf(10) ** -49 * abs(b)
            faster = "series" if t_series < t_quad else "quadrature"
            auto = law._numeric_expr("auto") is law.expr and "series" or "quadrature"
            print(f"{name:6s} {q:>7s} {t_series:10.4f} {t_quad:13.4f} {faster:>11s} "
                  f"{str(agree):>7s} {auto:>10s}")


if __name__ == "__main__":
    main()
