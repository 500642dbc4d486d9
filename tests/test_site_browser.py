"""The built site as a reader sees it, in headless Chromium: tabs switch together and are remembered,
images load, both notebook downloads are linked and fetchable."""

from __future__ import annotations

import json

import pytest

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser  # and `build`: every test here reads a built book (conftest)


def selected_frameworks(page) -> list[str]:
    """The sync id of the checked tab in every framework tab set on the page."""
    return page.eval_on_selector_all(
        "div.sd-tab-set",
        """sets => sets.filter(s => s.querySelector('label[data-sync-group="framework"]')).map(s => {
             const checked = s.querySelector(':scope > input:checked');
             return s.querySelector(`label[for="${checked.id}"]`).dataset.syncId; })""",
    )


def click_tensorflow(page) -> None:
    page.locator('label[data-sync-id="tensorflow"]').first.click()


def test_clicking_tensorflow_switches_every_tab_set_on_the_chapter(browser, site):
    page = browser.new_page()
    page.goto(f"{site}/book/layers-modules-models.html")
    assert set(selected_frameworks(page)) == {"pytorch"} and len(selected_frameworks(page)) > 3
    click_tensorflow(page)
    assert set(selected_frameworks(page)) == {"tensorflow"}
    visible = page.locator("div.sd-tab-content:visible .cell_input").first.inner_text()
    assert "torch" not in visible


def test_next_page_opens_on_the_framework_chosen(browser, fixture_site):
    page = browser.new_page()
    page.goto(f"{fixture_site}/chapter.html")
    click_tensorflow(page)
    page.goto(f"{fixture_site}/prose.html")
    assert selected_frameworks(page) == ["tensorflow"]


def test_every_image_loads(browser, site, book):
    page = browser.new_page()
    for html in sorted((book / "_build" / "html").rglob("*.html")):
        relative = html.relative_to(book / "_build" / "html").as_posix()
        if relative.startswith(("_", "genindex", "search")) or 'http-equiv="Refresh"' in html.read_text():
            continue  # Sphinx's own pages, and the root redirect to the landing page
        page.goto(f"{site}/{relative}")
        page.wait_for_load_state("load")
        broken = page.eval_on_selector_all("img", "imgs => imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
        assert not broken, f"{relative}: {broken}"


def test_both_notebook_downloads_are_linked_and_fetchable(browser, site):
    page = browser.new_page()
    page.goto(f"{site}/book/layers-modules-models.html")
    links = page.locator("a.nnbook-download")
    assert links.count() == 2
    for index, framework in enumerate(("pytorch", "tensorflow")):
        href = links.nth(index).get_attribute("href")
        assert href.endswith(f"-{framework}.ipynb")
        response = page.request.get(f"{site}/book/{href}")
        assert response.ok
        assert json.loads(response.body())["cells"][0]["metadata"]["tags"] == ["nnbook-install"]


def test_no_code_input_scrolls_sideways_in_the_tabbed_view_at_1440_px(site, browser, book):
    """The package is formatted to 88 columns and the chapters' cells are kept within 88 (a test reads them), so
    no code input (included package code, either framework's cells) scrolls sideways; outputs may."""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    chapters = sorted((book / "_build" / "html" / "book").glob("*.html"))
    too_wide, blocks = {}, 0
    for chapter in chapters:
        page.goto(f"{site}/book/{chapter.name}")
        # both frameworks' tabs laid out at once, at the width a tab has
        page.add_style_tag(content=".sd-tab-set > .sd-tab-content { display: block !important; }")
        widths = page.eval_on_selector_all(
            "div.highlight pre",
            "blocks => blocks.filter(b => !b.closest('.cell_output'))"
            ".map(b => [b.scrollWidth - b.clientWidth, b.innerText.split('\\n')[0]])",
        )
        blocks += len(widths)
        wide = [first for overflow, first in widths if overflow > 1]
        if wide:
            too_wide[chapter.name] = wide
    page.close()
    assert len(chapters) >= 10 and blocks >= 250  # the included code and both frameworks' cells were found
    assert not too_wide, f"code scrolls sideways: {too_wide}"
