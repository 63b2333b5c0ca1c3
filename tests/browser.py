"""A small driver for real headless Chromium through chromedriver's W3C WebDriver HTTP API, so the
browser tests need nothing beyond httpx: start `chromedriver`, open one session, load pages,
run JavaScript, read the console and take screenshots."""

from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


class BrowserError(RuntimeError):
    pass


class Browser:
    """One chromedriver process and one headless Chromium session; use as a context manager."""

    def __init__(self, width: int = 1280, height: int = 900, start_timeout: float = 15.0) -> None:
        if not CHROMEDRIVER.exists():
            raise BrowserError(f"{CHROMEDRIVER} is missing (apt-get install chromium-driver)")
        self._profile = Path(tempfile.mkdtemp(prefix="cursor-billing-chromium-"))
        port = _free_port()
        self._driver = subprocess.Popen(
            [str(CHROMEDRIVER), f"--port={port}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30.0)
        self._session = ""
        try:
            self._wait_ready(start_timeout)
            capabilities = {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": str(CHROMIUM),
                    "args": [
                        *CHROMIUM_ARGS,
                        f"--user-data-dir={self._profile}",
                        f"--window-size={width},{height}",
                    ],
                },
                "goog:loggingPrefs": {"browser": "ALL"},
            }
            reply = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
            self._session = reply["sessionId"]
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            if self._session:
                self._http.delete(f"/session/{self._session}")
        except httpx.HTTPError:
            pass
        finally:
            self._session = ""
            self._http.close()
            if self._driver.poll() is None:
                self._driver.terminate()
                try:
                    self._driver.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._driver.kill()
                    self._driver.wait()
            shutil.rmtree(self._profile, ignore_errors=True)

    # -- what the tests use ------------------------------------------------------------------

    def set_viewport(self, width: int, height: int, mobile: bool = False) -> None:
        """Emulate a screen exactly `width` CSS pixels wide (a phone with `mobile`)."""
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    def open(self, url: str) -> None:
        self._command("POST", "/url", {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        """Run a function body (`return ...`) in the page and give back its result."""
        return self._command("POST", "/execute/sync", {"script": script, "args": list(args)})

    def console(self) -> list[dict[str, Any]]:
        """Browser console entries since the last call: [{"level", "message", ...}]."""
        return self._command("POST", "/se/log", {"type": "browser"})

    def screenshot(self, full_page: bool = False) -> bytes:
        """A PNG of the viewport, or of the whole page with `full_page`."""
        if not full_page:
            return base64.b64decode(self._command("GET", "/screenshot"))
        width, height = self.run(
            "const e = document.documentElement; return [e.scrollWidth, e.scrollHeight];"
        )
        reply = self.cdp(
            "Page.captureScreenshot",
            {
                "format": "png",
                "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
        )
        return base64.b64decode(reply["data"])

    def cdp(self, command: str, params: dict[str, Any] | None = None) -> Any:
        """A raw DevTools protocol command, through chromedriver."""
        return self._command("POST", "/goog/cdp/execute", {"cmd": command, "params": params or {}})

    # -- plumbing ----------------------------------------------------------------------------

    def _command(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"/session/{self._session}{path}", body)

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=body)
        payload = response.json()
        value = payload.get("value") if isinstance(payload, dict) else None
        if response.status_code >= 400:
            error = value.get("error") if isinstance(value, dict) else response.status_code
            message = value.get("message", "") if isinstance(value, dict) else response.text
            first_line = message.splitlines()[0] if message else ""
            raise BrowserError(f"{method} {path}: {error}: {first_line}")
        return value

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._driver.poll() is not None:
                raise BrowserError(f"chromedriver exited with {self._driver.returncode}")
            try:
                if self._http.get("/status").json()["value"]["ready"]:
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            time.sleep(0.05)
        raise BrowserError(f"chromedriver did not start within {timeout:g} s")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def png_colours(png: bytes, limit: int = 4096) -> int:
    """How many distinct colours a PNG holds (counting stops at `limit`).

    Decodes 8-bit RGB/RGBA, non-interlaced PNGs (what Chromium writes) with zlib only."""
    import struct
    import zlib

    width, height = png_size(png)
    bit_depth, colour_type, interlace = png[24], png[25], png[28]
    if bit_depth != 8 or colour_type not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG: depth {bit_depth}, type {colour_type}")
    channels = 3 if colour_type == 2 else 4
    data = bytearray()
    offset = 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        if kind == b"IDAT":
            data += png[offset + 8 : offset + 8 + length]
        offset += 12 + length
    raw = zlib.decompress(bytes(data))
    stride = width * channels
    previous = bytearray(stride)
    colours: set[bytes] = set()
    position = 0
    for _ in range(height):
        kind = raw[position]
        line = bytearray(raw[position + 1 : position + 1 + stride])
        position += 1 + stride
        _unfilter(kind, line, previous, channels)
        for x in range(0, stride, channels * 7):  # every 7th pixel is plenty
            colours.add(bytes(line[x : x + channels]))
        if len(colours) >= limit:
            break
        previous = line
    return len(colours)


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> None:
    if kind == 0:
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            upper_left = previous[i - bpp] if i >= bpp else 0
            estimate = left + up - upper_left
            pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - upper_left)
            predictor = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
            line[i] = (line[i] + predictor) & 0xFF
        else:
            raise ValueError(f"bad PNG filter {kind}")
