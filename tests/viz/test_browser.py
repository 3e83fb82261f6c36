"""The backprop page in a real browser: headless Chromium, stepped frame by frame.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package; skips cleanly
without them (``.ci/run`` installs them).
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

import viz
from autograd import Value
from autograd.graph import topological_order
from viz.dot import fmt

from .conftest import micrograd_example, scoped_mlp, used_twice

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module, with a throwaway profile and no network chatter."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip("chromium and chromium-driver are not installed")
    profile = tempfile.mkdtemp(prefix="viz-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-sync",
                 "--disable-component-update", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1400,1000"):  # fmt: skip
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except Exception as e:  # a broken install is an environment problem, not a page bug
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"chromium did not start: {e}")
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _shown(driver) -> dict[int, tuple[str, str]]:
    """Every Value's grad as the picture shows it: node -> (text, data-value)."""
    rows = driver.execute_script(
        "return [...document.querySelectorAll('text[data-grad-of]')]"
        ".map(t => [t.dataset.gradOf, t.textContent, t.dataset.value]);"
    )
    return {int(i): (text, value) for i, text, value in rows}


def _step_through(driver, root: Value, tmp_path) -> dict[int, tuple[str, str]]:
    """Load the page, check frame 0, press → through every frame; return the last frame's grads."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page = viz.backprop_html(root, tmp_path / "bp.html")
    driver.get("file://" + os.fspath(page))
    assert driver.get_log("browser") == []  # no script errors
    n_steps = len(list(viz.backward_steps(root)))
    order = topological_order(root)
    shown = _shown(driver)
    assert set(shown) == set(range(len(order)))
    # Step 0: the forward pass, grads empty except the seed on the root.
    root_i = order.index(root)
    assert shown[root_i] == (f"grad {fmt(1.0)}", "1")
    assert all(text == "grad " and value == "" for i, (text, value) in shown.items() if i != root_i)
    body = driver.find_element(By.TAG_NAME, "body")
    for k in range(1, n_steps + 1):
        body.send_keys(Keys.ARROW_RIGHT)
        assert driver.find_element(By.ID, "counter").text == f"step {k} / {n_steps}"
        current = driver.find_elements(By.CSS_SELECTOR, "g.node.current")
        assert len(current) == 2  # the node and its op
        lines = driver.find_elements(By.CSS_SELECTOR, "#lines li")
        assert lines and all(".grad += ∂" in li.text for li in lines)
    body.send_keys(Keys.ARROW_RIGHT)  # past the end: stays on the last step
    assert driver.find_element(By.ID, "counter").text == f"step {n_steps} / {n_steps}"
    assert driver.get_log("browser") == []
    return _shown(driver)


@pytest.mark.parametrize(
    "build",
    [lambda: micrograd_example(backward=False), used_twice, lambda: scoped_mlp((2, 3, 1))],
    ids=["lecture", "used-twice", "mlp"],
)
def test_last_frame_shows_the_grads_backward_computes(browser, tmp_path, build):
    root = build()
    for v in topological_order(root):
        v.grad = 0.0
    shown = _step_through(browser, root, tmp_path)
    root.backward()
    for i, v in enumerate(topological_order(root)):
        text, value = shown[i]
        assert float(value) == v.grad, (i, v, text)
        assert text.endswith(fmt(v.grad)), (i, v, text)


def test_controls_slider_buttons_and_keys(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    root = used_twice()
    last = len(list(viz.backward_steps(root)))
    browser.get("file://" + os.fspath(viz.backprop_html(root, tmp_path / "bp.html")))
    counter = browser.find_element(By.ID, "counter")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.END)
    assert counter.text == f"step {last} / {last}"
    browser.find_element(By.ID, "prev").click()
    assert counter.text == f"step {last - 1} / {last}"
    body.send_keys(Keys.HOME)
    assert counter.text == f"step 0 / {last}"
    assert browser.find_element(By.ID, "prev").get_attribute("disabled") is not None
    browser.execute_script(
        "const s = document.getElementById('slider'); s.value = 2;"
        "s.dispatchEvent(new Event('input'));"
    )
    assert counter.text == f"step 2 / {last}"
    # A node used more than once shows its grad as a sum of the shares so far.
    body.send_keys(Keys.END)
    a_text, _ = _shown(browser)[0]
    assert a_text.count(" + ") == 2 and " = " in a_text
    # Play runs to the end by itself, then pauses.
    body.send_keys(Keys.HOME)
    browser.execute_script("document.getElementById('play').click();")
    assert "Pause" in browser.find_element(By.ID, "play").text
    browser.execute_script("document.getElementById('play').click();")
    assert "Play" in browser.find_element(By.ID, "play").text


# ---- the picture fits at load, zooms, and follows the step ---------------------------------------


def _lecture_neuron() -> Value:
    from .test_backprop import _lecture_neuron as build

    return build()


def _rect(driver, selector: str) -> dict:
    return driver.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};",
        selector,
    )


def _visible_area(driver) -> dict:
    """The part of the graph box the reader sees: inside its border, and inside the window."""
    return driver.execute_script(
        "const b = document.getElementById('graph'), r = b.getBoundingClientRect();"
        "const left = r.left + b.clientLeft, top = r.top + b.clientTop;"
        "return {left: left, top: top, right: Math.min(left + b.clientWidth, innerWidth),"
        "        bottom: Math.min(top + b.clientHeight, innerHeight)};"
    )


def _inside(inner: dict, outer: dict, slack: float = 1.0) -> bool:
    return (
        inner["left"] >= outer["left"] - slack
        and inner["right"] <= outer["right"] + slack
        and inner["top"] >= outer["top"] - slack
        and inner["bottom"] <= outer["bottom"] + slack
    )


def test_the_lecture_neuron_is_all_in_view_at_load(browser, tmp_path):
    assert browser.execute_script("return [innerWidth, outerHeight]")[0] <= 1400
    page = viz.backprop_html(_lecture_neuron(), tmp_path / "bp.html")
    browser.get("file://" + os.fspath(page))
    area = _visible_area(browser)
    ids = browser.execute_script(
        "return [...document.querySelectorAll('#graph g.node')].map(g => g.id)"
    )
    assert len(ids) == 10 + 5  # ten Values, five ops
    for node in ids:
        assert _inside(_rect(browser, f"#{node}"), area), node
    assert _inside(_rect(browser, "#graph svg"), area)
    assert browser.get_log("browser") == []


def test_zoom_buttons_keys_and_ctrl_wheel(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    page = viz.backprop_html(_lecture_neuron(), tmp_path / "bp.html")
    browser.get("file://" + os.fspath(page))

    def zoom() -> float:
        return float(browser.find_element(By.TAG_NAME, "body").get_attribute("data-zoom"))

    fitted = zoom()
    assert 0.2 < fitted < 1.5
    browser.find_element(By.ID, "zoom-in").click()
    assert zoom() == pytest.approx(fitted * 1.25)
    browser.find_element(By.ID, "zoom-out").click()
    browser.find_element(By.ID, "zoom-out").click()
    assert zoom() == pytest.approx(fitted * 0.8)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("+")
    body.send_keys("+")
    assert zoom() == pytest.approx(fitted * 0.8 * 1.25 * 1.25)
    body.send_keys("0")
    assert zoom() == pytest.approx(fitted)
    body.send_keys("-")
    assert zoom() == pytest.approx(fitted * 0.8)
    browser.find_element(By.ID, "zoom-fit").click()
    assert zoom() == pytest.approx(fitted)
    # Ctrl+wheel (what a trackpad pinch sends) zooms; a plain wheel does not.
    wheel = (
        "const b = document.getElementById('graph'), r = b.getBoundingClientRect();"
        "b.dispatchEvent(new WheelEvent('wheel', {deltaY: arguments[0], ctrlKey: arguments[1],"
        " clientX: r.left + 50, clientY: r.top + 50, bubbles: true, cancelable: true}));"
    )
    browser.execute_script(wheel, -200, False)
    assert zoom() == pytest.approx(fitted)
    browser.execute_script(wheel, -200, True)
    assert zoom() > fitted * 1.3
    browser.execute_script(wheel, 400, True)
    assert zoom() < fitted
    body.send_keys(Keys.HOME)
    assert browser.get_log("browser") == []


def test_stepping_keeps_the_current_node_in_view_when_zoomed_in(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    root = _lecture_neuron()
    page = viz.backprop_html(root, tmp_path / "bp.html")
    browser.get("file://" + os.fspath(page))
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(5):
        body.send_keys("+")  # about 3x: the picture is much wider than its box
    assert browser.execute_script(
        "const b = document.getElementById('graph'); return b.scrollWidth > 2 * b.clientWidth"
    )
    order = topological_order(root)
    for step in viz.backward_steps(root):
        body.send_keys(Keys.ARROW_RIGHT)
        i = order.index(step.node)
        assert _inside(_rect(browser, f"#v{i}"), _visible_area(browser)), step.node.label
        assert _inside(_rect(browser, f"#op{i}"), _visible_area(browser)), step.node.label
    assert browser.get_log("browser") == []


def test_a_collapsed_page_steps_box_by_box_in_the_browser(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    root = scoped_mlp((2, 3, 3, 1))
    page = viz.backprop_html(root, tmp_path / "bp.html", collapse="neuron")
    browser.get("file://" + os.fspath(page))
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.END)
    assert browser.get_log("browser") == []
    order = topological_order(root)
    shown = _shown(browser)
    assert {order.index(v) for v in order if v.label.startswith("x")} <= set(shown)
    for i, (text, value) in shown.items():
        assert float(value) == pytest.approx(order[i].grad, rel=1e-12, abs=1e-12), order[i]
        assert text.endswith(fmt(order[i].grad))
    current = browser.find_elements(By.CSS_SELECTOR, "g.node.current")
    assert [el.get_attribute("id") for el in current] == ["g0"]  # the first layer's first box


# ---- readable on open at any size (#22.1) --------------------------------------------------------


def _xor_graph() -> Value:
    """The tutorial's 3-4-1 sigmoid network on one sample: the xor demo's page (34 steps)."""
    import sys
    from pathlib import Path

    demos = str(Path(__file__).resolve().parents[2] / "demos")
    if demos not in sys.path:
        sys.path.insert(0, demos)
    from tutorial_xor import forward_pass, tutorial_network

    return forward_pass(tutorial_network(0), [0.0, 1.0, 1.0], 1.0)


def _forty_nodes() -> Value:
    """A graph of about forty boxes: a 2-3-1 tanh MLP's squared error, uncollapsed."""
    return scoped_mlp((2, 3, 1))


def _text_px(driver) -> float:
    """The smallest box text on the page in px, measured from the DOM (font size x zoom)."""
    return driver.execute_script(
        "return Math.min(...[...document.querySelectorAll('#graph g.node text')].map(t =>"
        " parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a));"
    )


@pytest.mark.parametrize(
    "build, steps",
    [(_lecture_neuron, 5), (_xor_graph, 34), (_forty_nodes, None)],
    ids=["lecture-neuron", "xor-34-steps", "forty-nodes"],
)
def test_the_page_opens_readable_and_follows_every_step(browser, tmp_path, build, steps):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    root = build()
    n_nodes = len(topological_order(root))
    n_steps = len(list(viz.backward_steps(root)))
    assert steps is None or n_steps == steps
    assert steps is not None or 30 <= n_nodes + n_steps <= 60  # boxes: Values and their ops
    browser.get("file://" + os.fspath(viz.backprop_html(root, tmp_path / "bp.html")))
    assert browser.execute_script("return innerWidth") <= 1400
    assert _text_px(browser) >= 10.95  # readable at load (~11 px), however big the graph
    # The graph panel uses the window's height.
    box = _rect(browser, "#graph")
    assert box["bottom"] - box["top"] > 0.6 * browser.execute_script("return innerHeight")
    area = _visible_area(browser)
    assert _inside(_rect(browser, f"#v{topological_order(root).index(root)}"), area)
    order = topological_order(root)
    body = browser.find_element(By.TAG_NAME, "body")
    for step in viz.backward_steps(root):
        body.send_keys(Keys.ARROW_RIGHT)
        area = _visible_area(browser)
        i = order.index(step.node)
        assert _inside(_rect(browser, f"#v{i}"), area), (step.node, "current node")
        for s in step.shares:  # the inputs it hands grads to
            j = order.index(s.input)
            assert _inside(_rect(browser, f"#v{j}"), area), (step.node, "input", s.input)
        # The grads table marks the rows that change and scrolls them into its view.
        rows = browser.execute_script(
            "const s = document.querySelector('.table-scroll').getBoundingClientRect();"
            "const head = document.querySelector('#grads thead').getBoundingClientRect().height;"
            "return [...document.querySelectorAll('#grads tr.fresh, #grads tr.current')].map(tr =>"
            " { const r = tr.getBoundingClientRect();"
            "   return [tr.dataset.node, r.top >= s.top + head - 1 && r.bottom <= s.bottom + 1"
            "           && r.bottom <= innerHeight + 1]; });"
        )
        changed = {str(order.index(s.input)) for s in step.shares} | {str(i)}
        assert {node for node, _ in rows} == changed
        assert all(seen for _, seen in rows), (step.node, rows)
    # The whole graph is one key away.
    body.send_keys("0")
    area = _visible_area(browser)
    assert _inside(_rect(browser, "#graph svg"), area, slack=2.0)
    assert browser.get_log("browser") == []


def test_the_controls_stay_on_one_line_down_to_800_px(browser, tmp_path):
    page = viz.backprop_html(_lecture_neuron(), tmp_path / "bp.html")
    try:
        for width in (1200, 900, 800):
            browser.set_window_size(width, 900)
            browser.get("file://" + os.fspath(page))
            heights = browser.execute_script(
                "return [...document.querySelectorAll('#controls button')]"
                ".map(b => b.getBoundingClientRect()).map(r => [r.top, r.height, r.width]);"
            )
            tops = {round(top) for top, _, _ in heights}
            assert len(tops) == 1, (width, heights)  # one line
            assert all(h < 40 for _, h, _ in heights), (width, heights)
            widths = browser.execute_script(
                "return ['prev', 'play', 'next'].map(id => document.getElementById(id))"
                ".map(b => b.scrollWidth - b.clientWidth);"
            )
            assert widths == [0, 0, 0], (width, widths)  # no label squeezed
    finally:
        browser.set_window_size(1400, 1000)
