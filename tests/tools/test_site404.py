"""The 404 page works wherever the site is served: no link is absolute under site_url's path."""

from __future__ import annotations

import pytest

from concurrency_patterns.tools.site404 import relocatable

PAGE = """<!doctype html><html><head>
<link rel="stylesheet" href="/site/assets/main.css">
<script>__md_scope=new URL("/site/",location)</script></head><body>
<a href="/site/.">Home</a> <a href="/site/patterns/once/">Once</a>
<a href="https://github.com/o/r">GitHub</a> <img src="/site/img/logo.svg">
<script id="__config" type="application/json">{"base": "/site/"}</script>
<script src="/site/assets/bundle.js"></script></body></html>"""


def test_every_link_under_the_published_path_becomes_relative() -> None:
    page = relocatable(PAGE, "/site/")
    assert 'href="/site/' not in page and 'src="/site/' not in page
    assert 'href="assets/main.css"' in page and 'href="patterns/once/"' in page
    assert 'href="./"' in page and 'src="img/logo.svg"' in page
    assert '"base": "."' in page and 'new URL(".",location)' in page
    assert 'href="https://github.com/o/r"' in page  # other sites' links stay as they are


def test_the_base_is_chosen_first_in_the_head_as_the_page_loads() -> None:
    page = relocatable(PAGE, "/site/")
    head = page[page.index("<head>"):page.index("<link")]
    assert "document.write('<base href=" in head
    assert 'published = "/site/"' in head and "404\\.html$" in head


def test_a_prefix_is_a_folder() -> None:
    with pytest.raises(ValueError, match="prefix"):
        relocatable(PAGE, "site")
