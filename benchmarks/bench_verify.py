"""Speed of ``symfield.verify`` on hand calculations (warm: after one call of each claim).

Targets (issue "LaTeX derivations that compile, and a safe verifier for hand calculations"):
a typical one-line claim, parse + compare, in <= 0.2 s; a ten-step chain in <= 2 s.

Each claim is verified once to warm the caches (imports, ANTLR, derived laws, compiled
quadratures), then timed ``REPEAT`` times; the median and the best are printed, and the
target is judged on the median. The verdict is printed too: a fast wrong answer is no use.

Run: python benchmarks/bench_verify.py
"""
from __future__ import annotations

import time

from _common import best_of, median_of

REPEAT = 5
ONE_LINE_TARGET = 0.2
CHAIN_TARGET = 2.0

#: (label, claim, keyword arguments of verify)
ONE_LINE = [
    ("law, plain (chi1 erf)", "4*sigma_w**2/(pi*sqrt(1+4*q))",
     {"law": "chi1", "activation": "erf"}),
    ("labelled, LaTeX (\\chi_1(q) = ...)", r"\chi_1(q) = \frac{4\sigma_w^2}{\pi\sqrt{1+4q}}",
     {"activation": "erf"}),
    ("equation, arcsin = arctan (the trap)",
     "(2/pi)*asin(2q/(1+2q)) = (2/pi)*atan(2q/sqrt(1+4q))", {}),
    ("equation, LaTeX arcsin = Feynman form",
     r"\frac{2}{\pi}\arcsin\frac{2q}{1+2q} = \frac{4\arctan\sqrt{1+4q}-\pi}{\pi}", {}),
    ("wrong claim vs law (counterexample)", "(2/pi)*asin(2q/(1+2.2q))",
     {"law": "chi0", "activation": "erf"}),
    ("expectation E[phi'(u)^2] (erf)", "E[phi'(u)^2] = 4/(pi*sqrt(1+4q))", {"activation": "erf"}),
    ("expectation, LaTeX \\mathbb{E}[\\phi'(u)^2]",
     r"\mathbb{E}[\phi'(u)^2] = \frac{4}{\pi\sqrt{1+4q}}", {"activation": "erf"}),
    ("erf EOC (pi/4)sqrt(1+4q) = 1/E[phi'^2]", "(pi/4)*sqrt(1+4q) = 1/E[phi'(u)^2]",
     {"activation": "erf"}),
    ("ReLU kernel at c = 1/2 (G12)", "1/6 + sqrt(3)/(4*pi)",
     {"law": "kernel", "activation": "relu", "q1": 1, "q2": 1, "rho": "1/2"}),
    ("leaky ReLU dot kernel, arccos form",
     "(1+alpha**2)/2 - (1-alpha)**2/(2*pi)*acos(rho/sqrt(q1*q2))",
     {"law": "derivative_kernel", "activation": "leaky_relu"}),
]

TEN_STEPS = [
    "E[phi(u)^2]",
    "(2/pi)*asin(2q/(1+2q))",
    "(2/pi)*atan(2q/sqrt(1+4q))",
    "(4*atan(sqrt(1+4q)) - pi)/pi",
    "4*atan(sqrt(1+4q))/pi - 1",
    "1 - (4/pi)*atan(1/sqrt(1+4q))",
    "(2/pi)*acos(sqrt(1+4q)/(1+2q))",
    "2*asin(2q/(1+2q))/pi",
    "(2/pi)*atan2(2q, sqrt(1+4q))",
    "(2/pi)*asin(2q/(1+2q))",
]
TEN_STEP_CHAIN = "\n= ".join(TEN_STEPS)
ALIGN_ROWS = [
    r"\mathbb{E}[\varphi(u)^2] &= \frac{2}{\pi}\arcsin\frac{2q}{1+2q}",
    r"&= \frac{2}{\pi}\arctan\frac{2q}{\sqrt{1+4q}}",
    r"&= \frac{4\arctan\sqrt{1+4q}-\pi}{\pi}",
    r"&= \frac{4}{\pi}\arctan\sqrt{1+4q} - 1",
    r"&= 1 - \frac{4}{\pi}\arctan\frac{1}{\sqrt{1+4q}}",
    r"&= \frac{2}{\pi}\arccos\frac{\sqrt{1+4q}}{1+2q}",
    r"&= \frac{2\arcsin\frac{2q}{1+2q}}{\pi}",
    r"&= \frac{2}{\pi}\arctan\frac{2q}{\sqrt{4q+1}}",
    r"&= \frac{2}{\pi}\arcsin\frac{2q}{2q+1}",
]
TEN_STEP_ALIGN = "\\begin{align}\n" + " \\\\\n".join(ALIGN_ROWS) + "\n\\end{align}"


def timed(label: str, claim: str, kwargs: dict, target: float) -> bool:
    from symfield import verify

    t0 = time.perf_counter()
    verdict = verify(claim, **kwargs)  # warm-up
    cold = time.perf_counter() - t0
    median = median_of(lambda: verify(claim, **kwargs), REPEAT)
    best = best_of(lambda: verify(claim, **kwargs), REPEAT)
    ok = median <= target
    print(f"{label:42s} {verdict.status:10s} first {cold:7.3f} s  median {median:7.3f} s  "
          f"best {best:7.3f} s  target <= {target:g} s  {'OK' if ok else 'MISSED'}")
    return ok


def main() -> None:
    t0 = time.perf_counter()
    import symfield  # noqa: F401

    print(f"import symfield: {time.perf_counter() - t0:.2f} s")
    print(f"== one-line claims (parse + compare), warm, {REPEAT} runs ==")
    results = [timed(label, claim, kwargs, ONE_LINE_TARGET) for label, claim, kwargs in ONE_LINE]
    print(f"== ten-step chains, warm, {REPEAT} runs ==")
    results.append(timed("ten-step chain, plain (one E[...] step)", TEN_STEP_CHAIN,
                         {"activation": "erf"}, CHAIN_TARGET))
    results.append(timed("ten-step chain, LaTeX align block", TEN_STEP_ALIGN,
                         {"activation": "erf"}, CHAIN_TARGET))
    print(f"targets met: {sum(results)} of {len(results)}")


if __name__ == "__main__":
    main()
