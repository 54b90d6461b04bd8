"""Security: no public entry point executes, reads files or hangs on hostile text (issue 18).

The public API is *walked*, not listed: every callable exported by ``symfield`` and its
documented submodules (their ``__all__``; the submodules of a package without one), and every
public method of the exported classes, is introspected with ``inspect.signature`` and called
with the payloads of ``support/security_payloads.py`` in each parameter, the other arguments taken
from VALID (valid, cheap values). A public callable VALID does not cover fails
``test_every_public_callable_is_covered``, so a new entry point is walked from the day it
appears. The command line is walked the same way from its argparse tree: every string option
of every subcommand.

Every payload that would act creates a marker file the test controls, or reads a secret file
whose token must never come back. Accepted outcomes: a normal return, a ``SymfieldError``, or a
``ValueError``/``TypeError`` (not SymPy's ``SympifyError``) with a one-line message; the CLI
exits 2 (``check``: 1, 2 or 3) with one line on stderr. Calls run in worker subprocesses; a
call that makes no progress for HANG_SECONDS is killed and reported as a hang (a generous
limit that only catches hangs: nothing here measures speed).

A hole found in a file this suite's author does not own is recorded in KNOWN_HOLES,
KNOWN_UNCLEAR or KNOWN_HANGS (strict xfails: a test starts failing the day its hole is fixed,
so the record gets removed).
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib
import inspect
import io
import json
import os
import pkgutil
import random
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time
import types
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from support import security_payloads as corpus  # noqa: E402

#: A call that reports nothing for this long is a hang (kills the worker; never met normally).
HANG_SECONDS = 60
#: Longest acceptable error message.
MESSAGE_CHARS = 1000
#: Worker processes running the walk side by side.
WORKERS = 2
#: Payloads per parameter: a text or untyped parameter, a typed one (int, array, ...).
TEXT_SAMPLE, TYPED_SAMPLE = 8, 3

#: The documented modules whose public names are walked.
MODULES = ("symfield", "symfield.verification", "symfield.laws", "symfield.activations",
           "symfield.dynamics", "symfield.laboratory.networks", "symfield.laboratory",
           "symfield.plot", "symfield.output")


# ------------------------------------------------------------------------------------------
# Valid arguments for every public callable
# ------------------------------------------------------------------------------------------
class Make:
    """A value built in the worker on first use (SymPy objects, laws, networks, figures)."""

    def __init__(self, build: Callable[[], object]) -> None:
        self.build = build

    @lru_cache(maxsize=None)
    def value(self) -> object:
        return self.build()


@dataclasses.dataclass(frozen=True)
class Spec:
    """How to call one public callable: valid values of its parameters (``self`` builds the
    instance of a method), the parameters fed the whole corpus (front doors), keyword names
    for ``**kwargs``, and whether ``*args`` takes a payload."""

    args: dict = dataclasses.field(default_factory=dict)
    full: tuple = ()
    keywords: dict = dataclasses.field(default_factory=dict)
    star: bool = False
    #: Payloads per parameter when not the whole corpus (None: TEXT_/TYPED_SAMPLE).
    sample: int | None = None
    #: Parameters left at their valid value (e.g. a callback the call would simply run).
    fixed: tuple = ()
    #: The implementation whose signature a lazy ``*args, **kwargs`` wrapper forwards to.
    signature_of: str | None = None
    #: Why the valid arguments are not checked to succeed (None: they are).
    unchecked: str | None = None


def _sym(name: str, **assumptions):
    import sympy as sp

    return sp.Symbol(name, **assumptions)


def _law():
    import symfield

    return symfield.derive("chi1", "erf")


def _leaky():
    import symfield

    return symfield.registered_activations()["leaky_relu"]


def _network():
    import symfield

    return symfield.sample_network("tanh", 1.5, 0.3, [4, 8, 8], seed=0)


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(1, 1))


def _array(*shape):
    import numpy as np

    return Make(lambda: np.ones(shape))


def _u2():
    return _sym("u", real=True) ** 2


LAW = Make(_law)
LEAKY = Make(_leaky)
NETWORK = Make(_network)
U = Make(lambda: _sym("u", real=True))
Q = Make(lambda: _sym("q", positive=True))
FORWARD = Make(lambda: _network().forward(__import__("numpy").ones((2, 4))))
JETPASS = Make(lambda: _network().forward_second_order(__import__("numpy").ones(4),
                                                       __import__("numpy").eye(4)[:, :2]))
#: The sampled-network laboratory and its independent witness.
LAB, NETS = "symfield.laboratory", "symfield.laboratory.networks"
PREDICTOR = Make(lambda: importlib.import_module(LAB).Predictor("tanh", 1.5, 0.3))
SWEEP = Make(lambda: importlib.import_module("symfield.dynamics").sweep(
    "erf", grid={"sigma_w": [1.5], "sigma_b": [0.3]}, dps=15, progress=False, workers=1))
TABLE = Make(lambda: importlib.import_module(LAB).simulate(
    "tanh", 1.5, 0.3, 8, 2, replicas=4))
ESTIMATE = Make(lambda: importlib.import_module(NETS).replicate(
    lambda rng: rng.normal(), 4, 0))
REPORT = Make(lambda: importlib.import_module("symfield.dynamics").fixed_point(
    "erf", 1.5, 0.3, dps=15))
SMALL_NET = dict(activation="tanh", sigma_w=1.5, sigma_b=0.3)
INTERVAL = Make(lambda: importlib.import_module("symfield.verification").Interval(1, 2))
CALCULUS = Make(lambda: importlib.import_module("symfield").GaussianCalculus())
STATE = Make(lambda: importlib.import_module("symfield.output.latex").DocumentState())

VALID: dict[str, Spec] = {
    # symfield
    "symfield.Activation": Spec(dict(name="t", phi=Make(lambda: importlib.import_module(
        "symfield.activations").x), description="d")),
    "symfield.Activation.derivative": Spec(dict(self=LEAKY, order=1), full=("order",)),
    "symfield.Activation.__call__": Spec(dict(self=LEAKY, arg=U, order=0), full=("arg",)),
    "symfield.Activation.with_parameters": Spec(dict(self=LEAKY), keywords={"alpha": "1/10"},
                                                full=("**alpha",)),
    "symfield.Activation.pointwise_derivative": Spec(dict(self=LEAKY, order=1)),
    "symfield.Expectation": Spec(dict(integrand=Make(_u2), variables=Make(lambda: (U.value(),)),
                                      covariance=(1,)), full=("integrand",)),
    "symfield.GaussianCalculus.record": Spec(dict(self=CALCULUS, before=Q, after=Q, rule="r")),
    "symfield.GaussianCalculus.note_divergence": Spec(dict(self=CALCULUS, reason="r")),
    "symfield.GaussianCalculus.attempt": Spec(dict(self=CALCULUS,
                                                   fn=Make(lambda: (lambda *a: 0))), star=True),
    "symfield.GaussianCalculus.integrate": Spec(dict(self=CALCULUS, f=U, var=U, lo=0, hi=1)),
    "symfield.GaussianCalculus.expect": Spec(dict(self=CALCULUS, e=Make(
        lambda: importlib.import_module("symfield").Expectation(_u2(), (U.value(),), (1,))))),
    "symfield.GaussianCalculus.expect_integrand": Spec(dict(
        self=CALCULUS,
        integrand=Make(_u2), m=Make(lambda: importlib.import_module(
            "symfield.gaussian.rules.base").Measure(U.value(), 0, 1)))),
    "symfield.GaussianCalculus.pair_integrand": Spec(dict(
        self=CALCULUS,
        integrand=Make(lambda: _sym("u1", real=True) * _sym("u2", real=True)),
        m=Make(lambda: importlib.import_module("symfield.gaussian.rules.base").PairMeasure(
            _sym("u1", real=True), _sym("u2", real=True), 1, 0, 1)))),
    "symfield.LawDefinition": Spec(dict(name="t", title="t", latex_name="t", variables=(),
                                        define=Make(lambda: (lambda phi: 0)))),
    # a Law is what derive() returns; built by hand, it only refuses an undefined (NaN) value
    "symfield.Law": Spec(dict(name="t", activation=Make(lambda: _law().activation),
                              definition=Q, expr=Q, variables=(),
                              derivation=Make(lambda: _law().derivation)), sample=4),
    "symfield.Law.compiled": Spec(dict(self=LAW, method="auto")),
    "symfield.Law.real_value": Spec(dict(self=LAW, value=1, dps=15)),
    "symfield.Law.evaluate": Spec(dict(self=LAW, dps=15), keywords={"q": 1, "sigma_w": 1},
                                  full=("**q", "method")),
    "symfield.Law.certified": Spec(dict(self=LAW, dps=15), keywords={"q": 1, "sigma_w": 1},
                                  full=("**q", "method")),
    "symfield.Law.to_numpy": Spec(dict(self=LAW)),
    "symfield.Law.enclose": Spec(dict(self=LAW, dps=15), keywords={"q": 1, "sigma_w": 1},
                                 full=("**q",)),
    "symfield.Law.to_source": Spec(dict(self=LAW, language="c"), full=("language",)),
    "symfield.Law.numpy_evaluator": Spec(dict(self=LAW)),
    "symfield.Law.latex": Spec(dict(self=LAW)),
    "symfield.NetworkSpec": Spec(dict(activation="relu"), full=("sigma_w", "activation")),
    "symfield.NetworkSpec.make": Spec(dict(activation="relu"), full=("sigma_w_value",)),
    "symfield.NetworkSpec.preactivation": Spec(dict(self=Make(lambda: importlib.import_module(
        "symfield").NetworkSpec.make("relu")))),
    "symfield.check_law": Spec(dict(law="length_map", width=8, depth=2, seed=0, replicas=4,
                                    **SMALL_NET), signature_of=f"{LAB}.check_law",
                               keywords={"q0": 1.0}),
    "symfield.critical_sigma_w": Spec(dict(activation="erf", sigma_b=0.3, dps=15),
                                      signature_of="symfield.dynamics.critical_sigma_w"),
    "symfield.derive": Spec(dict(law="chi1", activation="erf"), full=("law", "activation")),
    "symfield.fixed_point": Spec(dict(activation="erf", sigma_w=1.5, sigma_b=0.3, dps=15),
                                 signature_of="symfield.dynamics.fixed_point"),
    "symfield.fisher_statistics": Spec(dict(activation="erf", sigma_w=1.5, sigma_b=0.5,
                                            widths=[3, 4]),
                                       signature_of="symfield.learning.fisher_statistics"),
    "symfield.activation": Spec(dict(spec="x*Phi(x)"), full=("spec",)),
    # relu: erf's first finite_width call spends most of a minute on E[erf(x)^4]
    "symfield.finite_width": Spec(dict(activation="relu", sigma_w=1.5, sigma_b=0.3, q0=1,
                                       depth=2, width=8, dps=15),
                                  signature_of="symfield.dynamics.finite_width.finite_width"),
    "symfield.criticality": Spec(dict(activation="relu", dps=15),
                                 signature_of="symfield.dynamics.criticality.criticality"),
    "symfield.Enclosure.contains": Spec(dict(self=Make(lambda: importlib.import_module(
        "symfield").Enclosure(importlib.import_module("mpmath").mpf(1),
                              importlib.import_module("mpmath").mpf(0.5))), x=1),
        full=("x",)),
    "symfield.field_law": Spec(dict(activation="erf"), full=("activation",)),
    "symfield.field_kernel": Spec(dict(activation="erf", inputs=[[[1.0]] * 4] * 2, depth=2,
                                       sigma_w=1.5, sigma_b=0.1, grid=4,
                                       weight_covariance="independent"),
                                  signature_of="symfield.dynamics.field.field_kernel"),
    "symfield.sample_field": Spec(dict(activation="erf", inputs=[[[1.0]] * 4] * 2, depth=2,
                                       sigma_w=1.5, sigma_b=0.1, grid=4,
                                       weight_covariance="independent", n=3, seed=0),
                                  signature_of=f"{LAB}.field.sample_field"),
    "symfield.plot.field_kernel": Spec(dict(activation="erf", inputs=[[[1.0]] * 4] * 2, depth=2,
                                            sigma_w=1.5, sigma_b=0.1, grid=4), sample=4,
                                       signature_of=f"{LAB}.field.plot_field_kernel"),
    "symfield.jacobian_spectrum": Spec(dict(activation="erf", sigma_w=1.2, sigma_b=0.1, depth=3),
                                       signature_of="symfield.dynamics.spectrum.jacobian_spectrum"),
    "symfield.plot.jacobian_spectrum": Spec(dict(activation="erf", sigma_w=1.2, sigma_b=0.1,
                                                 depth=2, points=20), sample=4,
                                            signature_of="symfield.output.spectrum_plot."
                                                         "jacobian_spectrum"),
    "symfield.recurrent": Spec(dict(activation="erf", sigma_w=1.5, sigma_b=0.1, n=8, steps=2,
                                    trials=2), signature_of=f"{LAB}.recurrent.recurrent"),
    "symfield.lazy_training": Spec(dict(activation="erf", sigma_w=1.5, sigma_b=0.5,
                                        widths=(4, 8), depth=2, n_train=4, n_test=4, steps=3,
                                        replicas=2),
                                   signature_of="symfield.learning.lazy_training"),
    "symfield.nngp_ntk": Spec(dict(activation="relu", inputs=[[1, 0], [0, 1]], depth=1,
                                   sigma_w=1, sigma_b=0), full=("sigma_w",)),
    "symfield.sample_network": Spec(dict(widths=[4, 8], seed=0, **SMALL_NET),
                                    signature_of=f"{NETS}.sample_network"),
    # symfield.verify
    "symfield.verification.Counterexample.describe": Spec(dict(self=Make(
        lambda: importlib.import_module("symfield.verification").Counterexample(
            {Q.value(): __import__("sympy").Integer(1)}, __import__("mpmath").mpc(1),
            __import__("mpmath").mpc(2))))),
    "symfield.verification.Interval": Spec(dict(low=1, high=2)),
    "symfield.verification.Interval.sample": Spec(dict(self=INTERVAL,
                                                 rng=Make(lambda: random.Random(0)))),
    "symfield.verification.Interval.contains": Spec(dict(self=INTERVAL, value=1)),
    "symfield.verification.Interval.near_an_end": Spec(dict(self=INTERVAL,
                                                      rng=Make(lambda: random.Random(0)))),
    "symfield.verification.compare": Spec(dict(a=Q, b=Q, points=2)),
    "symfield.verification.detect_syntax": Spec(dict(text="q"), full=("text",)),
    "symfield.verification.parse_claim": Spec(dict(text="q = q"), full=("text", "syntax")),
    "symfield.verification.parse_expression": Spec(dict(text="q"), full=("text",)),
    "symfield.verification.phi": Spec(star=True),
    "symfield.verification.substitute_activation": Spec(dict(expr=Q, activation="erf")),
    "symfield.verify": Spec(dict(claim="q = q", points=2), full=("claim",),
                            keywords={"sigma_b": 0}),
    # symfield.laws
    "symfield.laws.get_law": Spec(dict(name="chi1"), full=("name",)),
    "symfield.laws.register": Spec(dict(law="chi1"),
                                   unchecked="a valid call changes the worker's law registry"),
    "symfield.laws.varphi": Spec(star=True),
    # symfield.activations
    "symfield.activations.formula_activation": Spec(dict(text="x*Phi(x)"), full=("text",)),
    "symfield.activations.get_activation": Spec(dict(activation="erf"), full=("activation",)),
    "symfield.activations.register": Spec(dict(activation="erf"),
                                          unchecked="a valid call changes the worker's registry"),
    # symfield.dynamics
    "symfield.dynamics.DaskExecutor": Spec(dict(scheduler=None), sample=4,
                                           unchecked="needs a running Dask scheduler"),
    "symfield.dynamics.EdgeOfChaos.sample": Spec(dict(
        self=Make(lambda: importlib.import_module("symfield.dynamics").edge_of_chaos("erf")),
        q_values=[1.0])),
    "symfield.dynamics.EdgePowerLaw.asymptote": Spec(dict(
        self=Make(lambda: importlib.import_module("symfield.dynamics").edge_power_law("relu")),
        depth=10)),
    "symfield.dynamics.Executor.map": Spec(dict(self=Make(lambda: importlib.import_module(
        "symfield.dynamics").Executor()), fn=len, tasks=[]), unchecked="an abstract method"),
    "symfield.dynamics.FixedPointReport.value": Spec(dict(self=REPORT, name="q_star")),
    "symfield.dynamics.LocalExecutor": Spec(dict(workers=1)),
    "symfield.dynamics.LocalExecutor.map": Spec(dict(self=Make(lambda: importlib.import_module(
        "symfield.dynamics").LocalExecutor(1)), fn=len, tasks=[]), sample=4),
    "symfield.dynamics.DaskExecutor.map": Spec(dict(self=None, fn=len, tasks=[]), sample=0,
                                               unchecked="needs a running Dask scheduler"),
    "symfield.dynamics.SweepResult.array": Spec(dict(self=SWEEP, name="q_star")),
    "symfield.dynamics.SweepResult.grid": Spec(dict(self=SWEEP, name="q_star")),
    "symfield.dynamics.SweepResult.exact": Spec(dict(self=SWEEP, name="q_star")),
    "symfield.dynamics.critical_line": Spec(dict(activation="erf", sigma_b_max=0.5, n=5)),
    "symfield.dynamics.critical_point": Spec(dict(activation="erf", sigma_b=0.3, dps=15)),
    "symfield.dynamics.critical_sigma_w": Spec(dict(activation="erf", sigma_b=0.3, dps=15)),
    "symfield.dynamics.depth_scales": Spec(dict(activation="erf", sigma_w=1.5, sigma_b=0.3,
                                                dps=15)),
    "symfield.dynamics.edge_of_chaos": Spec(dict(activation="erf")),
    "symfield.dynamics.edge_power_law": Spec(dict(activation="relu")),
    "symfield.dynamics.fixed_point": Spec(dict(activation="erf", sigma_w=1.5, sigma_b=0.3,
                                               dps=15), full=("sigma_w",)),
    "symfield.dynamics.fixed_points_float64": Spec(dict(activation="erf", sigma_w=1.5,
                                                        sigma_b=0.3)),
    "symfield.dynamics.iterate_correlation_map": Spec(dict(activation="erf", sigma_w=1.5,
                                                           sigma_b=0.3, depth=3)),
    "symfield.dynamics.make_executor": Spec(dict(workers=1), sample=4),
    "symfield.dynamics.sweep": Spec(dict(activation="erf", grid={"sigma_w": [1.5],
                                                                  "sigma_b": [0.3]},
                                         dps=15, progress=False, workers=1), sample=4),
    # symfield.laboratory.networks
    f"{NETS}.Estimate.z_score": Spec(dict(self=ESTIMATE, reference=0.0)),
    f"{NETS}.ForwardPass.u": Spec(dict(self=FORWARD, layer=1)),
    f"{NETS}.ForwardPass.x": Spec(dict(self=FORWARD, layer=1)),
    f"{NETS}.ForwardPass.q12": Spec(dict(self=FORWARD)),
    f"{NETS}.ForwardPass.correlation": Spec(dict(self=FORWARD)),
    f"{NETS}.ForwardPass.overlap": Spec(dict(self=FORWARD)),
    f"{NETS}.Jet": Spec(dict(packed=_array(4, 3), directions=2, order=1)),
    f"{NETS}.JetPass.layer": Spec(dict(self=JETPASS, layer=1)),
    f"{NETS}.JetPass.metric": Spec(dict(self=JETPASS, layer=1)),
    f"{NETS}.JetPass.normalized_curvature_squared": Spec(dict(self=JETPASS, layer=1)),
    f"{NETS}.RandomNetwork": Spec(dict(
        activation=Make(lambda: importlib.import_module("symfield.activations").get_activation(
            "tanh")), sigma_w=1.5, sigma_b=0.3, widths=(4, 8),
        stream=Make(lambda: __import__("numpy").random.SeedSequence(0)), lazy=False)),
    f"{NETS}.RandomNetwork.weight": Spec(dict(self=NETWORK, layer=1)),
    f"{NETS}.RandomNetwork.bias": Spec(dict(self=NETWORK, layer=1)),
    f"{NETS}.RandomNetwork.forward": Spec(dict(self=NETWORK, inputs=_array(2, 4))),
    f"{NETS}.RandomNetwork.forward_tangents": Spec(dict(
        self=NETWORK, point=_array(4), directions=_array(4, 2))),
    f"{NETS}.RandomNetwork.forward_curve": Spec(dict(
        self=NETWORK, position=_array(4), velocity=_array(4))),
    f"{NETS}.RandomNetwork.forward_second_order": Spec(dict(
        self=NETWORK, point=_array(4), directions=_array(4, 2))),
    f"{NETS}.RandomNetwork.layer_jacobian": Spec(dict(self=NETWORK, point=_array(4), layer=1)),
    f"{NETS}.RandomNetwork.jacobian_product": Spec(dict(self=NETWORK, point=_array(4))),
    f"{NETS}.correlation": Spec(dict(first=_array(3), second=_array(3))),
    f"{NETS}.curve_curvature_squared": Spec(dict(velocity=_array(3), acceleration=_array(3))),
    f"{NETS}.great_circle": Spec(dict(
        angle=0.5, first=Make(lambda: __import__("numpy").array([1.0, 0, 0])),
        second=Make(lambda: __import__("numpy").array([0, 1.0, 0])), radius=1.0)),
    f"{NETS}.mean_product": Spec(dict(first=_array(3), second=_array(3))),
    f"{NETS}.mean_square": Spec(dict(values=_array(3))),
    f"{NETS}.metric_tensor": Spec(dict(tangents=_array(3, 2))),
    f"{NETS}.normalized_curve_curvature_squared": Spec(dict(velocity=_array(3),
                                                            acceleration=_array(3))),
    f"{NETS}.normalized_extrinsic_curvature_squared": Spec(dict(
        tangents=_array(3, 2), second=_array(3, 2, 2))),
    f"{NETS}.replicate": Spec(dict(statistic=Make(lambda: (lambda rng: 0.0)), replicas=4,
                                   seed=0)),
    f"{NETS}.replicate_networks": Spec(dict(
        statistic=Make(lambda: (lambda net: 0.0)), widths=[4, 8], replicas=2, seed=0,
        **SMALL_NET)),
    f"{NETS}.sample_network": Spec(dict(widths=[4, 8], seed=0, **SMALL_NET)),
    f"{NETS}.second_fundamental_mean_square": Spec(dict(tangents=_array(3, 2),
                                                        second=_array(3, 2, 2))),
    # symfield.laboratory
    f"{LAB}.LawCheck.build": Spec(dict(rows=Make(lambda: [importlib.import_module(
        LAB).Row("q", 1, 1.0, 1.0, 0.1)]), z=5.0), keywords={"law": "q"},
        unchecked="a LawCheck needs every one of its fields as keywords"),
    f"{LAB}.Predictor": Spec(dict(**SMALL_NET)),
    f"{LAB}.Predictor.law": Spec(dict(self=PREDICTOR, name="length_map")),
    f"{LAB}.Predictor.lengths": Spec(dict(self=PREDICTOR, q0=1.0, depth=2)),
    f"{LAB}.Predictor.correlations": Spec(dict(self=PREDICTOR, c0=0.5, q0=1.0, depth=2)),
    f"{LAB}.Predictor.metrics": Spec(dict(self=PREDICTOR, gram0=_array(2, 2), q0=1.0, depth=2)),
    f"{LAB}.Predictor.curvatures": Spec(dict(
        self=PREDICTOR, kappa0=_array(1, 1), q0=1.0, depth=2, law_name="curvature_map")),
    f"{LAB}.Predictor.covariances": Spec(dict(self=PREDICTOR, c0=0.5, q0=1.0, partner_q0=1.0,
                                              depth=2)),
    f"{LAB}.Predictor.activities": Spec(dict(self=PREDICTOR, q0=1.0, depth=2)),
    f"{LAB}.Predictor.overlaps": Spec(dict(self=PREDICTOR, c0=0.5, q0=1.0, depth=2)),
    f"{LAB}.Predictor.distances": Spec(dict(self=PREDICTOR, c0=0.5, q0=1.0, depth=2)),
    f"{LAB}.Predictor.at_variances": Spec(dict(self=PREDICTOR, law="chi0", q0=1.0, depth=2)),
    f"{LAB}.Predictor.at_covariances": Spec(dict(self=PREDICTOR, law="kernel", c0=0.5, q0=1.0,
                                                 partner_q0=1.0, depth=2)),
    f"{LAB}.Predictor.at_depths": Spec(dict(self=PREDICTOR, law="nngp", c0=0.5, q0=1.0,
                                            partner_q0=1.0, depth=2)),
    f"{LAB}.Predictor.radial_stretches": Spec(dict(self=PREDICTOR, q0=1.0, depth=2)),
    f"{LAB}.Predictor.correlation_stretches": Spec(dict(self=PREDICTOR, c0=0.5, q0=1.0,
                                                        depth=2)),
    f"{LAB}.Predictor.backward_order_parameters": Spec(dict(self=PREDICTOR, q0=1.0, depth=2)),
    f"{LAB}.Predictor.backward_pair_order_parameters": Spec(dict(self=PREDICTOR, c0=0.5, q0=1.0,
                                                                 partner_q0=1.0, depth=2)),
    f"{LAB}.Predictor.dominoes": Spec(dict(self=PREDICTOR, q0=1.0, depth=2)),
    f"{LAB}.Predictor.gradients": Spec(dict(self=PREDICTOR, q0=1.0, depth=2)),
    f"{LAB}.Predictor.stretches": Spec(dict(self=PREDICTOR, q0=1.0, depth=2)),
    f"{LAB}.Row.passed": Spec(dict(self=Make(lambda: importlib.import_module(LAB).Row(
        "q", 1, 1.0, 1.0, 0.1)), z=5.0)),
    f"{LAB}.SimulationTable.quantity": Spec(dict(self=TABLE, name="q")),
    f"{LAB}.SimulationTable.to_csv": Spec(dict(self=TABLE, path="table.csv"), sample=4),
    f"{LAB}.check_law": Spec(dict(law="length_map", width=8, depth=2, seed=0, replicas=4,
                                  **SMALL_NET), keywords={"q0": 1.0}),
    f"{LAB}.sampling_refusal": Spec(dict(law="derivative_kernel", activation="sign"),
                                    full=("law", "activation")),
    f"{LAB}.check_width_scaling": Spec(dict(widths=(8, 16), depth=2, seed=0, replicas=4,
                                            directions=2, **SMALL_NET)),
    f"{LAB}.simulate": Spec(dict(width=8, depth=2, replicas=4, directions=2, **SMALL_NET)),
    # symfield.plot (symfield.output.figures)
    "symfield.plot.check_figure_path": Spec(dict(path="f.png"), full=("path",)),
    "symfield.plot.cobweb": Spec(dict(activation="tanh", sigma_w=1.5, sigma_b=0.3, steps=2,
                                      points=5), sample=4),
    "symfield.plot.depth_scales": Spec(dict(activation="tanh", points=5), sample=4),
    "symfield.plot.phase_diagram": Spec(dict(activation="tanh", resolution=3), sample=4),
    "symfield.plot.save": Spec(dict(fig=Make(_figure), path="f.png", dpi=20), sample=4),
    # symfield.output.*
    "symfield.output.latex.SymfieldLatexPrinter": Spec(dict(settings=None)),
    "symfield.output.latex.law_lhs": Spec(dict(law=LAW)),
    "symfield.output.latex.derivation_body": Spec(dict(law=LAW)),
    "symfield.output.latex.tex": Spec(dict(expr=Q), full=("expr",)),
    "symfield.output.latex.tex_lines": Spec(dict(expr=Q)),
    "symfield.output.latex.escape_text": Spec(dict(text="t"), full=("text",)),
    "symfield.output.latex.law_equation": Spec(dict(law=LAW)),
    "symfield.output.latex.law_section": Spec(dict(law=LAW), full=("level",)),
    "symfield.output.latex.law_document": Spec(dict(law=LAW)),
    "symfield.output.latex.display": Spec(dict(lhs="x", rhs=Q, label=None), full=("lhs", "label")),
    "symfield.output.latex.DocumentState.note": Spec(dict(self=STATE, text="t"), full=("text",)),
    "symfield.output.breaking.formula_lines": Spec(dict(expr=Q)),
    "symfield.output.breaking.latex_width": Spec(dict(latex="x"), full=("latex",)),
    "symfield.output.prose.bibliography": Spec(dict(cited={"price1958"})),
    "symfield.output.prose.formula_latex": Spec(dict(formula="x^2"), full=("formula",)),
    "symfield.output.prose.note_latex": Spec(dict(text="t"), full=("text",)),
    "symfield.output.documents.activation_document": Spec(dict(act="linear"), sample=4),
    # a hostile text that is a valid directory name starts a real build (every law for 25
    # activations: minutes), which the walk would take for a hang; the CLI's
    # `derivations build --dir` walk checks the directory argument
    "symfield.output.documents.build": Spec(dict(directory="docs"), sample=3,
                                            fixed=("directory",),
                                            unchecked="derives every law (minutes)"),
    # one cheap activation: the valid call derives its laws in a second
    "symfield.output.documents.stale": Spec(dict(directory=".", only=["linear"]), sample=4),
    "symfield.output.documents.generated_documents": Spec(dict(workers=1, only=["linear"]),
                                                          sample=4),
    "symfield.output.documents.overview_document": Spec(dict(rows_by_activation=None), sample=4,
                                                        unchecked="derives every law"),
    "symfield.output.documents.activation_record": Spec(dict(act="linear"), sample=4),
    "symfield.output.documents.overview_rows_of": Spec(dict(text="x"), sample=4,
                                                       unchecked="needs an overview's text"),
    "symfield.output.site.build_site": Spec(dict(output="site", records="derivations",
                                                 only=["linear"], workers=1, katex=None,
                                                 plot_seconds=5.0), sample=4,
                                            unchecked="needs derivations/ and KaTeX"),
    "symfield.output.site.read_record": Spec(dict(directory="derivations", activation="relu"),
                                             unchecked="needs derivations/"),
    "symfield.output.site.check_record": Spec(dict(record={}, where="the record"),
                                              unchecked="a valid record is 100 kB of JSON"),
    "symfield.output.site.katex_directory": Spec(dict(path=None),
                                                 unchecked="needs Debian's libjs-katex"),
    "symfield.output.site.map_curves": Spec(dict(activation="relu"), sample=4),
    "symfield.output.site.phase_grid": Spec(dict(activation="relu"), sample=4),
    "symfield.output.pdf.compile_pdf": Spec(dict(
        source=r"\documentclass{article}\begin{document}x\end{document}", output="o.pdf"),
        sample=4),
}

#: Holes the walk found in files owned by other engineers, each a strict xfail (fixing the
#: hole makes the test fail until its line here is removed). Security: code ran, a file was
#: read, or the call hung. Clarity: the refusal was not a clear one-line error.
KNOWN_HOLES: dict[str, str] = {
}

KNOWN_UNCLEAR: dict[str, str] = {
}

#: Payloads that hang an entry point (key: the entry, or "*" for every entry), left out of the walk so that a known hang does not cost HANG_SECONDS per case (or
#: break the worker for the calls after it); each is reproduced once, in a fresh worker under
#: a CPU budget, by test_known_hangs_are_fixed (a strict xfail). Value: (representative
#: entry, parameter, reason).
KNOWN_HANGS: dict[tuple[str, str], tuple[str, str, str]] = {
}
#: Payloads that are valid input for a parameter, left out of its walk (key: parameter name).
NOT_HOSTILE: dict[tuple[str, str], str] = {
    ("scheduler", "url"): "a scheduler address is there to be connected to: a valid address "
                          "times out after 20 s (and Dask's failed connection can leave its "
                          "IO loop unusable for the calls after it in the same process)",
}
#: CPU seconds a known hang may burn in its reproduction (a normal call needs milliseconds).
HANG_CPU_SECONDS = 10


# ------------------------------------------------------------------------------------------
# The walk: public callables, their parameters, the cases
# ------------------------------------------------------------------------------------------
def _module(name: str) -> types.ModuleType:
    import symfield

    return symfield.plot if name == "symfield.plot" else importlib.import_module(name)


def _public_names(module: types.ModuleType, prefix: str) -> list[tuple[str, object]]:
    """``__all__``, or for a package without one its public submodules' names."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return [(f"{prefix}.{n}", getattr(module, n)) for n in names]
    out = []
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        if not info.name.startswith("_"):
            sub = importlib.import_module(f"{module.__name__}.{info.name}")
            out += _public_names(sub, f"{prefix}.{info.name}")
    for n in sorted(dir(module)):
        obj = getattr(module, n)
        if not n.startswith("_") and not isinstance(obj, types.ModuleType) \
                and getattr(obj, "__module__", None) == module.__name__:
            out.append((f"{prefix}.{n}", obj))
    return out


def _is_record(cls: type) -> bool:
    """A dataclass whose __init__ is the generated one and that checks nothing: it stores its
    fields and interprets none of them, so its constructor has nothing to walk."""
    init = getattr(cls, "__init__", None)
    code = getattr(init, "__code__", None)
    return dataclasses.is_dataclass(cls) and code is not None \
        and code.co_filename == "<string>" and not hasattr(cls, "__post_init__")


#: Qualified method name -> the class it is looked up on.
METHOD_OWNERS: dict[str, type] = {}


@lru_cache(maxsize=None)
def public_callables() -> dict[str, object]:
    """Qualified name -> callable, each object once, constructors of records and exceptions
    left out (records store, exceptions carry a message)."""
    found: dict[str, object] = {}
    seen: set[int] = set()
    for module_name in MODULES:
        for name, obj in _public_names(_module(module_name), module_name):
            if isinstance(obj, types.ModuleType) or not callable(obj) or id(obj) in seen:
                continue
            seen.add(id(obj))
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            is_own_class = inspect.isclass(obj) and (obj.__module__ or "").startswith("symfield")
            if not (is_own_class and _is_record(obj)):
                found[name] = obj
            if is_own_class:
                for attr, raw in vars(obj).items():
                    if attr.startswith("_") and attr != "__call__":
                        continue
                    fn = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
                    if inspect.isfunction(fn):
                        found[f"{name}.{attr}"] = fn
                        METHOD_OWNERS[f"{name}.{attr}"] = obj
    return found


def _signature(name: str, obj: object) -> inspect.Signature:
    spec = VALID.get(name)
    if spec is not None and spec.signature_of:
        module, _, attr = spec.signature_of.rpartition(".")
        obj = getattr(importlib.import_module(module), attr)
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):  # a SymPy function class: phi(*args)
        return inspect.Signature([inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL)])


def _walked_parameters(name: str, obj: object) -> list[tuple[str, bool]]:
    """(parameter, is text-like) for each injection point of one callable."""
    spec = VALID.get(name, Spec())
    out = []
    for p in _signature(name, obj).parameters.values():
        if p.name in ("self", "cls") or p.name in spec.fixed:
            continue
        if p.kind is p.VAR_KEYWORD:
            out += [(f"**{k}", True) for k in spec.keywords] + [("**<name>", True)]
        elif p.kind is p.VAR_POSITIONAL:
            if spec.star:
                out.append(("*args", True))
        else:
            note = str(p.annotation)
            textual = p.annotation is p.empty or any(
                t in note for t in ("str", "object", "Any", "Path"))
            out.append((p.name, textual))
    return out


def _required(name: str, obj: object) -> list[str]:
    """Parameters the valid-argument table must supply."""
    spec = VALID.get(name, Spec())
    need = [p.name for p in _signature(name, obj).parameters.values()
            if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            and p.name not in ("cls",)]
    return [n for n in need if n not in spec.args]


def _sample(name: str, param: str, size: int, everything: list) -> list:
    """A deterministic sample of the corpus, one payload per category first."""
    def rank(p):
        return hashlib.sha256(f"{name}|{param}|{p.name}".encode()).hexdigest()

    ordered = sorted(everything, key=rank)
    chosen = []
    for category in corpus.CATEGORIES:
        chosen += [p for p in ordered if p.category == category][:1]
    chosen += [p for p in ordered if p not in chosen]
    return chosen[:size]


def api_cases() -> list[dict]:
    everything = corpus.payloads("@MARKER@", "@SECRET@")
    cases = []
    for name, obj in public_callables().items():
        spec = VALID.get(name, Spec())
        for param, textual in _walked_parameters(name, obj):
            size = spec.sample if spec.sample is not None else (
                TEXT_SAMPLE if textual else TYPED_SAMPLE)
            chosen = everything if param in spec.full else _sample(name, param, size, everything)
            cases += [{"kind": "api", "entry": name, "param": param, "payload": p.name}
                      for p in chosen if not _left_out(name, param, p.name)]
    return cases


#: The verifier's text front doors: their parser is the verifier's own, so a hang of the
#: number parser (a KNOWN_HANGS entry "*") does not apply to them and they get every payload.
TEXT_FRONT_DOORS = {("symfield.verification.parse_claim", "text"),
                    ("symfield.verification.parse_expression", "text"),
                    ("symfield.verification.detect_syntax", "text"),
                    ("symfield.verify", "claim"), ("cli check", "claim")}


def valid_cases() -> list[dict]:
    """Each callable once with its valid arguments: they must work, or the walk would only
    ever reach the first invalid argument."""
    return [{"kind": "api", "entry": name, "param": VALID_CALL, "payload": VALID_CALL}
            for name, obj in public_callables().items()
            if name in VALID and VALID[name].unchecked is None]


#: The param and payload of a call with valid arguments only.
VALID_CALL = "<valid>"


def _left_out(entry: str, param: str, payload: str) -> bool:
    """A known hang (reproduced on its own), or valid input for this parameter."""
    if (entry, payload) in KNOWN_HANGS or (param.lstrip("-"), payload) in NOT_HOSTILE:
        return True
    return ("*", payload) in KNOWN_HANGS and (entry, param) not in TEXT_FRONT_DOORS


# ------------------------------------------------------------------------------------------
# The command line, from its argparse tree
# ------------------------------------------------------------------------------------------
#: Valid values of each subcommand's string arguments (positionals by dest, options by flag).
CLI_VALID: dict[str, dict[str, str]] = {
    "derive": {"law": "chi0", "activation_pos": "erf", "--at": "q=1"},
    "kernel": {"activation": "relu", "--inputs": "inputs.txt", "--depth": "1"},
    "check": {"claim": "q = q", "--points": "2"},
    "derivations": {"action": "check", "--dir": "docs"},
    "simulate": {"activation": "tanh", "--sigma-w": "1.5", "--sigma-b": "0.3", "--width": "8",
                 "--depth": "2", "--replicas": "4", "--directions": "2"},
    "fixed-point": {"activation": "erf", "--sigma-w": "1.5", "--sigma-b": "0.3", "--dps": "15"},
    "critical": {"activation": "erf", "--sigma-b": "0.3", "--dps": "15"},
    "sweep": {"activation": "erf", "--sigma-w": "1:2:2", "--sigma-b": "0.3:0.3:1",
              "--dps": "15", "--workers": "1", "--no-progress": ""},
    "plot phase": {"activation": "tanh", "--output": "p.png", "--resolution": "3",
                   "--workers": "1", "--no-progress": ""},
    "plot cobweb": {"activation": "tanh", "--output": "c.png", "--sigma-w": "1.5",
                    "--steps": "2"},
    "plot depth-scales": {"activation": "tanh", "--output": "d.png", "--points": "5"},
    "finite-width": {"activation": "relu", "--sigma-w": "1.5", "--sigma-b": "0.3", "--q0": "1",
                     "--depth": "2", "--width": "8", "--dps": "15"},
    "criticality": {"activation": "relu", "--dps": "15"},
    "jacobian": {"activation": "erf", "--sigma-w": "1.2", "--sigma-b": "0.1", "--depth": "3",
                 "--weights": "orthogonal", "--threshold": "2"},
    "field": {"activation": "erf", "--grid": "4", "--depth": "2", "--weights": "conv:3",
              "--bias": "shared", "--input": "random", "--channels": "2"},
    "recurrent": {"activation": "erf", "--sigma-w": "1.5", "--sigma-b": "0.1", "--n": "8",
                  "--steps": "2", "--trials": "2", "--weights": "fresh"},
    "export": {"law": "chi1", "activation": "erf", "--lang": "c", "--output": "chi1_erf.c"},
}
#: Arguments left out while another one is walked (mutually exclusive ones).
CLI_EXCLUSIVE = {("derive", "--activation"): ("activation_pos",),
                 ("check", "--file"): ("claim",),
                 ("fixed-point", "--sigma-w2"): ("--sigma-w",),
                 ("fixed-point", "--sigma-b2"): ("--sigma-b",),
                 ("critical", "--sigma-b2"): ("--sigma-b",),
                 ("sweep", "--axis"): ("--sigma-w",),
                 ("plot cobweb", "--sigma-w2"): ("--sigma-w",),
                 ("plot cobweb", "--sigma-b2"): ("--sigma-b",)}
#: The front doors of the command line: every payload goes through these.
CLI_FULL = {("check", "claim"), ("derive", "--at"), ("fixed-point", "--sigma-w")}
#: Arguments naming a file to write: a payload that is a valid file name may succeed.
CLI_OUTPUTS = {"--pdf", "--csv", "--plot", "--output", "--dir"}


def cli_arguments() -> dict[str, list[tuple[str, str | None]]]:
    """Subcommand -> [(key, flag)] for each argument parsed from text (no int/float type, not
    a flag); key is the dest for positionals, the long flag for options."""
    import argparse

    from symfield.cli.main import build_parser

    out: dict[str, list] = {}

    def walk(parser, prefix):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    walk(subparser, prefix + [sub])
            elif not isinstance(action, argparse._HelpAction) and action.nargs != 0 \
                    and action.type not in (int, float):
                flag = max(action.option_strings, key=len) if action.option_strings else None
                out.setdefault(" ".join(prefix), []).append((flag or action.dest, flag))

    walk(build_parser(), [])
    return out


def cli_argv(command: str, key: str, payload: str) -> list[str]:
    """argv for ``command`` with ``payload`` in argument ``key``, the rest valid."""
    valid = dict(CLI_VALID.get(command, {}))
    for dropped in CLI_EXCLUSIVE.get((command, key), ()):
        valid.pop(dropped, None)
    valid[key] = payload
    positionals = [v for k, v in valid.items() if not k.startswith("-")]
    options = []
    for k, v in valid.items():
        if k.startswith("-"):
            options += [k] if v == "" and k != key else [f"{k}={v}"]
    return command.split() + positionals + options


def cli_cases() -> list[dict]:
    everything = corpus.payloads("@MARKER@", "@SECRET@")
    cases = []
    for command, arguments in cli_arguments().items():
        for key, _flag in arguments:
            full = (command, key) in CLI_FULL
            size = 4 if key in CLI_OUTPUTS else TEXT_SAMPLE
            chosen = everything if full else _sample(f"cli {command}", key, size, everything)
            cases += [{"kind": "cli", "entry": f"cli {command}", "param": key,
                       "payload": p.name} for p in chosen
                      if not _left_out(f"cli {command}", key, p.name)]
    return cases


# ------------------------------------------------------------------------------------------
# Worker: runs cases, reports each on a pipe
# ------------------------------------------------------------------------------------------
def _materialise(value: object) -> object:
    return value.value() if isinstance(value, Make) else value


def _call_api(case: dict, payload: str) -> object:
    name, param = case["entry"], case["param"]
    obj = public_callables()[name]
    spec = VALID.get(name, Spec())
    args = {k: _materialise(v) for k, v in spec.args.items()}
    keywords = dict(spec.keywords)
    star: list = []
    if param == VALID_CALL:
        pass
    elif param.startswith("**"):
        key = param[2:]
        if key == "<name>":
            keywords[payload] = 1
        else:
            keywords[key] = payload
    elif param == "*args":
        star = [payload]
    else:
        args[param] = payload
    if name in METHOD_OWNERS:
        instance = args.pop("self", None)
        target = getattr(instance if instance is not None else METHOD_OWNERS[name],
                         name.rpartition(".")[2])
    else:
        target = obj
    positional = []
    for p in _signature(name, obj).parameters.values():
        if p.kind is p.POSITIONAL_ONLY and p.name in args:
            positional.append(args.pop(p.name))
    if star and "fn" in args:  # GaussianCalculus.attempt(fn, *args)
        positional = [args.pop("fn")]
    return target(*positional, *star, **args, **keywords)


def _call_cli(case: dict, payload: str) -> tuple[int, str, str]:
    from symfield.cli.main import main

    argv = cli_argv(case["entry"][4:], case["param"], payload)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def run_worker(cases_file: str, report_fd: int, marker: str, secret: str,
               cpu_seconds: int) -> None:
    """Run the cases in ``cases_file`` (JSON); one JSON line per event on ``report_fd``. A
    case that burns ``cpu_seconds`` of CPU kills the worker (SIGXCPU): reported as a hang."""
    import resource
    import warnings

    warnings.simplefilter("ignore")
    _die_with_parent()
    token = Path(secret).read_text().strip()
    texts = {p.name: p.text for p in corpus.payloads(marker, secret)}
    report = os.fdopen(report_fd, "w", buffering=1)
    Path("inputs.txt").write_text("1 0\n0 1\n")
    for case in json.loads(Path(cases_file).read_text()):
        report.write(json.dumps({"start": case["id"]}) + "\n")
        used = resource.getrusage(resource.RUSAGE_SELF)
        budget = int(used.ru_utime + used.ru_stime) + case.get("cpu", cpu_seconds)
        resource.setrlimit(resource.RLIMIT_CPU, (budget, resource.RLIM_INFINITY))
        text = texts.get(case["payload"], "")
        result: dict[str, Any] = {"id": case["id"]}
        started = time.perf_counter()
        try:
            if case["kind"] == "cli":
                code, out, err = _call_cli(case, text)
                result.update(outcome="exit", code=code, stderr=err[-4000:],
                              leak=token in out or token in err)
            else:
                value = _call_api(case, text)
                shown = _safe_repr(value)
                result.update(outcome="returned", leak=token in shown)
        except BaseException as e:  # noqa: BLE001 - every outcome is reported
            message = _safe_str(e)
            import traceback

            frames = traceback.extract_tb(e.__traceback__)[-3:]
            result["where"] = [f"{f.filename}:{f.lineno} {f.name}" for f in frames]
            result.update(outcome="raised", type=type(e).__name__,
                          module=type(e).__module__, message=message[:4000],
                          symfield=_is_symfield_error(e),
                          allowed=_is_allowed_error(e), leak=token in message)
        result["seconds"] = time.perf_counter() - started  # diagnostics only, never asserted
        result["marker"] = os.path.exists(marker)
        if result["marker"]:
            os.remove(marker)
        report.write(json.dumps(result) + "\n")
        if case.get("isolated"):  # it may leave the process broken: the runner starts anew
            report.close()
            os._exit(0)
    report.write(json.dumps({"done": True}) + "\n")


def _die_with_parent() -> None:
    """Kill this worker's process group (it and any pool it started) if the test run dies."""
    import threading

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()


def _safe_repr(value: object) -> str:
    try:
        return repr(value)[:200_000]
    except Exception:  # noqa: BLE001
        return ""


def _safe_str(e: BaseException) -> str:
    try:
        return str(e)
    except Exception:  # noqa: BLE001
        return f"<unprintable {type(e).__name__}>"


def _is_symfield_error(e: BaseException) -> bool:
    from symfield.errors import SymfieldError

    return isinstance(e, SymfieldError)


def _is_allowed_error(e: BaseException) -> bool:
    from sympy.core.sympify import SympifyError

    if _is_symfield_error(e):
        return True
    return isinstance(e, (ValueError, TypeError)) and not isinstance(
        e, (SympifyError, UnicodeError))


# ------------------------------------------------------------------------------------------
# Parent: runs the workers with a progress watchdog
# ------------------------------------------------------------------------------------------
def run_cases(cases: list[dict], workdir: Path,
              cpu_seconds: int = HANG_SECONDS) -> dict[int, dict]:
    """Run ``cases`` in WORKERS subprocesses; id -> result (hangs reported as such)."""
    for i, case in enumerate(cases):
        case["id"] = i
    secret = workdir / "secret.txt"
    secret.write_text(f"SYMFIELD-SECRET-{secrets.token_hex(8)}\n")
    shares = [cases[k::WORKERS] for k in range(WORKERS)]
    results: dict[int, dict] = {}
    runners = [_Runner(k, share, workdir, secret, cpu_seconds)
               for k, share in enumerate(shares) if share]
    while any(not r.finished for r in runners):
        for r in runners:
            r.poll(results)
    return results


class _Runner:
    """One worker subprocess working through a share of the cases; restarted after a hang."""

    def __init__(self, index: int, cases: list[dict], workdir: Path, secret: Path,
                 cpu_seconds: int) -> None:
        self.index, self.pending, self.secret = index, list(cases), secret
        self.cpu_seconds = cpu_seconds
        self.dir = workdir / f"worker{index}"
        self.dir.mkdir(exist_ok=True)
        self.marker = workdir / f"MARKER-{index}"
        self.process: subprocess.Popen | None = None
        self.finished = False
        self.current: int | None = None
        self.buffer = b""
        self.idle = 0.0
        self._start()

    def _start(self) -> None:
        if not self.pending:
            self.finished = True
            return
        cases_file = self.dir / "cases.json"
        cases_file.write_text(json.dumps(self.pending))
        read, write = os.pipe()
        env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]))
        env.pop("SYMFIELD_DEBUG", None)
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker", str(cases_file),
             str(write), str(self.marker), str(self.secret), str(self.cpu_seconds)],
            cwd=self.dir, env=env, pass_fds=(write,), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(write)
        self.read = read
        self.buffer, self.current, self.idle = b"", None, 0.0

    def poll(self, results: dict[int, dict]) -> None:
        if self.finished:
            return
        ready, _, _ = select.select([self.read], [], [], 1.0)
        if not ready:
            self.idle += 1.0
            if self.idle >= HANG_SECONDS:
                self._hang(results)
            return
        chunk = os.read(self.read, 1 << 16)
        if not chunk:  # the worker exited
            self._exited(results)
            return
        self.idle = 0.0
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            event = json.loads(line)
            if "start" in event:
                self.current = event["start"]
            elif "done" in event:
                self.finished = True
                self._close()
            else:
                results[event["id"]] = event
                self.pending = [c for c in self.pending if c["id"] != event["id"]]
                self.current = None

    def _hang(self, results: dict[int, dict]) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self._close()
        if self.current is not None:
            results[self.current] = {"id": self.current, "outcome": "hang",
                                     "marker": self.marker.exists()}
            self.pending = [c for c in self.pending if c["id"] != self.current]
        self._start()

    def _exited(self, results: dict[int, dict]) -> None:
        self._close()
        if self.current is not None:  # died inside a call: its CPU budget, or the kernel
            code = self.process.returncode if self.process is not None else None
            outcome = "hang" if code == -signal.SIGXCPU else "crash"
            results[self.current] = {"id": self.current, "outcome": outcome,
                                     "marker": self.marker.exists()}
            self.pending = [c for c in self.pending if c["id"] != self.current]
        self._start()

    def _close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.read)
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def security_problems(case: dict, result: dict | None) -> list[str]:
    """Code ran, a secret leaked, or the call hung or crashed (empty: none)."""
    where = f"{case['param']} <- {case['payload']}"
    if result is None:
        return [f"{where}: no result"]
    found = []
    if result.get("marker"):
        found.append(f"{where}: EXECUTED (the marker file was created)")
    if result.get("leak"):
        found.append(f"{where}: LEAKED the secret file's content")
    if result["outcome"] == "hang":
        found.append(f"{where}: hang (no progress for {HANG_SECONDS} s)")
    elif result["outcome"] == "crash":
        found.append(f"{where}: the worker died")
    return found


def clarity_problems(case: dict, result: dict | None) -> list[str]:
    """The refusal is not a clear one-line error (or the CLI's exit code is wrong)."""
    where = f"{case['param']} <- {case['payload']}"
    if result is None:
        return []
    found = []
    if result["outcome"] == "raised":
        message = result["message"]
        if not result["allowed"]:
            inside = (result.get("where") or ["?"])[-1]
            found.append(f"{where}: {result['module']}.{result['type']}: {message[:200]!r} "
                         f"(raised at {inside})")
        elif "\n" in message.strip() or len(message) > MESSAGE_CHARS or not message.strip():
            found.append(f"{where}: {result['type']} message is not one short line: "
                         f"{message[:200]!r}")
    elif result["outcome"] == "exit":
        command = case["entry"][4:]
        allowed = {1, 2, 3} if command == "check" else {2}
        if case["param"] in CLI_OUTPUTS:
            allowed = allowed | {0}
        err = result["stderr"].strip()
        if result["code"] not in allowed:
            found.append(f"{where}: exit code {result['code']}: {err[:200]!r}")
        if result["code"] != 0 and ("\n" in err or not err or "Traceback" in err
                                    or len(err) > MESSAGE_CHARS):
            found.append(f"{where}: stderr is not one short line: {err[:200]!r}")
    return found


# ------------------------------------------------------------------------------------------
# Tests
# ------------------------------------------------------------------------------------------
ALL_CASES = api_cases() + cli_cases()
ENTRIES = sorted({c["entry"] for c in ALL_CASES})


class Outcomes:
    """Results of the walk by entry, and of the known hangs' reproductions by reason."""

    def __init__(self, by_entry: dict[str, list], hangs: dict[str, dict | None],
                 valid: dict[str, dict | None]) -> None:
        self.by_entry, self.hangs, self.valid = by_entry, hangs, valid

    def __repr__(self) -> str:  # pytest prints fixtures on failure: keep it short
        return f"<Outcomes of {sum(map(len, self.by_entry.values()))} calls>"


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> Outcomes:
    """Run the walk and, side by side, one reproduction of each known hang (under a CPU
    budget of HANG_CPU_SECONDS instead of HANG_SECONDS)."""
    cases = [dict(c) for c in ALL_CASES]
    valid = [dict(c) for c in valid_cases()]
    reproductions = {reason: dict(case, cpu=HANG_CPU_SECONDS, isolated=True)
                     for reason, case in _hang_reproductions().items()}
    # the reproductions first, so they overlap the walk instead of following it
    results = run_cases([*reproductions.values(), *valid, *cases],
                        tmp_path_factory.mktemp("security-walk"))
    by_entry: dict[str, list] = defaultdict(list)
    for case in cases:
        by_entry[case["entry"]].append((case, results.get(case["id"])))
    hangs = {reason: results.get(case["id"]) for reason, case in reproductions.items()}
    return Outcomes(by_entry, hangs, {c["entry"]: results.get(c["id"]) for c in valid})


def _hang_reproductions() -> dict[str, dict]:
    """One case per known hang (its reason), with the first payload that shows it."""
    cases: dict[str, dict] = {}
    for (_entry, payload), (entry, param, reason) in KNOWN_HANGS.items():
        cases.setdefault(reason, {"kind": "cli" if entry.startswith("cli ") else "api",
                                  "entry": entry, "param": param, "payload": payload})
    return cases


def _entries(known: dict[str, str]) -> list:
    return [pytest.param(e, id=e, marks=[pytest.mark.xfail(strict=True, reason=known[e])]
                         if e in known else []) for e in ENTRIES]


@pytest.mark.parametrize("entry", _entries(KNOWN_HOLES))
def test_hostile_text_never_runs_reads_files_or_hangs(entry, outcomes):
    found = [p for case, result in outcomes.by_entry[entry]
             for p in security_problems(case, result)]
    assert not found, f"{len(found)} problem(s):\n" + "\n".join(found[:25])


@pytest.mark.parametrize("entry", _entries(KNOWN_UNCLEAR))
def test_hostile_text_is_refused_in_one_clear_line(entry, outcomes):
    found = [p for case, result in outcomes.by_entry[entry]
             for p in clarity_problems(case, result)]
    assert not found, f"{len(found)} problem(s):\n" + "\n".join(found[:25])


@pytest.mark.parametrize("reason", [pytest.param(r, id=f"{c['entry']}<-{c['payload']}",
                                                 marks=pytest.mark.xfail(strict=True, reason=r))
                                    for r, c in _hang_reproductions().items()])
def test_known_hangs_are_fixed(reason, outcomes):
    """Each known hang, reproduced once under a CPU budget of HANG_CPU_SECONDS."""
    case, result = _hang_reproductions()[reason], outcomes.hangs[reason]
    assert not security_problems(case, result) + clarity_problems(case, result)


@pytest.mark.parametrize("entry", [c["entry"] for c in valid_cases()])
def test_valid_arguments_are_accepted(entry, outcomes):
    """Power check of the walk: with its valid arguments every callable works, so each
    payload is the only thing wrong with its call."""
    result = outcomes.valid[entry]
    assert result is not None and result["outcome"] == "returned", (
        result and f"{result.get('type')}: {result.get('message', '')[:300]} "
                   f"(at {(result.get('where') or ['?'])[-1]})")


def test_the_cli_arguments_are_valid(tmp_path, capsys, monkeypatch):
    """Power check of the CLI walk: each subcommand works with CLI_VALID's arguments."""
    from support.cli_runner import run

    monkeypatch.chdir(tmp_path)
    (tmp_path / "inputs.txt").write_text("1 0\n0 1\n")
    for command in CLI_VALID:
        if command == "derivations":  # derives every law; its --dir is checked up front
            continue
        argv = cli_argv(command, next(iter(CLI_VALID[command])),
                        next(iter(CLI_VALID[command].values())))
        code, _out, err = run(capsys, *argv)
        assert code == 0, (argv, err)


def test_every_public_callable_is_covered():
    """A public callable with parameters needs valid arguments in VALID (and an instance for
    a method): otherwise the walk could not call it, and a new entry point would go untested."""
    missing = []
    for name, obj in public_callables().items():
        params = _walked_parameters(name, obj)
        if not params:
            continue
        if name not in VALID:
            missing.append(f"{name}: no entry in VALID")
            continue
        spec = VALID[name]
        if name in METHOD_OWNERS and "self" in _signature(name, obj).parameters \
                and "self" not in spec.args:
            missing.append(f"{name}: no instance ('self') in VALID")
        lacking = [n for n in _required(name, obj) if n not in ("self",)]
        if lacking:
            missing.append(f"{name}: no valid value for {', '.join(lacking)}")
    stale = sorted(set(VALID) - set(public_callables()))
    assert not missing, "\n".join(missing)
    assert not stale, f"VALID names callables that are not public (any more): {stale}"


def test_every_cli_argument_is_walked():
    commands = cli_arguments()
    assert {"derive", "kernel", "check", "simulate", "fixed-point", "critical", "sweep",
            "plot phase", "plot cobweb", "plot depth-scales", "derivations"} <= set(commands)
    walked = {(c["entry"][4:], c["param"]) for c in ALL_CASES if c["kind"] == "cli"}
    assert walked == {(cmd, key) for cmd, args in commands.items() for key, _ in args}


def test_every_payload_reaches_the_front_doors():
    """The text front doors get the whole corpus; the number front doors all of it but the
    known hangs of the number parser (reproduced by test_known_hangs_are_fixed)."""
    names = {p.name for p in corpus.payloads("m", "s")}
    hanging = {payload for entry, payload in KNOWN_HANGS if entry == "*"}
    numbers = [("symfield.Law.evaluate", "**q"), ("symfield.Activation.with_parameters", "**alpha"),
               ("symfield.NetworkSpec.make", "sigma_w_value"), ("cli derive", "--at"),
               ("symfield.Expectation", "integrand")]
    for (entry, param), expected in [*[(door, names) for door in TEXT_FRONT_DOORS],
                                     *[(door, names - hanging) for door in numbers]]:
        got = {c["payload"] for c in ALL_CASES if c["entry"] == entry and c["param"] == param}
        assert got == expected, (entry, param, sorted(expected - got)[:5])


def test_the_corpus_is_large_and_its_code_payloads_are_live(tmp_path):
    """At least 60 payloads; and the code payloads really act when Python evaluates them (in
    a subprocess), so a marker that never appears in the walk means something."""
    everything = corpus.payloads(str(tmp_path / "MARKER"), str(tmp_path / "secret"))
    assert len(everything) >= 60
    marker = tmp_path / "MARKER"
    script = (
        "import json, os, sys\nfrom sympy import *\nfrom sympy.parsing.sympy_parser import "
        "parse_expr\nx, q, c = symbols('x q c')\nmarker, texts = json.load(sys.stdin)\n"
        "live = 0\nfor text in texts:\n    try:\n        eval(text)\n"
        "    except SyntaxError:\n        try:\n            exec(text)\n"
        "        except BaseException:\n            pass\n    except BaseException:\n"
        "        pass\n    if os.path.exists(marker):\n        live += 1\n"
        "        os.remove(marker)\nprint(live)\n")
    code = [p.text for p in everything if p.category == "code" and str(marker) in p.text]
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps([str(marker), code]),
                          text=True, capture_output=True, timeout=HANG_SECONDS, cwd=tmp_path)
    live = int(done.stdout.strip().splitlines()[-1])
    assert live >= 40


def test_the_reported_reproductions_are_refused(tmp_path):
    """Issue 18's reproductions (each created the marker file), in-process."""
    import sympy as sp

    import symfield
    from symfield.activations.piecewise_linear import piecewise_linear
    from symfield.errors import InvalidValueError

    marker = tmp_path / "MARKER"
    payload = f"__import__('os').system('touch {marker}')"
    u = sp.Symbol("u")
    calls = [lambda: symfield.NetworkSpec.make("relu", payload),
             lambda: symfield.Expectation(payload, (u,), (1,)),
             lambda: symfield.Expectation(u, (u,), (payload,)),
             lambda: symfield.registered_activations()["leaky_relu"].with_parameters(alpha=payload),
             lambda: piecewise_linear("p", payload, 1, "d"),
             lambda: symfield.Activation("p", payload, "d"),
             lambda: symfield.registered_activations()["erf"](payload)]
    for call in calls:
        with pytest.raises(InvalidValueError):
            call()
    assert not marker.exists()
    # and SymPy objects still work as before
    assert symfield.NetworkSpec.make("relu", sp.sqrt(2), "1/10").sigma_b == sp.Rational(1, 10)
    assert symfield.registered_activations()["leaky_relu"].with_parameters(alpha="0.2").phi == \
        sp.Max(0, symfield.activations.x) + sp.Min(0, symfield.activations.x) / 5


def _wrong_arguments() -> list:
    """(argument named in the message, call) for wrong arguments that are not text, which
    the walk above never sends: each once made an AttributeError or a numpy error deep
    inside, or was silently accepted."""
    import numpy as np
    import sympy as sp

    import symfield
    from symfield import dynamics, laws
    from symfield.laboratory import networks

    u = sp.Symbol("u", real=True)
    net = dict(sigma_w=1.5, sigma_b=0.3, widths=(4, 8), lazy=False)
    return [
        ("e", lambda: symfield.GaussianCalculus().expect(3)),
        ("register", lambda: laws.register({"name": "chi1"})),
        ("tasks", lambda: dynamics.Executor().map(len, "ab")),
        ("tasks[0]", lambda: next(dynamics.LocalExecutor(1).map(len, [[1]]))),
        ("progress", lambda: next(dynamics.LocalExecutor(1).map(len, [()], {"n": 1}))),
        ("grid", lambda: dynamics.sweep("erf", ["q_star"], grid=[1.5, 2.0])),
        ("executor", lambda: dynamics.sweep("erf", ["q_star"], sigma_w=[1.5], executor=2)),
        ("resume", lambda: dynamics.sweep("erf", ["q_star"], sigma_w=[1.5], resume=None)),
        ("quantities", lambda: dynamics.sweep("erf", [1], sigma_w=[1.5])),
        ("c0", lambda: dynamics.iterate_correlation_map("erf", 1.5, 0.3, c0=2)),
        ("q", lambda: dynamics.iterate_correlation_map("erf", 1.5, 0.3, q=-1.0)),
        ("depth", lambda: dynamics.iterate_correlation_map("erf", 1.5, 0.3, depth=10**9)),
        ("fig", lambda: symfield.plot.save(None, "f.png")),
        ("dpi", lambda: symfield.plot.save(_figure(), "f.png", dpi=10**6)),
        ("figure", lambda: symfield.plot.check_figure_path(3)),
        ("result", lambda: symfield.plot.phase_diagram("tanh", result=object())),
        ("colour", lambda: symfield.plot.phase_diagram("tanh", colour=["xi_c"])),
        ("activation", lambda: networks.RandomNetwork(
            "tanh", stream=np.random.SeedSequence(0), **net)),
        ("stream", lambda: networks.RandomNetwork(
            symfield.registered_activations()["tanh"], stream=0, **net)),
        ("values", lambda: networks.mean_square(["1", "2"])),
        ("velocity and acceleration", lambda: networks.curve_curvature_squared([1.0, 0, 0],
                                                                             [0, 1.0])),
        ("angle", lambda: networks.great_circle(None, np.ones(2), np.eye(2)[1], 1.0)),
        ("statistic", lambda: networks.replicate(None, 4, 0)),
        ("reference", lambda: networks.replicate(lambda rng: 0.0, 4, 0).z_score([["x"]])),
        ("xi_max", lambda: symfield.plot.depth_scales("tanh", points=5, xi_max=[1, 2])),
        ("order", lambda: dynamics.edge_power_law("relu", order=None)),
        ("depth", lambda: dynamics.EdgePowerLaw("relu", *[sp.Integer(1)] * 6).asymptote(-1)),
        ("the integrand", lambda: symfield.GaussianCalculus().integrate(sp.nan, u, 0, 1)),
    ]


def test_wrong_arguments_are_refused_in_one_clear_line(tmp_path, monkeypatch):
    """Wrong types and out-of-range values get the project's error, one short line that names
    the argument; nothing is written and the law registry is unchanged."""
    import symfield
    from symfield.errors import InvalidValueError

    monkeypatch.chdir(tmp_path)
    before = dict(symfield.registered_laws())
    for argument, call in _wrong_arguments():
        with pytest.raises(InvalidValueError) as refused:
            call()
        message = str(refused.value)
        assert argument in message and "\n" not in message and len(message) < 300, message
    assert symfield.registered_laws() == before
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------
# LaTeX: names reach documents as text, and pdflatex is confined
# ------------------------------------------------------------------------------------------
needs_pdflatex = pytest.mark.skipif(
    shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
    reason="pdflatex and pdftotext (texlive-latex-base, poppler-utils) are not installed")


def _secret(directory: Path, name: str = "secret.tex") -> tuple[Path, str]:
    token = f"SYMFIELDSECRET{secrets.token_hex(6)}"
    path = directory / name
    path.write_text(token + "\n")
    return path, token


def _macros(document: str) -> set[str]:
    return set(re.findall(r"\\([A-Za-z]+)", document))


def _pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          timeout=HANG_SECONDS).stdout


def _hostile_documents(name: str) -> dict[str, str]:
    """LaTeX documents of chi0 with ``name`` as a parameter symbol, a function, an activation
    name and description, and a law's LaTeX name."""
    import sympy as sp

    import symfield
    from symfield.activations import x

    symbol = sp.Symbol(name, positive=True)
    leaky = symfield.registered_activations()["leaky_relu"].with_parameters(alpha=symbol)
    function = symfield.Activation("f", sp.Function(name)(x), "hostile function name")
    named = symfield.Activation(name, sp.erf(x), name)
    renamed = dataclasses.replace(symfield.derive("chi0", "erf"), latex_name=name)
    return {"parameter": symfield.derive("chi0", leaky).latex(document=True),
            "function": symfield.derive("chi0", function).latex(document=True),
            "activation name": symfield.derive("chi0", named).latex(document=True),
            "law name": renamed.latex(document=True)}


def test_hostile_names_reach_documents_as_text_only(tmp_path):
    """A name like \\input{/etc/hostname} used to land verbatim in the document (and its file
    in the PDF). Now the documents use no macro a benign document does not use."""
    import symfield
    from symfield.output.latex import LAW_NAME_MACROS, LAYOUT_MACROS

    path, _token = _secret(tmp_path)
    benign = LAW_NAME_MACROS | LAYOUT_MACROS | _macros(symfield.derive("chi0", "leaky_relu").latex(document=True)) | _macros(
        symfield.derive("chi0", "erf").latex(document=True))
    for payload in corpus.LATEX_FILE_ACCESS.values():
        name = payload.replace(corpus.SECRET, str(path)).replace(corpus.MARKER, str(tmp_path / "M"))
        for where, document in _hostile_documents(name).items():
            extra = _macros(document) - benign - {"text", "textbackslash", "quad"}
            assert not extra, (where, name, extra)


def test_law_names_and_symbol_names_are_whitelisted():
    import sympy as sp

    import symfield
    from symfield.output.latex import safe_law_latex, tex

    for spec in symfield.registered_laws().values():  # every registered law keeps its LaTeX name
        assert safe_law_latex(spec.latex_name) == spec.latex_name
    for name in (r"\input{x}", r"}\def\x{1}{", r"\chi_1\write18{x}", "a%b", "{", r"\catcode"):
        assert safe_law_latex(name).startswith(r"\text{"), name
    assert tex(sp.Symbol("sigma_w1")) == r"\sigma_{w1}"
    assert tex(sp.Symbol(r"\input{x}")) == r"\text{\textbackslash{}input\{x\}}"
    assert tex(sp.Symbol("a\x00b")) == r"\text{a[U+0000]b}"


@needs_pdflatex
def test_a_hostile_parameter_name_does_not_put_a_file_in_the_pdf(tmp_path):
    """The reported attack, end to end: compile_pdf(law.latex(document=True)) with a
    parameter named \\input{<file>}. The file's token must not be in the PDF; the name is."""
    from symfield.output.pdf import compile_pdf

    path, token = _secret(tmp_path)
    document = _hostile_documents(rf"\input{{{path}}}")["parameter"]
    text = _pdf_text(compile_pdf(document, tmp_path / "law.pdf"))
    assert "chi" in text and r"\input{" in text  # the document, with the name as text
    assert token not in text


@needs_pdflatex
def test_an_unconfined_pdflatex_would_leak_the_file(tmp_path):
    """Power check for the test above: plain pdflatex (TeX Live's default openin_any=a) puts
    the file in the PDF, so a missing token means the confinement worked."""
    path, token = _secret(tmp_path)
    (tmp_path / "doc.tex").write_text(
        rf"\documentclass{{article}}\begin{{document}}\input{{{path}}}\end{{document}}")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "doc.tex"], cwd=tmp_path,
                   env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")},
                   capture_output=True, timeout=HANG_SECONDS)
    assert token in _pdf_text(tmp_path / "doc.pdf")


@needs_pdflatex
@pytest.mark.parametrize("name", sorted(corpus.LATEX_FILE_ACCESS))
def test_compile_pdf_confines_pdflatex(name, tmp_path, monkeypatch):
    """Any source given to compile_pdf: no shell escape, no reads or writes outside its own
    fresh directory (not the caller's directory, not TEXINPUTS, no absolute paths)."""
    from symfield.errors import SymfieldError
    from symfield.output.pdf import compile_pdf

    caller = tmp_path / "caller"
    caller.mkdir()
    absolute, token = _secret(tmp_path)
    _secret(caller, "secret.tex")  # a relative \input{secret} must not find the caller's file
    monkeypatch.chdir(caller)
    monkeypatch.setenv("TEXINPUTS", f"{caller}//:")
    marker = tmp_path / "MARKER"
    for target in (str(absolute), "secret") if name == "input-secret" else (str(absolute),):
        body = corpus.LATEX_FILE_ACCESS[name].replace(corpus.SECRET, target).replace(
            corpus.MARKER, str(marker))
        source = (r"\documentclass{article}\usepackage{amsmath}\begin{document}"
                  f"{body}\n\\end{{document}}\n")
        try:
            text = _pdf_text(compile_pdf(source, tmp_path / "out.pdf", timeout=10))
        except SymfieldError as e:
            text = str(e)
            assert "\n" not in text
        assert token not in text and "SYMFIELDSECRET" not in text, (name, target)
        assert not marker.exists(), name
        assert sorted(p.name for p in caller.iterdir()) == ["secret.tex"]


def test_pdflatex_runs_with_the_locked_down_command_line_and_environment(monkeypatch):
    from symfield.output.pdf import PDFLATEX_FLAGS, pdflatex_environment

    monkeypatch.setenv("TEXINPUTS", "/somewhere//:")
    monkeypatch.setenv("TEXMFCNF", "/somewhere")
    monkeypatch.setenv("openin_any", "a")
    assert {"-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error"} <= set(PDFLATEX_FLAGS)
    env = pdflatex_environment("/tmp/work")
    assert (env["openin_any"], env["openout_any"], env["shell_escape"]) == ("p", "p", "f")
    assert "TEXINPUTS" not in env and "TEXMFCNF" not in env


if __name__ == "__main__" and len(sys.argv) == 7 and sys.argv[1] == "--worker":
    run_worker(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6]))
