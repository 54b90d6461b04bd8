"""``symfield fixed-point``, ``critical`` and ``sweep``, and bad input with clear messages."""
from __future__ import annotations

import json

import mpmath as mp
import pytest

from symfield.dynamics import fixed_point
from symfield.numbers import MAX_DPS
from symfield.errors import InvalidValueError, SymfieldError, UnknownNameError

from support.cli_runner import run


def test_fixed_point_text_and_json(capsys):
    code, out, _ = run(capsys, "fixed-point", "erf", "--sigma-w2", "3", "--sigma-b2", "1/4",
                       "--dps", "25")
    assert code == 0
    for name in ("q_star", "A_star", "chi1", "chi2", "c_star", "chi_c", "xi_q", "xi_c",
                 "D_star", "kappa2_star", "phase"):
        assert name in out
    code, out, _ = run(capsys, "fixed-point", "erf", "--sigma-w2", "3", "--sigma-b2", "1/4",
                       "--dps", "25", "--json")
    data = json.loads(out)
    r = fixed_point("erf", sigma_w2=3, sigma_b2="1/4", dps=25)
    assert data["values"]["c_star"] == r.as_dict()["values"]["c_star"]
    assert data["phase"] == "chaotic" and data["digits"]["q_star"] >= 24


def test_fixed_point_proven_from_the_command_line(capsys):
    """--proven: q* and chi1 as proven balls; the ball of q* holds the certified q*."""
    code, out, _ = run(capsys, "fixed-point", "erf", "--sigma-w2", "3", "--sigma-b2", "1/4",
                       "--dps", "20", "--proven", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data["enclosures"]) == {"q_star", "chi1", "c_star"}
    q_ball = data["enclosures"]["q_star"]
    assert q_ball["digits"] >= 20
    assert abs(mp.mpf(q_ball["mid"]) - mp.mpf(data["values"]["q_star"])) \
        <= mp.mpf(10) ** -18 * mp.mpf(q_ball["mid"])


def test_fixed_point_published_tanh_from_the_command_line(capsys):
    code, out, _ = run(capsys, "fixed-point", "tanh", "--sigma-w", "2.5", "--sigma-b", "0.3",
                       "--dps", "30", "--json")
    assert code == 0
    data = json.loads(out)
    with mp.workdps(40):
        assert abs(mp.mpf(data["values"]["q_star"]) - mp.mpf("4.0791238752822459920247867277"))\
            < 1e-27


def test_critical(capsys):
    code, out, _ = run(capsys, "critical", "tanh", "--sigma-b", "0")
    assert code == 0 and "critical sigma_w = 1.0" in out
    code, out, _ = run(capsys, "critical", "erf", "--json")
    data = json.loads(out)
    assert data["edge_of_chaos"]["limit_q0"] == ["pi/4", "0"]
    code, _, err = run(capsys, "critical", "relu", "--sigma-b", "0.3")
    assert code == 2 and "single point" in err and err.count("\n") == 1


def test_critical_proven_from_the_command_line(capsys):
    """--proven: q*, sigma_w^2 and sigma_w as proven balls holding the verified values."""
    code, out, _ = run(capsys, "critical", "erf", "--sigma-b", "0.3", "--dps", "20",
                       "--proven", "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data["enclosures"]) == {"q_star", "sigma_w2", "sigma_w"}
    ball = data["enclosures"]["sigma_w"]
    assert ball["digits"] >= 20
    assert abs(mp.mpf(ball["mid"]) - mp.mpf(data["sigma_w"])) <= mp.mpf(10) ** -19
    code, out, _ = run(capsys, "critical", "erf", "--sigma-b", "0.3", "--proven")
    assert code == 0 and "proven sigma_w" in out


def test_sweep_command(capsys, tmp_path):
    out_file = tmp_path / "s.csv"
    code, out, _ = run(capsys, "sweep", "erf", "--sigma-w", "1:2:3", "--sigma-b", "0,0.5",
                       "--quantities", "q_star,phase", "-o", str(out_file), "--workers", "1",
                       "--no-progress")
    assert code == 0 and out_file.exists() and out_file.with_suffix(".json").exists()
    assert len(out_file.read_text().splitlines()) == 1 + 6
    code, out, _ = run(capsys, "sweep", "erf", "--axis", "q=0.5,1", "--sigma-w", "1.5",
                       "--sigma-b", "0.1", "--quantities", "length_map", "--workers", "1",
                       "--no-progress")
    assert code == 0 and "length_map" in out


@pytest.mark.parametrize("argv, phrase", [
    (["fixed-point", "relu", "--sigma-w2", "2.25", "--sigma-b", "0.3"], "grows without bound"),
    (["fixed-point", "relu", "--sigma-w2", "2", "--sigma-b", "0.1"], "grows without bound"),
    (["fixed-point", "linear", "--sigma-w", "1.5"], "grows without bound"),
    (["fixed-point", "tanh", "--sigma-w", "nan"], "finite"),
    (["fixed-point", "tanh", "--sigma-w", "inf"], "finite"),
    (["fixed-point", "tanh", "--sigma-w", "1", "--sigma-b", "inf"], "finite"),
    (["fixed-point", "tanh", "--sigma-w", "0"], "sigma_w must be > 0"),
    (["fixed-point", "tanh", "--sigma-w", "1", "--sigma-b", "-0.1"], "sigma_b must be >= 0"),
    (["fixed-point", "tanh", "--sigma-w", "1", "--dps", "5"], "dps"),
    (["fixed-point", "softsign", "--sigma-w", "1"], "unknown activation"),
    (["fixed-point", "tanh", "--sigma-w", "one"], "finite real number"),
    (["sweep", "tanh", "--sigma-w", "1:2", "--no-progress"], "START:STOP:NUM"),
    (["sweep", "tanh", "--sigma-w", "1:2:3", "--quantities", "bogus", "--no-progress"],
     "unknown sweep quantity"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv, phrase):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert phrase in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_input_from_python():
    with pytest.raises(InvalidValueError, match="grows without bound"):
        fixed_point("relu", sigma_w2="2.25", sigma_b="0.3")
    with pytest.raises(InvalidValueError, match="exactly one"):
        fixed_point("tanh", sigma_w=1, sigma_w2=1)
    with pytest.raises(InvalidValueError, match="exactly one"):
        fixed_point("tanh")
    with pytest.raises(InvalidValueError):
        fixed_point("tanh", sigma_w=float("nan"))
    with pytest.raises(InvalidValueError):
        fixed_point("tanh", sigma_w=mp.inf)
    with pytest.raises(UnknownNameError):
        fixed_point("nope", sigma_w=1)
    with pytest.raises(InvalidValueError):
        fixed_point("tanh", sigma_w=1, workers=0)
    with pytest.raises(SymfieldError):
        fixed_point("tanh", sigma_w=1, dps=MAX_DPS + 1)


def test_fixed_point_proven_sign_with_bias_from_the_command_line(capsys):
    """sign with a bias: chi1 = +inf (an exact ball, "exact" digits in the JSON, which once
    ended in an internal error on int(inf)); q* = sigma_w^2 + sigma_b^2 = 117/50 proven; the
    correlation fixed point c* < 1 is reported (it was refused as "left [-1, 1]")."""
    code, out, _ = run(capsys, "fixed-point", "sign", "--sigma-w", "1.5", "--sigma-b", "0.3",
                       "--dps", "20", "--proven", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["enclosures"]["chi1"] == {"mid": "inf", "rad": "0.0", "digits": "exact"}
    q_ball = data["enclosures"]["q_star"]
    assert q_ball["digits"] >= 20
    assert abs(mp.mpf(q_ball["mid"]) - mp.mpf(117) / 50) <= mp.mpf(10) ** -20
    assert data["phase"] == "chaotic" and 0 < float(data["values"]["c_star"]) < 1


def test_fixed_point_proven_exact_zero_in_json(capsys):
    code, out, _ = run(capsys, "fixed-point", "tanh", "--sigma-w", "0.8", "--dps", "20",
                       "--proven", "--json")
    assert code == 0
    assert json.loads(out)["enclosures"]["q_star"] == {"mid": "0.0", "rad": "0.0",
                                                       "digits": "exact"}
