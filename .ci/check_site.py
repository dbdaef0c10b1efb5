"""Open the built docs site in headless Chromium, as a reader would, and check what it shows.

Serves ``site/`` on 127.0.0.1, loads every page with Chromium (JavaScript on), and fails if a
pattern page lacks its tabs, its code or its benchmark table, if a tab's code is more than an
excerpt or wider than its tab at a 1280-pixel window, if an image is missing or comes from
another host (the site must work offline), if any page shows a snippet marker or a
traceback, or if the 404 page holds an absolute link (it must work wherever the site is
served). Screenshots go to a
temporary directory, never into the repository.

Usage: python .ci/check_site.py [SITE_DIR]
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from concurrency_patterns.tools.compare import CHART_DPI, CHART_MIN_PT
from concurrency_patterns.tools.excerpts import MAX_LINES
from concurrency_patterns.tools.registry import PATTERNS

OTHER_PAGES = ["", "choosing/", "free-threading/", "distributed/", "benchmarks/", "claims/",
               "methodology/", "reference/", "reference/asyncio/", "reference/anyio/",
               "reference/threads/", "reference/processes/", "reference/shared/",
               "go-to-python/", "changelog/"]
MIN_CHART_TEXT_PX = 12  # a chart's smallest text, as shown at a 1280-pixel window
# The flags a root process needs to run Chromium headless on a machine with no network.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    sys.exit("check_site: no Chromium found (apt-get install chromium)")


def render(browser: str, profile: str, url: str, screenshot: Path | None = None) -> str:
    """The page's DOM after its scripts ran."""
    command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
               "--virtual-time-budget=3000", "--dump-dom", url]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    if screenshot is not None:
        subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                        "--window-size=1280,2400", f"--screenshot={screenshot}", url],
                       capture_output=True, timeout=120)
    return dom


def check_page(dom: str, site: Path, page: str) -> list[str]:
    problems = []
    if "<body" not in dom:
        return [f"{page}: did not render"]
    text = re.sub(r"<[^>]+>", " ", dom)
    for bad in ("--8<--", "Traceback (most recent call last)", "Snippet not found"):
        if bad in text:
            problems.append(f"{page}: shows {bad!r}")
    for src in re.findall(r'<img[^>]+src="([^"]+)"', dom):
        if not src.startswith(("http", "data:")):
            target = (site / page / src).resolve()
            if not target.exists():
                problems.append(f"{page}: image {src} is missing")
    # The site works offline: nothing it shows or runs comes from another host (an image, a
    # script, a style sheet or a font would be missing without the network).
    for tag, url in re.findall(r'<(img|script|link|source)\b[^>]*?(?:src|href)="(https?://[^"]+)"',
                               dom):
        if tag != "link" or re.search(r"\.(css|woff2?|ttf)(\?|$)", url):
            problems.append(f"{page}: loads {url} from another host")
    return problems


def check_pattern(dom: str, slug: str, title: str) -> list[str]:
    problems = []
    if title.replace("–", "&ndash;") not in dom and title not in dom:
        problems.append(f"{slug}: the page does not show its title {title!r}")
    labels = re.findall(r'<label[^>]*for="__tabbed_[^"]*"[^>]*>(.*?)</label>', dom, re.S)
    labels = [re.sub(r"<[^>]+>", "", label).strip() for label in labels]
    for wanted in ("asyncio", "Go"):
        if wanted not in labels:
            problems.append(f"{slug}: no {wanted!r} tab (tabs: {labels})")
    if dom.count('class="highlight') < len(labels):
        problems.append(f"{slug}: a tab has no code")
    if "vs Go" not in dom:
        problems.append(f"{slug}: no benchmark table")
    # Each tab shows an excerpt, the lines that are the pattern, with a link to the whole file.
    for code in re.findall(r"<pre[^>]*>\s*<code[^>]*>(.*?)</code>", dom, re.S):
        lines = html.unescape(re.sub(r"<[^>]+>", "", code)).strip("\n").count("\n") + 1
        if lines > MAX_LINES:
            problems.append(f"{slug}: a code block of {lines} lines (an excerpt has at most "
                            f"{MAX_LINES})")
    if "the whole file" not in dom:
        problems.append(f"{slug}: no link to the whole file under the code")
    return problems


# Injected into a copy of a pattern page: show every tab's block at once, then report each
# code block that is wider than its box (it would scroll) at a 1280-pixel window.
WIDTH_PROBE = """
<style>.tabbed-set > .tabbed-content > .tabbed-block { display: block !important; }</style>
<script>
addEventListener("load", () => {
  const wide = [];
  document.querySelectorAll(".md-content pre > code").forEach((code) => {
    if (code.scrollWidth > code.clientWidth + 1) {
      const lines = code.textContent.split("\\n");
      const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), "");
      wide.push(code.scrollWidth + "px in " + code.clientWidth + "px: "
                + longest.trim().slice(0, 60));
    }
  });
  // Each chart: the share of its own width it is shown at (text shrinks with it).
  const charts = [];
  document.querySelectorAll(".md-content img").forEach((img) => {
    const src = img.getAttribute("src");
    if (img.naturalWidth) charts.push([src, img.clientWidth / img.naturalWidth]);
  });
  const out = document.createElement("pre");
  out.id = "code-width-check";
  out.textContent = JSON.stringify({window: innerWidth, wide: wide, charts: charts});
  document.body.appendChild(out);
});
</script>
"""


def check_code_width(browser: str, profile: str, site: Path, base: str, page: str) -> list[str]:
    """Every code block of *page*, each tab shown, fits its box at a 1280-pixel window, and
    every chart is shown large enough for its text to be 12 pixels or more."""
    original = site / page / "index.html"
    probe = site / page / "code-width-check.html"
    probe.write_text(original.read_text().replace("</body>", WIDTH_PROBE + "</body>"))
    command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,900",
               "--virtual-time-budget=3000", "--dump-dom", base + page + "code-width-check.html"]
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120).stdout
    probe.unlink()
    found = re.search(r'<pre id="code-width-check">(.*?)</pre>', dom, re.S)
    if found is None:
        return [f"{page}: the code-width probe did not run"]
    report = json.loads(html.unescape(found.group(1)))
    problems = [f"{page}: code wider than its tab at {report['window']} px: {w}"
                for w in report["wide"]]
    # Chart text: compare draws none smaller than CHART_MIN_PT at CHART_DPI; shown at a
    # fraction of its width, it is that much smaller on screen.
    for src, shown in report["charts"]:
        pixels = CHART_MIN_PT * CHART_DPI / 72 * min(shown, 1.0)
        if "generated/" in src and pixels < MIN_CHART_TEXT_PX:
            problems.append(f"{page}: {src} shows its smallest text at {pixels:.1f} px "
                            f"(at least {MIN_CHART_TEXT_PX})")
    return problems


def check_claims(dom: str) -> list[str]:
    """The ledger shows every claim, each with its own section and a verdict."""
    from concurrency_patterns.tools.claims import ORDER

    problems = [f"claims: no section for {c}" for c in ORDER if f'id="{c}"' not in dom]
    verdicts = len(re.findall(r"holds only partly|does not hold|not measured|holds", dom))
    if verdicts < 2 * len(ORDER):  # once in the summary, once in the section
        problems.append(f"claims: only {verdicts} verdicts shown for {len(ORDER)} claims")
    return problems


def check_404(dom: str) -> list[str]:
    """The 404 page, served here from the root rather than the published path, still finds
    its style sheet, scripts and links: none is absolute, and a <base> points at the site."""
    problems = []
    if '<base href="/">' not in dom:
        problems.append("404.html: no <base> chosen for where the site is served")
    absolute = re.findall(r'<(?!base\b)\w+[^>]*?\b(?:href|src)="(/[^"]*)"', dom)
    if absolute:
        problems.append(f"404.html: absolute links {sorted(set(absolute))[:3]}")
    return problems


def main() -> int:
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "site").resolve()
    if not (site / "index.html").exists():
        sys.exit(f"check_site: {site} has no index.html; run mkdocs build first")
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    browser = chromium()
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as profile, tempfile.TemporaryDirectory() as shots:
        for pattern in PATTERNS:
            slug = pattern.slug
            page = f"patterns/{slug}/"
            shot = Path(shots) / f"{slug}.png" if slug == "bounded_fetch" else None
            dom = render(browser, profile, base + page, shot)
            problems += check_page(dom, site, page) + check_pattern(dom, slug, pattern.title)
            problems += check_code_width(browser, profile, site, base, page)
            print(f"  {page:32s} {'ok' if not problems else 'problems'}")
        for page in OTHER_PAGES:
            dom = render(browser, profile, base + page)
            problems += check_page(dom, site, page)
            if page == "claims/":
                problems += check_claims(dom)
            print(f"  {page or '(home)':32s} {'ok' if not problems else 'problems'}")
        problems += check_404(render(browser, profile, base + "404.html"))
        print(f"  {'404.html':32s} {'ok' if not problems else 'problems'}")
    server.shutdown()
    for problem in problems:
        print(f"check_site: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
