"""The training page in a real browser (headless Chromium): it loads cleanly, every step shows
something new, hovering tells the numbers. Skips cleanly where chromium is not installed."""

from __future__ import annotations

import hashlib

import pytest

import viz

from .test_browser import browser  # noqa: F401 - the module's headless Chromium
from .test_training_data import trained

pytestmark = pytest.mark.browser


def load(driver, page, tmp_path, name="t.html"):
    from selenium.webdriver.support.ui import WebDriverWait

    page.save(tmp_path / name)
    driver.get("file://" + page.path)
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script("return document.body.dataset.ready === '1'")
    )
    assert driver.get_log("browser") == []  # no script errors, nothing fetched
    return driver.find_element("tag name", "body")


# What the page draws, as the script left it (not the counter's text): every edge's width,
# opacity and sign, every neuron's picture and bias colour, the plane, the boundary, the rings,
# the curves' markers, the histogram bars.
SHOWN = """
const q = (s) => [...document.querySelectorAll(s)];
return JSON.stringify([
  q('path.edge').map(e => [e.style.strokeWidth, e.style.strokeOpacity, e.classList.value]),
  q('image.map').map(i => i.getAttribute('href') || ''),
  q('rect.bias').map(r => r.style.fill),
  (document.getElementById('plane-image') || {getAttribute: () => ''}).getAttribute('href'),
  (document.getElementById('boundary') || {getAttribute: () => ''}).getAttribute('d'),
  q('circle.pt.wrong').length,
  q('circle.now').map(c => [c.getAttribute('cx'), c.getAttribute('cy')]),
  q('#hists rect.bar').map(r => r.getAttribute('height')),
]);
"""


def shown(driver) -> str:
    return hashlib.sha256(driver.execute_script(SHOWN).encode()).hexdigest()


@pytest.mark.parametrize("kind", ["moons", "spirals", "regression", "wide"])
def test_every_arrow_key_shows_something_new(browser, tmp_path, kind):  # noqa: F811
    from selenium.webdriver.common.keys import Keys

    model, history, X, y = trained(kind, epochs=6)
    body = load(browser, viz.training_html(model, history, X, y, resolution=30), tmp_path)
    n = len(history.snapshots)
    counter = browser.find_element("id", "counter")
    seen = [shown(browser)]
    assert counter.text == f"epoch 0 · snapshot 1 / {n}"
    for k in range(1, n):
        body.send_keys(Keys.ARROW_RIGHT)
        assert counter.text == f"epoch {history.snapshots[k].epoch} · snapshot {k + 1} / {n}"
        seen.append(shown(browser))
        assert seen[-1] != seen[-2], f"step {k} changed nothing"
    body.send_keys(Keys.ARROW_RIGHT)  # past the end: stays
    assert counter.text.endswith(f"snapshot {n} / {n}")
    for k in range(n - 2, -1, -1):
        body.send_keys(Keys.ARROW_LEFT)
        assert shown(browser) == seen[k]  # back again: the same picture
    assert browser.get_log("browser") == []


def test_the_diagram_has_one_edge_per_weight_in_the_browser(browser, tmp_path):  # noqa: F811
    model, history, X, y = trained("moons")
    load(browser, viz.training_html(model, history, X, y, resolution=30), tmp_path)
    edges = browser.execute_script("return document.querySelectorAll('#diagram path.edge').length")
    assert edges == sum(len(n.w) for layer in model.layers for n in layer.neurons)
    drawn = browser.execute_script(
        "return [...document.querySelectorAll('#diagram path.edge')]"
        ".filter(e => e.getBoundingClientRect().width > 0).length"
    )
    assert drawn == edges
    maps = browser.execute_script(
        "return [...document.querySelectorAll('image.map')]"
        ".every(i => (i.getAttribute('href') || '').startsWith('data:image/png'))"
    )
    assert maps


def test_the_first_and_last_snapshots_look_different(browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.keys import Keys

    model, history, X, y = trained("moons")
    body = load(browser, viz.training_html(model, history, X, y), tmp_path)
    plane, diagram = browser.find_element("id", "plane"), browser.find_element("id", "diagram")
    first = (plane.screenshot_as_png, diagram.screenshot_as_png)
    body.send_keys(Keys.END)
    last = (plane.screenshot_as_png, diagram.screenshot_as_png)
    assert first[0] != last[0] and first[1] != last[1]
    status = browser.find_element("id", "plane-status").text
    wrong = len(
        [
            1
            for p, t in zip(model.predict_numpy(X)[:, 0], y)  # the model ends where history does
            if (p > 0) != (t > 0)
        ]
    )
    assert status == f"{wrong} of {len(X)} points misclassified"


def test_hovering_shows_the_value_and_its_change(browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    from viz.training import _num

    model, history, X, y = trained("moons")
    body = load(browser, viz.training_html(model, history, X, y, resolution=20), tmp_path)
    body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ARROW_RIGHT)  # snapshot 2 (epoch 2)
    edge = browser.find_element("css selector", "#diagram path.edge[data-p='0']")
    browser.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('mouseover', {bubbles: true}))", edge
    )
    tip = browser.find_element("id", "tip")
    name = next(n for n, _ in model.named_parameters())
    now, before = history.snapshots[2].parameters[0], history.snapshots[1].parameters[0]
    text = tip.text
    assert name in text and f"w = {float(f'{now:.4g}')}" in text.replace("−", "-")
    assert "since epoch 1" in text
    change = now - before
    assert f"{abs(float(f'{change:.3g}'))}" in text
    # Stepping while hovering updates the tooltip to the new snapshot.
    body.send_keys(Keys.ARROW_RIGHT)
    assert "since epoch 2" in tip.text
    node = browser.find_element("id", "n1_0")
    ActionChains(browser).move_to_element(node).perform()
    bias = history.snapshots[3].parameters[model.parameters().index(model.layers[0].neurons[0].b)]
    assert f"bias b = {_num(bias, 4)}" in tip.text.replace("−", "-")
    assert "activation over the plane" in tip.text
    assert browser.get_log("browser") == []


def test_controls_slider_buttons_play_and_keys(browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.keys import Keys

    model, history, X, y = trained("spirals", epochs=4)
    body = load(browser, viz.training_html(model, history, X, y, resolution=20), tmp_path)
    n = len(history.snapshots)
    counter = browser.find_element("id", "counter")
    body.send_keys(Keys.END)
    assert counter.text.endswith(f"{n} / {n}")
    assert browser.find_element("id", "next").get_attribute("disabled") is not None
    browser.find_element("id", "prev").click()
    assert counter.text.endswith(f"{n - 1} / {n}")
    body.send_keys(Keys.HOME)
    assert counter.text.startswith("epoch 0 ")
    browser.execute_script(
        "const s = document.getElementById('slider'); s.value = 2;"
        "s.dispatchEvent(new Event('input'));"
    )
    assert counter.text.endswith(f"3 / {n}")
    body.send_keys(Keys.SPACE)  # play runs to the end by itself, then pauses
    assert "Pause" in browser.find_element("id", "play").text
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(lambda d: "Play" in d.find_element("id", "play").text)
    assert counter.text.endswith(f"{n} / {n}")
    assert browser.get_log("browser") == []


def test_a_diverged_snapshot_loads_cleanly(browser, tmp_path):  # noqa: F811
    from selenium.webdriver.common.keys import Keys

    from .test_training_page import diverged

    body = load(browser, viz.training_html(*diverged(), resolution=30), tmp_path)
    for _ in range(3):
        body.send_keys(Keys.ARROW_RIGHT)
    assert "loss after epoch 3: NaN" in browser.find_element("id", "status").text
    body.send_keys(Keys.ARROW_RIGHT)
    assert browser.get_log("browser") == []


@pytest.mark.parametrize("sizes", [(2, 16, 16, 1), (2, 32, 32, 3)], ids=["2-16-16-1", "2-32-32-3"])
def test_the_page_fits_1400x1000_without_a_vertical_scroll(browser, tmp_path, sizes):  # noqa: F811
    from .test_training_data import drifting

    model, history, X, y = drifting(sizes, snapshots=21)  # noqa: N806
    if sizes[-1] > 1:
        y = [i % sizes[-1] for i in range(len(X))]
    load(browser, viz.training_html(model, history, X, y), tmp_path)
    sizes_now = browser.execute_script(
        "return [document.documentElement.scrollHeight, innerHeight, innerWidth]"
    )
    assert sizes_now[2] <= 1400 and sizes_now[0] <= sizes_now[1], sizes_now
    # The controls, the diagram and the plane are all in the window.
    for selector in ("#controls", "#diagram", "#plane", "#curves"):
        box = browser.execute_script(
            "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
            "return [r.top, r.bottom, r.height];",
            selector,
        )
        tall = 30 if selector == "#controls" else 100
        assert box[0] >= 0 and box[1] <= sizes_now[1] + 1 and box[2] > tall, (selector, box)


def test_the_controls_stay_on_one_line_down_to_800_px(browser, tmp_path):  # noqa: F811
    model, history, X, y = trained()  # noqa: N806
    page = viz.training_html(model, history, X, y)
    try:
        for width in (1200, 900, 800):
            browser.set_window_size(width, 900)
            load(browser, page, tmp_path)
            tops = browser.execute_script(
                "return [...document.querySelectorAll('#controls button')]"
                ".map(b => Math.round(b.getBoundingClientRect().top));"
            )
            assert len(set(tops)) == 1, (width, tops)
    finally:
        browser.set_window_size(1400, 1000)
