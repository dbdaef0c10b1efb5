"""The site's 404 page, made to work wherever the site is served.

mkdocs writes ``404.html`` with absolute links under ``site_url``'s path
(``/concurrency-patterns/assets/...``): right on the published site, broken anywhere else —
a copy served from another path, or the built folder opened from disk, shows a page without
its style sheet, scripts or working links. This mkdocs hook (``hooks:`` in ``mkdocs.yml``)
makes every such link relative, and puts a ``<base>`` first in the page's head, chosen as it
loads: the published path when the address starts with it, the folder of ``404.html`` when the
page was opened by name, and the server's root otherwise (the page a server answers with for
any missing address, at any depth).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = ["on_post_build", "relocatable"]

_BASE = """<script>(function () {
  var path = location.pathname, published = %s;
  var base = path.indexOf(published) === 0 ? published
    : /\\/404\\.html$/.test(path) ? path.replace(/404\\.html$/, "") : "/";
  document.write('<base href="' + base + '">');
})();</script>"""


def relocatable(page: str, prefix: str) -> str:
    """*page* (the 404 page's HTML) with every link under *prefix* (``/name/``) relative, and
    a ``<base>`` that the page chooses when it loads."""
    if not prefix.startswith("/") or not prefix.endswith("/"):
        raise ValueError(f"prefix must start and end with '/', got {prefix!r}")
    escaped = re.escape(prefix)
    page = re.sub(rf'(\b(?:href|src)=")({escaped})', r"\1", page)
    page = re.sub(rf'("base":\s*")({escaped})', r"\1.", page)  # Material's own config
    page = re.sub(rf'(new URL\(")({escaped})(")', r"\1.\3", page)  # ... and its storage scope
    page = page.replace('href=""', 'href="./"').replace('href="."', 'href="./"')
    script = _BASE % ('"' + prefix + '"')
    return re.sub(r"<head>", lambda m: m.group(0) + "\n" + script, page, count=1)


def on_post_build(config: Any, **_: Any) -> None:
    """The mkdocs hook: rewrite the built ``404.html``."""
    page = Path(config["site_dir"]) / "404.html"
    prefix = urlsplit(config.get("site_url") or "/").path or "/"
    if not prefix.endswith("/"):
        prefix += "/"
    if page.exists() and prefix != "/":
        page.write_text(relocatable(page.read_text(), prefix))
