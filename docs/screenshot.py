"""A PNG of one of our pages as a browser shows it, for the README (``make docs-images``).

Opens the page in headless Chromium (Debian's ``chromium`` and ``chromium-driver``, and the
``selenium`` package from the test extra), steps to a frame with the arrow keys, optionally
hovers an element, and saves the window. Pictures in the README are made this way, never by
hand: python docs/screenshot.py out/moons_training.html docs/moons_training.png --frame 30
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd.files import write_atomic  # noqa: E402

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def screenshot(
    page: str,
    png: str,
    frame: int = 0,
    hover: str | None = None,
    size: tuple[int, int] = (1440, 1000),
) -> str:
    """Load ``page``, press → ``frame`` times, hover ``hover`` (a CSS selector), save ``png``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    profile = tempfile.mkdtemp(prefix="screenshot-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                 f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        # The window's size includes the browser's frame; set the page's viewport exactly.
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False},
        )
        driver.get(Path(page).resolve().as_uri())
        WebDriverWait(driver, 30).until(
            lambda d: d.execute_script("return document.body.dataset.ready === '1'")
        )
        body = driver.find_element("tag name", "body")
        for _ in range(frame):
            body.send_keys(Keys.ARROW_RIGHT)
        if hover:
            ActionChains(driver).move_to_element(
                driver.find_element("css selector", hover)
            ).perform()
        time.sleep(0.3)  # let the pictures swap in
        errors = driver.get_log("browser")
        if errors:
            raise RuntimeError(f"screenshot: {page} logged errors: {errors}")
        write_atomic(png, driver.get_screenshot_as_png(), "screenshot")
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    return png


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("page", help="the .html page")
    p.add_argument("png", help="where the screenshot goes")
    p.add_argument("--frame", type=int, default=0, help="press the right arrow this many times")
    p.add_argument("--hover", help="CSS selector of an element to hover")
    p.add_argument("--size", default="1440x1000", help="window size, WIDTHxHEIGHT (1440x1000)")
    args = p.parse_args(argv)
    width, height = (int(n) for n in args.size.lower().split("x"))
    print(f"wrote {screenshot(args.page, args.png, args.frame, args.hover, (width, height))}")


if __name__ == "__main__":
    main()
