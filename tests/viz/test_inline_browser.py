"""Inline means whole (#22.9): the executed lessons, rendered to HTML as a reader sees them
(nbconvert) and opened in headless Chromium 1200 px wide: the lecture neuron's graph fits its
output area, and the inline pages' controls stay on one line, down to 800 px."""

from __future__ import annotations

import os

import pytest

from .test_browser import browser  # noqa: F401 - the module's headless Chromium

pytestmark = [pytest.mark.browser, pytest.mark.notebooks, pytest.mark.slow]


@pytest.fixture(scope="module")
def lesson_html(tmp_path_factory):
    """Lesson 01 (the lecture neuron: draw_dot and backprop_html inline), executed, as HTML."""
    pytest.importorskip("nbconvert")
    from tests.test_notebooks import ROOT, execute

    tmp = tmp_path_factory.mktemp("lesson")
    nb = execute(ROOT / "docs" / "notebooks" / "01_neuron_and_chain_rule.ipynb", tmp)
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nb)
    path = tmp / "lesson.html"
    path.write_text(body, encoding="utf-8")
    return path


def _frames_one_line(driver) -> list[list[int]]:
    """For each inline page (an iframe), the distinct tops of its control buttons."""
    out = []
    for frame in driver.find_elements("css selector", "iframe"):
        driver.switch_to.frame(frame)
        try:
            out.append(driver.execute_script(
                "return [...new Set([...document.querySelectorAll('#controls button')]"
                ".map(b => Math.round(b.getBoundingClientRect().top)))];"
            ))  # fmt: skip
        finally:
            driver.switch_to.default_content()
    return out


def test_the_lessons_graph_fits_its_output_area_and_pages_keep_one_line(browser, lesson_html):  # noqa: F811
    try:
        browser.set_window_size(1200, 1000)
        browser.get("file://" + os.fspath(lesson_html))
        graphs = browser.execute_script(
            # nbconvert shows SVG as an <img>: its drawn width against the output area's, and
            # the box text's size (12 pt in the picture) scaled as the image is
            "return [...document.querySelectorAll('.jp-RenderedSVG img')]"
            ".map(i => { const r = i.getBoundingClientRect();"
            " const area = i.closest('.jp-OutputArea-output').getBoundingClientRect();"
            " const svg = atob(i.src.split(',')[1]);"
            ' const box = Number(/viewBox="[-\\d.]+ [-\\d.]+ ([\\d.]+)/.exec(svg)[1]);'
            " return [r.width, area.width, 12 * r.width / box, svg.includes('class=\"node\"')]; })"
            ".filter(g => g[3]);"
        )
        assert graphs, "the lesson shows no graph"
        for width, area, text, _ in graphs:
            assert width <= area + 1, (width, area)  # no sideways scroll to find the output
            assert text >= 9.0, (width, area, text)  # still legible
        for width in (1200, 800):
            browser.set_window_size(width, 1000)
            browser.get("file://" + os.fspath(lesson_html))
            tops = _frames_one_line(browser)
            assert tops and all(len(t) == 1 for t in tops), (width, tops)
    finally:
        browser.set_window_size(1400, 1000)
