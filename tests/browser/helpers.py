"""What several browser tests do alike: sign in through the form, drop a file on a drop
zone, make a real image to drop, wait on a promise of the page with a limit, and ask axe-core
for the serious violations."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


def sign_in(page, username: str, password: str = "demo") -> None:
    """Sign in through the login form, as whoever was signed in before signs out."""
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()


def drop_file(page, target: str, name: str, content: bytes, mime: str) -> None:
    """Drop one file on ``target`` as a drag from the desktop does (a DataTransfer)."""
    transfer = page.evaluate_handle(
        """([bytes, name, mime]) => {
             const transfer = new DataTransfer();
             transfer.items.add(new File([new Uint8Array(bytes)], name, {type: mime}));
             return transfer;
           }""", [list(content), name, mime])
    page.dispatch_event(target, "drop", {"dataTransfer": transfer})


def small_png() -> bytes:
    """A real 2×2 grey PNG, made here, standing in for a scanned letter."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"\x80" * 2 for _row in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


_TIMED_OUT = "__pd_timed_out__"


def within(page, function: str, arg=None, seconds: float = 20):
    """What ``function`` (JavaScript, taking ``arg``, returning a promise) resolves to in the
    page, or a failure after ``seconds``: ``page.evaluate`` has no timeout of its own, and a
    promise that never settles (a service worker that never takes control, say) would
    otherwise hold the whole run. The limit is composed here, not in the page, whose
    Content Security Policy forbids eval."""
    limited = f"""arg => Promise.race([
      Promise.resolve(({function})(arg)),
      new Promise(resolve => setTimeout(() => resolve("{_TIMED_OUT}"), {int(seconds * 1000)}))])"""
    result = page.evaluate(limited, arg)
    assert result != _TIMED_OUT, f"the page did not answer within {seconds} s: {function}"
    return result


def axe_violations(page) -> list[dict]:
    """Run axe-core's WCAG 2.1 A/AA rules on the page; return its serious or critical violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: a <script> tag with the text inline
        # would be refused by the Content Security Policy (script-src 'self').
        page.evaluate(AXE.read_text())
    # resultTypes: details for violations only, which makes the run quicker
    violations = within(
        page, "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']}).then(results => results.violations)", WCAG_21_AA,
        seconds=60)
    return [violation for violation in violations if violation["impact"] in BLOCKING]
