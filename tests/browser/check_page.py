#!/usr/bin/python3
"""Opens an HTML page in headless Chromium (Selenium + chromedriver, Debian packages
python3-selenium, chromium, chromium-driver) and checks what a reader would see:

- every <img> has loaded (complete and naturalWidth > 0),
- the browser logged no console error (a CSP refusal, a broken image and a script error
  all land there),
- no request failed and none left the page: every request is the page itself (file:) or a
  data: URI,
- on a phone-sized screen (390 px wide) the page does not scroll sideways,
- the page prints (Chromium's print-to-PDF succeeds).

It saves a desktop screenshot (full page), a phone screenshot and the PDF into OUT_DIR.
Usage: check_page.py PAGE.html OUT_DIR NAME. Prints one line per problem; exit status 1 when
there is any, 2 when the browser cannot be started.
"""

import base64
import json
import os
import pathlib
import shutil
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = os.environ.get("SSTCAST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SSTCAST_CHROMEDRIVER", "/usr/bin/chromedriver")


def start(profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ]:
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)


IMAGES = """
return Array.from(document.images).map(i => ({
  src: i.getAttribute('src').slice(0, 40), alt: i.alt,
  complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}));
"""


def network_problems(driver, page_url):
    """Requests made by the page (the browser's own, its new-tab page, say, are not the
    page's): each must be the page itself or a data: URI, and none may fail."""
    problems, ours = [], set()
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        method, params = msg.get("method", ""), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not params.get("documentURL", "").startswith(page_url) and url != page_url:
                continue
            ours.add(params["requestId"])
            if not (url.startswith("data:") or url.split("#")[0] == page_url):
                problems.append(f"request leaves the page: {url[:120]}")
        elif method == "Network.loadingFailed" and params.get("requestId") in ours:
            reason = params.get("blockedReason") or params.get("errorText")
            problems.append(f"request failed: {reason}")
    return problems


def check(driver, page, out, name):
    problems = []
    url = page.resolve().as_uri()
    driver.get_log("performance")  # the browser's start-up requests
    driver.get(url)
    images = driver.execute_script(IMAGES)
    if not images:
        problems.append("the page has no image")
    for i in images:
        if not i["complete"] or i["w"] == 0 or i["h"] == 0:
            problems.append(f"image did not load: {i['alt'] or i['src']}")
    for entry in driver.get_log("browser"):
        if entry["level"] in ("SEVERE", "ERROR"):
            problems.append(f"console: {entry['message'][:300]}")
    problems += network_problems(driver, url)
    # Desktop: the whole page in one image.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": min(height, 16000), "deviceScaleFactor": 1, "mobile": False},
    )
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    (out / f"{name}-desktop.png").write_bytes(base64.b64decode(shot["data"]))
    # Phone: 390 px wide, no sideways scrolling.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
    )
    driver.get(url)
    wide = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    if wide[0] > wide[1]:
        problems.append(f"on a 390 px phone the page is {wide[0]} px wide (scrolls sideways)")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    (out / f"{name}-phone.png").write_bytes(base64.b64decode(shot["data"]))
    pdf = driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
    data = base64.b64decode(pdf["data"])
    if not data.startswith(b"%PDF"):
        problems.append("print to PDF failed")
    (out / f"{name}.pdf").write_bytes(data)
    for entry in driver.get_log("browser"):
        if entry["level"] in ("SEVERE", "ERROR"):
            problems.append(f"console: {entry['message'][:300]}")
    print(f"{len(images)} image(s) checked; screenshots, PDF in {out}")
    return problems


def main():
    page, out, name = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
    out.mkdir(parents=True, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="sstcast-chromium-")
    try:
        try:
            driver = start(profile)
        except Exception as e:  # noqa: BLE001 - any failure to start is reported as such
            print(f"cannot start Chromium: {e}")
            return 2
        try:
            problems = check(driver, page, out, name)
        finally:
            driver.quit()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    for p in dict.fromkeys(problems):
        print(f"PROBLEM: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
