"""The command line tried as a careless or hostile user would (issue 18 item 2, issue 19 items
5-7 and 8b): every mistake is a one-line error with exit status 2, found *before* the work
starts, and no process outlives the command.

* worker counts are bounded by the CPUs available, and workers die with their parent, even
  when it is killed with SIGKILL (checked for real on subprocesses);
* sizes (widths, depths, replicas, grid points) are checked against the memory and the work
  they need before anything is allocated;
* output files are checked before the computation (a patched computation that fails the
  test if it is reached proves the order);
* input files must be regular files (a FIFO or /dev/zero would block or never end), and no
  error message quotes more than a line;
* `derive` of every law reports a law outside its domain on its own line and prints the rest.

No test asserts a time: the subprocess tests poll a bounded number of times.
"""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import symfield
from symfield import processes
from symfield.dynamics import executors

from support.cli_runner import run

#: CPUs as the tests see them: patched, so that the bounds do not depend on the machine.
CPUS = 2
#: Longest error line any test accepts (a message quoting user input must stay short).
MAX_ERROR_CHARS = 1000  # as the security walk: room for the list of valid names


@pytest.fixture(autouse=True)
def two_cpus(monkeypatch):
    monkeypatch.setattr(processes, "available_cpus", lambda: CPUS)


def one_line_error(code: int, out: str, err: str, *phrases: str) -> str:
    """Exit 2, one short line on stderr containing every phrase, no traceback."""
    assert code == 2, (code, out, err)
    assert err.count("\n") == 1 and err.startswith("symfield"), err
    assert len(err) <= MAX_ERROR_CHARS, len(err)
    assert "Traceback" not in err and "internal error" not in err, err
    for phrase in phrases:
        assert phrase in err, (phrase, err)
    return err


def never_called(*_args, **_kwargs):
    raise AssertionError("the computation started although the input was invalid")


# ------------------------------------------------------------------------------------------
# worker counts (issue 18 item 2; issue 19 item 8b: --workers 0 / -1)
# ------------------------------------------------------------------------------------------
WORKER_COMMANDS = [
    ["fixed-point", "tanh", "--sigma-w", "1.5"],
    ["sweep", "tanh", "--sigma-w", "1:2:3", "--no-progress"],
    ["plot", "phase", "tanh", "-o", "{tmp}/phase.png", "--resolution", "4", "--no-progress"],
]


@pytest.mark.parametrize("workers", ["0", "-1", str(CPUS + 1), "1000000"])
@pytest.mark.parametrize("argv", WORKER_COMMANDS, ids=lambda a: a[0] + "-" + a[1])
def test_worker_count_outside_one_to_cpus_is_refused(capsys, monkeypatch, tmp_path, argv,
                                                     workers):
    monkeypatch.setattr(executors.ProcessPoolExecutor, "__init__", never_called)
    monkeypatch.setattr(symfield.dynamics, "sweep", never_called)
    monkeypatch.setattr(symfield.dynamics, "fixed_point", never_called)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = run(capsys, *argv, "--workers", workers)
    one_line_error(code, out, err, "--workers", f"from 1 to {CPUS}", workers)


@pytest.mark.parametrize("workers", [0, -1, CPUS + 1, 10**6, 1.5, "2", True])
def test_python_api_pools_are_bounded(workers):
    with pytest.raises(symfield.SymfieldError, match="workers"):
        executors.make_executor(workers=workers)
    with pytest.raises(symfield.SymfieldError, match="workers"):
        executors.LocalExecutor(workers)
    with pytest.raises(symfield.SymfieldError, match="workers"):
        symfield.fixed_point("erf", 1.5, 0.1, workers=workers)
    with pytest.raises(symfield.SymfieldError, match="workers"):
        symfield.dynamics.sweep("erf", ["q_star"], sigma_w=[1, 2], workers=workers)
    with pytest.raises(symfield.SymfieldError, match="workers"):
        executors.evaluate_side_by_side(None, [("chi1", 20, ())] * 4, workers)


def test_default_pool_is_the_cpu_count():
    executor = executors.make_executor()
    assert executor.workers == CPUS
    executor.close()


# ------------------------------------------------------------------------------------------
# workers die with their parent (issue 18 item 2)
# ------------------------------------------------------------------------------------------
POLLS, POLL_SECONDS = 400, 0.05   # waiting for children to appear / to die: at most 20 s each


def _children(pid: int) -> list[int]:
    """Live descendants of ``pid`` (psutil if installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        return _proc_descendants(pid)
    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _proc_descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, parent in parents.items() if parent == current]
        found += kids
        frontier += kids
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper that never comes counts as dead)."""
    try:
        import psutil
    except ImportError:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _kill_parent_and_watch(script: str, tmp_path, workers: int, ready=None) -> list[int]:
    """Run ``script`` in a subprocess, wait (bounded polls) until it has ``workers`` worker
    processes running (``ready()`` true, or that many descendants), SIGKILL it, and return
    its descendants still alive after a bounded number of polls (the test's own cleanup
    kills them)."""
    path = tmp_path / "parent.py"
    path.write_text(textwrap.dedent(script), encoding="utf-8")
    parent = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, cwd=tmp_path)
    descendants: list[int] = []
    try:
        for _ in range(POLLS * 10):
            descendants = _children(parent.pid)
            started = ready() if ready is not None else len(descendants) >= workers
            if started or parent.poll() is not None:
                break
            time.sleep(POLL_SECONDS)
        assert parent.poll() is None, parent.stderr.read().decode()[-2000:]
        descendants = _children(parent.pid)
        assert len(descendants) >= workers, descendants
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        survivors = descendants
        for _ in range(POLLS):
            survivors = [pid for pid in survivors if _alive(pid)]
            if not survivors:
                break
            time.sleep(POLL_SECONDS)
        return survivors
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        # only processes this test started: its parent's descendants, and anything running
        # in its temporary directory (orphans of a failed test are re-parented)
        for pid in set(descendants) | set(_running_in(tmp_path)):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        parent.stderr.close()


def _running_in(directory) -> list[int]:
    """Processes whose working directory is ``directory``."""
    target, found = os.path.realpath(directory), []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if os.path.realpath(os.readlink(f"/proc/{entry}/cwd")) == target:
                    found.append(int(entry))
            except OSError:
                pass
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process tree")
def test_sweep_workers_die_when_the_cli_is_killed(tmp_path):
    # the real command line in a subprocess, with the CPU count pinned to 2 so that the
    # test is the same on any machine; a long certified sweep keeps both (forked) workers
    # busy, and its first finished chunks show that they run
    parts = tmp_path / "sweep.csv.parts"
    survivors = _kill_parent_and_watch("""
        import sys
        import symfield.processes as processes
        processes.available_cpus = lambda: 2
        from symfield.cli.main import main
        sys.exit(main(["sweep", "erf", "--sigma-w", "0.5:4:4000", "--sigma-b", "0.1",
                       "--dps", "30", "--chunk-size", "1", "--workers", "2", "--no-progress",
                       "-o", "sweep.csv"]))
    """, tmp_path, workers=2, ready=lambda: len(list(parts.glob("chunk-*.csv"))) >= 2)
    assert survivors == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux process tree")
@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
@pytest.mark.parametrize("use_prctl", [True, False], ids=["prctl", "watcher-thread"])
def test_pool_workers_die_with_their_parent(tmp_path, method, use_prctl):
    # A fork server is the OS parent of its workers and lives as long as they do, so the
    # kernel's parent-death signal alone never comes: the watcher thread must end them.
    # use_prctl=False exercises the fallback used where prctl does not exist. Each worker
    # writes a file once it runs its task, so the parent is killed with both workers up.
    survivors = _kill_parent_and_watch(f"""
        import functools, multiprocessing, os, time
        from concurrent.futures import ProcessPoolExecutor
        from symfield.processes import die_with_parent

        def task(seconds):
            open(f"running-{{os.getpid()}}", "w").close()
            time.sleep(seconds)

        if __name__ == "__main__":
            pool = ProcessPoolExecutor(
                2, mp_context=multiprocessing.get_context({method!r}),
                initializer=functools.partial(die_with_parent, use_prctl={use_prctl}))
            futures = [pool.submit(task, 600) for _ in range(2)]
            time.sleep(600)
    """, tmp_path, workers=2, ready=lambda: len(list(tmp_path.glob("running-*"))) >= 2)
    assert survivors == []


# ------------------------------------------------------------------------------------------
# sizes checked before the work starts (issue 19 item 5)
# ------------------------------------------------------------------------------------------
SIMULATE = ["simulate", "tanh", "--sigma-w", "1.5", "--sigma-b", "0.1"]


@pytest.mark.parametrize("extra, phrases", [
    (["--width", "10000000"], ["width 10000000", "memory", "--max-memory"]),
    (["--width", "30000", "--max-memory", "1G"], ["width 30000", "memory", "max_memory"]),
    (["--depth", "1000000000"], ["depth", "100000"]),
    (["--replicas", "1000000000"], ["1000000000 replicas"]),
    (["--replicas", "1000000000", "--max-memory", "4T"], ["floating-point", "--max-flops"]),
    (["--width", "64", "--max-flops", "1000"], ["floating-point", "--max-flops"]),
    (["--width", "1"], ["width", ">= 2"]),
    (["--replicas", "1"], ["replicas", ">= 2"]),
])
def test_simulate_sizes_are_checked_first(capsys, monkeypatch, extra, phrases):
    monkeypatch.setattr(
        "symfield.laboratory.networks.random_network.RandomNetwork.__init__", never_called)
    code, out, err = run(capsys, *SIMULATE, *extra)
    one_line_error(code, out, err, *phrases)


def test_simulate_uses_lazy_networks_when_eager_ones_do_not_fit():
    from symfield.laboratory import simulate
    from symfield.laboratory.limits import simulation_size

    width, depth = 48, 6
    eager = simulation_size(width, depth, 2, 8, 3, "t")
    assert not eager.lazy
    # room for one layer's weights and the passes, not for all six layers
    tight = int(eager.bytes - (depth - 2) * 8 * (width * width + width))
    assert simulation_size(width, depth, 2, 8, 3, "t", max_memory=tight).lazy
    a = simulate("tanh", 1.5, 0.1, width, depth, replicas=2, seed=3, directions=2)
    b = simulate("tanh", 1.5, 0.1, width, depth, replicas=2, seed=3, directions=2,
                 max_memory=tight)
    for qa, qb in zip(a.quantities, b.quantities):  # the same networks, regenerated
        np.testing.assert_array_equal(qa.estimate, qb.estimate)
        np.testing.assert_array_equal(qa.standard_error, qb.standard_error)


@pytest.mark.parametrize("argv, phrases", [
    (["kernel", "erf", "--inputs", "{inputs}", "--depth", "1000000000"], ["--depth", "100000"]),
    (["kernel", "erf", "--inputs", "{inputs}", "--depth", "5000", "--dps", "30"],
     ["certified kernel evaluations"]),
    (["sweep", "tanh", "--sigma-w", "1:2:1000000000", "--no-progress"], ["1e+08"]),
    (["sweep", "tanh", "--sigma-w", "1:2:100000", "--sigma-b", "0:1:100000", "--no-progress"],
     ["points", "1e+08"]),
    (["sweep", "tanh", "--sigma-w", "1:2:100", "--chunk-size", "0", "--no-progress"],
     ["--chunk-size"]),
    (["plot", "phase", "tanh", "-o", "{tmp}/p.png", "--resolution", "1000000"],
     ["resolution", "2000"]),
    (["plot", "depth-scales", "tanh", "-o", "{tmp}/p.png", "--points", "1000000000"],
     ["points", "100000"]),
])
def test_grid_and_depth_sizes_are_checked_first(capsys, monkeypatch, tmp_path, argv, phrases):
    inputs = tmp_path / "x.txt"
    inputs.write_text("1 0\n0 1\n0.5 0.5\n", encoding="utf-8")
    monkeypatch.setattr("symfield.cli.kernel.nngp_ntk", never_called)
    monkeypatch.setattr(executors.LocalExecutor, "map", never_called)
    argv = [a.replace("{inputs}", str(inputs)).replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = run(capsys, *argv)
    one_line_error(code, out, err, *phrases)


# ------------------------------------------------------------------------------------------
# user mistakes are not internal errors (issue 19 item 6)
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["/proc/symfield-x.{ext}", "{tmp}", "{tmp}/missing/x.{ext}"])
@pytest.mark.parametrize("argv, ext, patched", [
    (SIMULATE + ["--width", "16", "--depth", "1", "--replicas", "2", "--directions", "2",
                 "--csv"], "csv", "symfield.laboratory.simulate"),
    (SIMULATE + ["--width", "16", "--depth", "1", "--replicas", "2", "--directions", "2",
                 "--plot"], "png", "symfield.laboratory.simulate"),
    (["plot", "cobweb", "tanh", "--sigma-w", "1.5", "-o"], "png", "symfield.output.plots.cobweb"),
    (["plot", "phase", "tanh", "-o"], "png", "symfield.output.plots.phase_diagram"),
    (["plot", "depth-scales", "tanh", "-o"], "png", "symfield.output.plots.depth_scales"),
    (["sweep", "tanh", "--sigma-w", "1:2:3", "--no-progress", "-o"], "csv",
     "symfield.dynamics.sweep"),
    (["derive", "chi1", "erf", "--pdf"], "pdf", "symfield.cli.derive.derive"),
], ids=lambda v: v if isinstance(v, str) else " ".join(v[:2]))
def test_unwritable_outputs_are_refused_before_the_work(capsys, monkeypatch, tmp_path, argv,
                                                         ext, patched, target):
    monkeypatch.setattr(patched, never_called)
    path = target.replace("{tmp}", str(tmp_path)).replace("{ext}", ext)
    code, out, err = run(capsys, *argv, path)
    one_line_error(code, out, err, "cannot write")


@pytest.mark.parametrize("argv", [
    ["plot", "cobweb", "tanh", "--sigma-w", "1.5", "-o", "{tmp}/x.xyz"],
    ["plot", "cobweb", "tanh", "--sigma-w", "1.5", "-o", "{tmp}/no-suffix"],
    SIMULATE + ["--plot", "{tmp}/x.xyz"],
])
def test_unsupported_figure_formats_are_refused_before_the_work(capsys, monkeypatch, tmp_path,
                                                                argv):
    monkeypatch.setattr("symfield.output.plots.cobweb", never_called)
    monkeypatch.setattr("symfield.laboratory.simulate", never_called)
    code, out, err = run(capsys, *[a.replace("{tmp}", str(tmp_path)) for a in argv])
    one_line_error(code, out, err, "png", "svg")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("argv, phrases", [
    (["fixed-point", "tanh", "--sigma-w", "1e308"], ["sigma_w", "1000"]),
    (["fixed-point", "tanh", "--sigma-w", "1e999"], ["sigma_w", "1000"]),
    (["fixed-point", "tanh", "--sigma-w2", "1e999"], ["sigma_w2", "1e+06"]),
    (["fixed-point", "tanh", "--sigma-w", "1.5", "--sigma-b", "1e308"], ["sigma_b", "1000"]),
    (["fixed-point", "tanh", "--sigma-w", "1e-999"], ["sigma_w", "1e-08"]),
    (["critical", "tanh", "--sigma-b", "1e308"], ["sigma_b", "1000"]),
    (["critical", "tanh", "--sigma-b2", "-1"], ["sigma_b2", ">= 0"]),
    (SIMULATE[:3] + ["1e308", "--sigma-b", "0"], ["sigma_w", "1000"]),
    (SIMULATE[:3] + ["0", "--sigma-b", "0"], ["sigma_w", "> 0"]),
    (["sweep", "tanh", "--sigma-w", "1e300,2", "--no-progress"], ["sigma_w", "1000"]),
    (["kernel", "erf", "--inputs", "{inputs}", "--depth", "2", "--sigma-w", "1e308"],
     ["sigma_w", "1000"]),
    (["plot", "cobweb", "tanh", "--sigma-w", "1e308", "-o", "{tmp}/c.png"], ["sigma_w"]),
    (["plot", "phase", "tanh", "-o", "{tmp}/c.png", "--sigma-w", "1:1e308"], ["sigma_w", "1000"]),
])
def test_huge_or_tiny_scales_are_one_line_errors(capsys, tmp_path, argv, phrases):
    inputs = tmp_path / "x.txt"
    inputs.write_text("1 0\n0 1\n", encoding="utf-8")
    argv = [a.replace("{inputs}", str(inputs)).replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = run(capsys, *argv)
    err = one_line_error(code, out, err, *phrases)
    assert len(err) < 200, err  # never the 2000-digit exact square of the input


# ------------------------------------------------------------------------------------------
# non-regular input files, unwritable derivation targets, capped messages (issue 19 item 7)
# ------------------------------------------------------------------------------------------
def _feed_fifo_if_someone_reads(path, stop: threading.Event,
                                polls: int = 400) -> threading.Thread:
    """A helper that, should the command open the FIFO and wait for data (the bug), gives it
    a valid input so that the command ends (and the test then fails on its result). It stops
    when told to, or after ``polls`` attempts."""
    def feed():
        for _ in range(polls):
            if stop.is_set():
                return
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno != errno.ENXIO:  # ENXIO: no reader yet
                    return
                time.sleep(0.05)
                continue
            try:
                os.write(fd, b"1 0\n0 1\n")
            except OSError:
                pass
            os.close(fd)
            return

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return thread


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_inputs_are_refused_without_blocking(capsys, tmp_path):
    fifo = tmp_path / "inputs.fifo"
    os.mkfifo(fifo)
    stop = threading.Event()
    feeder = _feed_fifo_if_someone_reads(fifo, stop)
    try:
        code, out, err = run(capsys, "kernel", "erf", "--inputs", str(fifo), "--depth", "2")
    finally:
        stop.set()
        feeder.join()
    one_line_error(code, out, err, "not a regular file")


@pytest.mark.parametrize("path, phrase", [("/dev/zero", "not a regular file"),
                                          ("/dev/null", "not a regular file"),
                                          ("{tmp}", "is a directory"),
                                          ("{tmp}/missing.txt", "cannot read")])
def test_non_regular_or_missing_inputs(capsys, tmp_path, path, phrase):
    if path.startswith("/dev") and not os.path.exists(path):
        pytest.skip(f"no {path}")
    code, out, err = run(capsys, "kernel", "erf", "--inputs", path.replace("{tmp}", str(tmp_path)),
                         "--depth", "2")
    one_line_error(code, out, err, phrase)


@pytest.mark.parametrize("content", ["\0" * 5_000_000, "x" * 5_000_000, "1 2\n3 " + "9" * 10**6,
                                     "1 2\n" + "\u00e9" * 2_000_000])
def test_error_messages_quote_a_bounded_excerpt(capsys, tmp_path, content):
    path = tmp_path / "big.txt"
    path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "kernel", "erf", "--inputs", str(path), "--depth", "2")
    one_line_error(code, out, err)


def test_derivations_build_checks_its_directory_first(capsys, monkeypatch, tmp_path):
    from symfield.output import documents

    monkeypatch.setattr(documents, "build", never_called)
    a_file = tmp_path / "file.tex"
    a_file.write_text("x", encoding="utf-8")
    for target in ("/proc/symfield-derivations", str(a_file), str(a_file / "sub")):
        code, out, err = run(capsys, "derivations", "build", "--dir", target)
        one_line_error(code, out, err, "cannot write")


def test_every_message_is_capped(capsys, monkeypatch):
    # whatever an error carries, the printed line stays short (the last line of defence)
    def long_error(_args):
        raise symfield.SymfieldError("x" * 10**6 + "\nsecond line")

    monkeypatch.setattr("symfield.cli.derive.run_list", long_error)
    code, out, err = run(capsys, "list")
    one_line_error(code, out, err, "xxx...")


# ------------------------------------------------------------------------------------------
# issue 19 item 8b
# ------------------------------------------------------------------------------------------
def test_derive_every_law_reports_a_law_outside_its_domain_and_prints_the_rest(capsys):
    code, out, err = run(capsys, "derive", "--activation", "erf", "--at", "q=1",
                         "--at", "sigma_w=1")
    assert code == 0 and not err, err
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("curvature_fixed_point"))
    assert "no value at q=1, sigma_w=1" in lines[at + 1] and "chi1 > 1" in lines[at + 1]
    # the others are printed with their values, chi1 = 4/(pi sqrt 5) among them
    assert "0.569410034733741646781410141123" in out
    assert sum("value at" in line for line in lines) >= 5


def test_derive_every_law_json_carries_the_reason(capsys):
    code, out, err = run(capsys, "derive", "--activation", "erf", "--at", "q=1",
                         "--at", "sigma_w=1", "--json")
    assert code == 0
    records = {r["law"]: r for r in json.loads(out)}
    assert "chi1 > 1" in records["curvature_fixed_point"]["error"]
    assert records["chi1"]["value"].startswith("0.5694100347")


def test_derive_every_law_exits_2_when_no_value_can_be_shown(capsys):
    code, out, err = run(capsys, "derive", "--activation", "erf", "--at", "q=-1",
                         "--at", "sigma_w=1")
    assert code == 2
    assert "no law could be evaluated" in err
    assert out.count("no value at") >= 3 and "value at" not in out.replace("no value at", "")


def test_derive_one_law_outside_its_domain_is_still_a_one_line_error(capsys):
    code, out, err = run(capsys, "derive", "curvature_fixed_point", "erf", "--at", "q=1",
                         "--at", "sigma_w=1")
    one_line_error(code, out, err, "chi1 > 1")


def test_derive_bad_precision_is_one_error_not_one_per_law(capsys):
    code, out, err = run(capsys, "derive", "--activation", "erf", "--at", "q=1", "--dps", "5")
    one_line_error(code, out, err, "dps")
    assert out == ""


def test_simulate_zero_scales_are_refused_without_warnings(capsys):
    code, out, err = run(capsys, "simulate", "tanh", "--sigma-w", "0", "--sigma-b", "0",
                         "--width", "16", "--depth", "2", "--replicas", "2",
                         "--directions", "2")
    one_line_error(code, out, err, "sigma_w", "> 0")
    assert "Warning" not in err


def test_simulate_degenerate_statistics_show_as_na_without_warnings(capsys):
    # a valid but tiny signal: correlations are 0/0 in float64, shown as n/a; no numpy
    # RuntimeWarning reaches the user (it did: 14 of them)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, out, err = run(capsys, "simulate", "tanh", "--sigma-w", "0.001", "--sigma-b", "0",
                             "--q0", "1e-300", "--width", "32", "--depth", "3",
                             "--replicas", "3", "--directions", "2")
    assert code == 0 and "Warning" not in err, err
    assert "n/a" in out


@pytest.mark.parametrize("option, value", [("--start-q", "nan"), ("--start-q", "inf"),
                                           ("--start-q", "-1"), ("--start-c", "nan"),
                                           ("--start-c", "1.5"), ("--start-q", "1e999")])
def test_cobweb_refuses_non_finite_and_out_of_range_starts(capsys, tmp_path, option, value):
    out_file = tmp_path / "c.png"
    code, out, err = run(capsys, "plot", "cobweb", "tanh", "--sigma-w", "1.5", option + "=" + value,
                         "-o", str(out_file))
    one_line_error(code, out, err)
    assert not out_file.exists()


@pytest.mark.parametrize("argv", [
    SIMULATE[:3] + ["nan", "--sigma-b", "0"],
    SIMULATE + ["--q0", "inf"],
    SIMULATE + ["--c0", "nan"],
    ["plot", "depth-scales", "tanh", "-o", "x.png", "--sigma-b", "nan"],
    ["plot", "phase", "tanh", "-o", "x.png", "--sigma-w", "nan:2"],
    ["sweep", "tanh", "--sigma-w", "nan:2:3"],
    ["sweep", "tanh", "--sigma-w", "1,nan"],
    ["fixed-point", "tanh", "--sigma-w", "nan"],
    ["derive", "chi1", "erf", "--at", "q=nan", "--at", "sigma_w=1"],
])
def test_non_finite_numbers_are_refused_everywhere(capsys, monkeypatch, tmp_path, argv):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    one_line_error(code, out, err)
    assert not list(tmp_path.iterdir())
