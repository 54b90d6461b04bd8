"""The HTML derivation site (``symfield derivations site``), checked in a real browser.

Headless Chromium (Debian's ``chromium``) is driven over its DevTools protocol on a pipe
(``--remote-debugging-pipe``: no port, no extra Python package): every page is loaded, KaTeX
must have rendered every formula (no ``.katex-error``), nothing may reach the console as an
error (console.error, uncaught exceptions, resources that fail to load), every plot must
load, and screenshots of two pages are saved (into $SYMFIELD_SCREENSHOTS when set, for CI to
keep). The always-on tier builds the site for two activations from the committed records and
loads every page of it (the index, the two activation pages and every law's page of both:
2 x (every registered law) law pages); SYMFIELD_FULL=1 builds and loads every page of every activation.
"""
from __future__ import annotations

import base64
import fcntl
import html
import json
import os
import re
import select
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import mpmath
import numpy as np
import pytest

import symfield
from symfield.errors import InvalidValueError
from symfield.output import site
from symfield.output.documents import DEFAULT_POINT

ROOT = Path(__file__).resolve().parents[1]
DERIVATIONS = ROOT / "derivations"
#: ReLU (piecewise linear: closed forms, delta functions, divergent laws, no q* in part of
#: the plane) and tanh (the Faddeeva pole series): between them every kind of formula the
#: cheap tier can afford.
QUICK_SITE = ("relu", "tanh")
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))
                 if p), None)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get install "
                             "chromium libjs-katex); .ci/run installs it, so CI checks the site "
                             "in the browser")
needs_katex = pytest.mark.skipif(
    not (site.KATEX_DIR / "katex.min.js").is_file(),
    reason=f"KaTeX is not installed (Debian: apt-get install {site.KATEX_PACKAGE}); .ci/run "
           f"installs it")


# ------------------------------------------------------------------------------------------
# a minimal DevTools-protocol client over Chromium's pipe (fd 3: commands in, fd 4: out)
# ------------------------------------------------------------------------------------------
class Browser:
    """Headless Chromium; ``load(url)`` returns what the page did (see ``PageReport``)."""

    TIMEOUT = 60.0

    def __init__(self, profile: Path):
        to_browser, from_us = os.pipe()
        to_us, from_browser = os.pipe()
        # high descriptors, so that moving them to 3 and 4 in the child cannot clobber one
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser)]

        def child_fds():  # only dup2 calls: nothing that could wait on a lock
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-extensions", "--hide-scrollbars", "--window-size=1200,1600",
             f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, pass_fds=(3, 4),
            preexec_fn=child_fds,  # noqa: PLW1509
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for fd in (to_browser, from_browser, *high):
            os.close(fd)
        self._out, self._in = from_us, to_us
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []
        self._open_target: str | None = None

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._in], [], [], self.TIMEOUT)
            if not ready:
                raise TimeoutError(f"Chromium sent nothing for {self.TIMEOUT:g} s")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise EOFError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def load(self, url: str, screenshot: Path | None = None) -> dict:
        """Open ``url`` in a new tab, wait for it to load, render and fetch its fonts;
        returns its console errors and DOM counts (and saves a screenshot)."""
        self.events = []
        # one tab at a time: the previous page's tab (kept open so that its session could
        # still be used) is closed first; the full site opened ~900 tabs and Chromium stalled
        if self._open_target is not None:
            self.send("Target.closeTarget", {"targetId": self._open_target})
            self._open_target = None
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._open_target = target
        session = self.send("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=session)
        self.send("Page.navigate", {"url": url}, session=session)
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(self._read())
        counts = self.evaluate(session, """document.fonts.ready.then(() => JSON.stringify({
            rendered: document.documentElement.getAttribute("data-rendered"),
            math: document.querySelectorAll(".math").length,
            typeset: document.querySelectorAll(".math > .katex, .math > .katex-display").length,
            katex_errors: document.querySelectorAll(".katex-error").length,
            images: document.images.length,
            broken_images: Array.from(document.images).filter(
                i => !i.complete || i.naturalWidth === 0).map(i => i.src),
            failed_fonts: Array.from(document.fonts).filter(f => f.status === "error")
                .map(f => f.family),
            copy_buttons: document.querySelectorAll("button.copy").length,
        }))""")
        report = json.loads(counts)
        if screenshot is not None:
            shot = self.send("Page.captureScreenshot", {"format": "png"}, session=session)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        report["session"] = session
        report["console_errors"] = self.console_errors()
        return report

    def evaluate(self, session: str, expression: str):
        reply = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                               "returnByValue": True}, session=session)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"the page's script failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def console_errors(self) -> list[str]:
        found = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description")))
                                      for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append(details.get("exception", {}).get("description")
                             or details.get("text", "exception"))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                found.append(f"{entry.get('text')} {entry.get('url', '')}".strip())
        return found

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, EOFError, TimeoutError, RuntimeError):
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._out)
        os.close(self._in)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    chromium = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def screenshot_dir(tmp_path: Path) -> Path:
    chosen = os.environ.get("SYMFIELD_SCREENSHOTS")
    directory = Path(chosen) if chosen else tmp_path
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def assert_page_is_clean(report: dict, page: str) -> None:
    assert report["rendered"] == "yes", f"{page}: site.js did not run"
    assert report["katex_errors"] == 0, f"{page}: {report['katex_errors']} KaTeX render errors"
    assert report["math"] > 0 and report["typeset"] == report["math"], \
        f"{page}: {report['typeset']} of {report['math']} formulas typeset"
    assert report["console_errors"] == [], f"{page}: console errors {report['console_errors']}"
    assert report["broken_images"] == [], f"{page}: images did not load"
    assert report["failed_fonts"] == [], f"{page}: KaTeX fonts did not load"


# ------------------------------------------------------------------------------------------
# the site of two activations, built once through the command line
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick_site(tmp_path_factory):
    if not (site.KATEX_DIR / "katex.min.js").is_file():
        pytest.skip(f"KaTeX is not installed (Debian: apt-get install {site.KATEX_PACKAGE})")
    from symfield.cli.main import main

    out = tmp_path_factory.mktemp("site")
    args = ["derivations", "site", "-o", str(out), "--dir", str(DERIVATIONS), "--workers", "1"]
    for name in QUICK_SITE:
        args += ["--activation", name]
    assert main(args) == 0
    return out


class _Collect(HTMLParser):
    """Ids, links, images and the text of the copy sources of a page."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.images, self.copies = set(), [], [], {}
        self._copy = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag == "img":
            self.images.append(attrs["src"])
        if tag == "textarea":
            self._copy = attrs["id"]
            self.copies[self._copy] = ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._copy = None

    def handle_data(self, data):
        if self._copy is not None:
            self.copies[self._copy] += data


def parsed(path: Path) -> _Collect:
    collect = _Collect()
    collect.feed(path.read_text(encoding="utf-8"))
    return collect


@needs_katex
def test_the_site_has_an_index_a_page_per_activation_plots_and_katex(quick_site):
    index = parsed(quick_site / "index.html")
    record_laws = [law["name"] for law in site.read_record(DERIVATIONS, "relu")["laws"]]
    for name in QUICK_SITE:
        assert f"{name}.html" in index.links
        # every cell of the table links to its law's page, which exists
        assert all(f"{name}/{law}.html" in index.links for law in record_laws)
        page = parsed(quick_site / f"{name}.html")
        assert set(record_laws) <= page.ids  # the activation page: a summary per law
        assert {f"{name}/{law}.html" for law in record_laws} <= set(page.links)
        assert len(page.images) == 3
        for image in page.images:
            assert (quick_site / image).read_bytes().startswith(b"\x89PNG")
        for law in record_laws:
            law_page = parsed(quick_site / name / f"{law}.html")
            assert law in law_page.ids
            assert {"../index.html", f"../{name}.html"} <= set(law_page.links)
            assert len(law_page.images) == 3
            for image in law_page.images:  # relative to the law's page
                assert (quick_site / name / image).resolve().is_file(), image
    for asset in ("katex/katex.min.js", "katex/katex.min.css", "site.js", "site.css"):
        assert (quick_site / asset).stat().st_size > 1000
    assert list((quick_site / "katex" / "fonts").glob("KaTeX_Main-Regular.woff2"))


@needs_katex
def test_each_law_shows_its_recorded_value_and_copies_its_latex_and_sympy(quick_site):
    """On the activation page (every law) and on each law's own page, with its steps."""
    record = site.read_record(DERIVATIONS, "tanh")
    activation_page = quick_site / "tanh.html"
    for law in record["laws"]:
        law_page = quick_site / "tanh" / f"{law['name']}.html"
        for path in (activation_page, law_page):
            text = path.read_text(encoding="utf-8")
            page = parsed(path)
            assert page.copies[f"latex-{law['name']}"] == law["result"]["latex"]
            assert page.copies[f"sympy-{law['name']}"] == law["result"]["sympy"]
            value = law["value"]
            shown = value.get("value") or value["error"]
            shown = html.escape(shown)
            assert (f'<code class="number">{shown}</code>' if "value" in value else shown) \
                in text
        text = law_page.read_text(encoding="utf-8")
        assert f"Derivation ({len(law['steps'])} steps)" in text
        for step in law["steps"]:
            assert html.escape(step["rule"]) in text


def _record_values(activation: str) -> dict[str, str]:
    record = site.read_record(DERIVATIONS, activation)
    return {law["name"]: law["value"].get("value") for law in record["laws"]}


def _exact(text: str) -> mpmath.mpf:
    numerator, _, denominator = text.partition("/")
    return mpmath.mpf(int(numerator)) / int(denominator or 1)


def test_recorded_values_agree_with_independent_references():
    """The values the pages show (from the records) against literature formulas and direct
    quadrature at the default point, in mpmath at 30 digits."""
    relu, tanh = _record_values("relu"), _record_values("tanh")
    with mpmath.workdps(30):
        point = {k: _exact(v) for k, v in DEFAULT_POINT.items()}
        q, q1, q2, rho = point["q"], point["q1"], point["q2"], point["rho"]
        sw, sb = point["sigma_w"], point["sigma_b"]
        theta = mpmath.acos(rho / mpmath.sqrt(q1 * q2))
        cho_saul = mpmath.sqrt(q1 * q2) / (2 * mpmath.pi) * (
            mpmath.sin(theta) + (mpmath.pi - theta) * mpmath.cos(theta))

        def gaussian_mean(f):
            return mpmath.quad(lambda z: f(mpmath.sqrt(q) * z) * mpmath.exp(-z * z / 2),
                               [-mpmath.inf, 0, mpmath.inf]) / mpmath.sqrt(2 * mpmath.pi)

        expected = [
            (relu["chi1"], sw**2 / 2),
            (relu["kernel"], cho_saul),
            (relu["covariance_map"], sw**2 * cho_saul + sb**2),
            (tanh["chi0"], gaussian_mean(lambda x: mpmath.tanh(x) ** 2)),
            (tanh["chi1"], sw**2 * gaussian_mean(lambda x: mpmath.sech(x) ** 4)),
        ]
        for shown, reference in expected:
            assert shown is not None
            assert abs(mpmath.mpf(shown) - reference) <= 1e-14 * abs(reference), \
                (shown, reference)


def test_the_plotted_maps_agree_with_relus_closed_forms():
    """ReLU: V(q) = sigma_w^2 q / 2 + sigma_b^2, q* = sigma_b^2 / (1 - sigma_w^2/2), chi1 =
    sigma_w^2 / 2, and the correlation map through Cho and Saul's arc-cosine kernel."""
    data = site.map_curves("relu")
    q, sw, sb = data["q"], data["sigma_w"], site.MAP_SIGMA_B
    assert np.allclose(data["length_map"], sw[:, None] ** 2 * q / 2 + sb**2, rtol=1e-13)
    slope = sw**2 / 2
    assert np.array_equal(np.isfinite(data["q_star"]), slope < 1)  # sigma_w = 1 only
    k = int(np.flatnonzero(slope < 1)[0])
    q_star = sb**2 / (1 - slope[k])
    assert data["q_star"][k] == pytest.approx(q_star, rel=1e-12)
    c = data["c"]
    theta = np.arccos(np.clip(c, -1, 1))
    kernel = q_star / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))
    assert np.allclose(data["correlation_map"][k], (sw[k] ** 2 * kernel + sb**2) / q_star,
                       rtol=1e-12, atol=1e-15)
    grid = site.phase_grid("relu")
    exists = np.isfinite(grid["chi1"])
    assert np.allclose(grid["chi1"][exists], grid["sigma_w"][exists] ** 2 / 2, rtol=1e-13)
    # no stable q* where the length map's slope sigma_w^2 / 2 is > 1 (q* = 0 at sigma_b = 0
    # below it)
    assert np.array_equal(~exists, grid["sigma_w"] ** 2 / 2 > 1)


# ------------------------------------------------------------------------------------------
# in the browser
# ------------------------------------------------------------------------------------------
@needs_chromium
@needs_katex
def test_every_page_renders_in_chromium_without_errors(quick_site, browser, tmp_path):
    shots = screenshot_dir(tmp_path)
    law_pages = [f"{n}/{law['name']}.html" for n in QUICK_SITE
                 for law in site.read_record(DERIVATIONS, n)["laws"]]
    # every registered law has a page (the records hold one entry per law)
    assert len(law_pages) == 2 * len(symfield.registered_laws())
    for page in ("index.html", *(f"{n}.html" for n in QUICK_SITE), *law_pages):
        shot = shots / f"site-{page.replace('/', '-').replace('.html', '.png')}" \
            if page in ("index.html", "tanh.html", "tanh/chi1.html") else None
        report = browser.load((quick_site / page).as_uri(), screenshot=shot)
        assert_page_is_clean(report, page)
        if shot is not None:
            assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
        if page == "tanh.html":
            assert report["images"] == 3 and report["copy_buttons"] == 2 * len(
                site.read_record(DERIVATIONS, "tanh")["laws"])
            # the copy buttons run without an error, whatever the clipboard allows
            browser.evaluate(report["session"], """Array.from(
                document.querySelectorAll("button.copy")).slice(0, 2).forEach(b => b.click())""")
            assert browser.console_errors() == []
        if page == "tanh/chi1.html":
            assert report["images"] == 3 and report["copy_buttons"] == 2


@needs_chromium
@needs_katex
def test_the_browser_check_sees_render_errors_and_missing_files(quick_site, browser):
    """Power check: a formula KaTeX cannot parse, a missing image and a console error are
    each caught."""
    body = (site._math(r"\frac{1}{2}") + site._math(r"\notamacro{x}")
            + '<img src="plots/missing.png" alt="">'
            + '<script>console.error("seen")</script>')
    (quick_site / "broken.html").write_text(site._page("broken", body), encoding="utf-8")
    report = browser.load((quick_site / "broken.html").as_uri())
    assert report["katex_errors"] == 1 and report["math"] == 2
    assert report["broken_images"]
    assert any("seen" in e for e in report["console_errors"])
    assert any("missing.png" in e for e in report["console_errors"])
    with pytest.raises(AssertionError):
        assert_page_is_clean(report, "broken.html")


# ------------------------------------------------------------------------------------------
# bad input and hostile records
# ------------------------------------------------------------------------------------------
def _relu_record() -> dict:
    return json.loads((DERIVATIONS / "relu.json").read_text(encoding="utf-8"))


def test_missing_records_katex_or_names_are_one_clear_line(tmp_path, monkeypatch):
    with pytest.raises(InvalidValueError, match=r"relu\.json is missing.*derivations build"):
        site.read_record(tmp_path, "relu")
    with pytest.raises(InvalidValueError, match="unknown activation 'nope'"):
        site.build_site(tmp_path / "out", DERIVATIONS, only=["nope"])
    monkeypatch.setattr(site, "KATEX_DIR", tmp_path / "no-katex")
    with pytest.raises(InvalidValueError, match=r"apt-get install libjs-katex"):
        site.build_site(tmp_path / "out", DERIVATIONS, only=["relu"])
    with pytest.raises(InvalidValueError, match=r"missing katex\.min\.js, katex\.min\.css, fonts/"):
        site.katex_directory(tmp_path)
    assert not (tmp_path / "out").exists()  # nothing written before the checks pass


@pytest.mark.parametrize("damage, message", [
    (lambda r: r.update(format=0), "record format 0"),
    (lambda r: r.update(activation="../../etc/passwd"), "not an identifier"),
    (lambda r: r["laws"][0].update(name="chi0\"><script>"), "not an identifier"),
    (lambda r: r["laws"][1].update(steps="none"), "'steps' must be a list"),
    (lambda r: r["laws"][1]["steps"][0].update(rhs=[]), "'rhs' must be a non-empty list"),
    (lambda r: r["laws"][2].update(form="guess"), "form must be closed, series or integral"),
    (lambda r: r["laws"][2]["value"].pop("value", None) or r["laws"][2]["value"].pop("error"),
     "needs a 'value' or an 'error'"),
    (lambda r: r["laws"].append(dict(r["laws"][0])), "appears twice"),
])
def test_a_damaged_record_is_refused_naming_what_is_wrong(tmp_path, damage, message):
    record = _relu_record()
    damage(record)
    (tmp_path / "relu.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(InvalidValueError, match=re.escape(message)):
        site.read_record(tmp_path, "relu")
    (tmp_path / "relu.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidValueError, match="not a symfield record"):
        site.read_record(tmp_path, "relu")


def test_record_text_reaches_the_page_escaped():
    record = _relu_record()
    record["description"] = '<script>alert("description")</script>'
    law = record["laws"][0]
    law["title"] = "<img src=x onerror=alert(1)>"
    law["result"]["sympy"] = "</textarea><script>alert(2)</script>"
    law["steps"][0]["lhs"] = r"</div><script>alert(3)</script>\href{javascript:alert(4)}{x}"
    site.check_record(record)
    page = site._activation_page(record, {})
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;description&quot;)" in page
    assert page.count("<script") == 2  # katex.min.js and site.js, nothing else
    # the law's own page (its steps, the activation's description, the neighbours' names)
    law_page = site._law_page(record, law, {}, (None, record["laws"][1]))
    assert "<script>alert" not in law_page and "<img src=x" not in law_page
    assert "&lt;/div&gt;&lt;script&gt;alert(3)" in law_page
    assert law_page.count("<script") == 2


def test_cli_site_needs_an_output_directory_and_only_takes_its_options(capsys):
    from symfield.cli.main import main

    assert main(["derivations", "site"]) == 2
    assert "needs the output directory" in capsys.readouterr().err
    assert main(["derivations", "check", "-o", "x"]) == 2
    assert "--output goes with 'symfield derivations site'" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------
# the whole site (SYMFIELD_FULL=1)
# ------------------------------------------------------------------------------------------
@pytest.mark.slow
@needs_chromium
@needs_katex
def test_the_whole_site_renders_in_chromium(tmp_path_factory, browser, tmp_path):
    out = tmp_path_factory.mktemp("full-site")
    pages = site.build_site(out, DERIVATIONS)
    records = [site.read_record(DERIVATIONS, a) for a in symfield.registered_activations()]
    assert len(pages) == len(records) + 1 + sum(len(r["laws"]) for r in records)
    shots = screenshot_dir(tmp_path)
    for page in pages:
        shot = shots / "site-full-silu.png" if page.name == "silu.html" else None
        assert_page_is_clean(browser.load(page.as_uri(), screenshot=shot), page.name)
    notes = [p.name for p in pages if "left out:" in p.read_text(encoding="utf-8")]
    assert not notes, f"plots left out (over {site.PLOT_SECONDS:g} s of CPU) on {notes}"
