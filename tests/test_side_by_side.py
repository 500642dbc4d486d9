"""The framework switch in the page header and its third view, PyTorch and TensorFlow side
by side, as a reader sees them in headless Chromium: what each view shows, that the choice
is remembered and there from the first paint, the layout on wide and narrow screens, the
code fitting its column, figures in both columns, and printing."""

from __future__ import annotations

import pytest
from helpers import serve

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.browser  # and `build`: every test here reads a built book (conftest)

VIEW_KEY = "sphinx-design-tab-id-framework"  # sphinx-design's memory of the framework group
CHAPTER = "book/mlp-depth"  # the smallest chapter with cell and prose tab sets
OTHER_CHAPTER = "book/transformer"
# Side by side sizes the code font by the column, whatever the chapter, and the tabbed-view test checks every
# chapter's code (test_site_browser): these three stand for the rest, having the widest cells (attention) and
# the most figures in tab sets (ResNets, transformer). Each chapter read costs about 2 s.
SIDE_BY_SIDE_CHAPTERS = ["book/attention", "book/resnets", "book/transformer"]
WIDE = {"width": 1440, "height": 900}
NARROW = {"width": 900, "height": 900}

# For every framework tab set: the box of each framework's label and content, and whether
# the content is shown (sync id -> values).
SETS_JS = """() => [...document.querySelectorAll('div.sd-tab-set')]
  .filter(set => set.querySelector(':scope > label[data-sync-group="framework"]'))
  .map(set => Object.fromEntries([...set.querySelectorAll(':scope > label')].map(label => {
    const content = label.nextElementSibling, box = e => e.getBoundingClientRect();
    const [l, c] = [box(label), box(content)];
    return [label.dataset.syncId, {
      shown: content.getClientRects().length > 0 && getComputedStyle(content).display !== 'none',
      labelShown: label.getClientRects().length > 0 && getComputedStyle(label).display !== 'none',
      label: [l.left, l.top, l.bottom], content: [c.left, c.top, c.right, c.bottom],
      prose: !set.classList.contains('nnbook-framework-tabs')}];
  })))"""


def new_context(browser, site, viewport=WIDE):
    """A fresh reader (empty storage) who reaches only the local site: the page's one
    outside script (MathJax, from a CDN) would hold back every load until it failed."""
    context = browser.new_context(viewport=viewport)
    context.route(lambda url: not url.startswith(site), lambda route: route.abort())
    return context


def open_page(browser, site, path, viewport=WIDE, stored=None):
    """A fresh reader (empty storage, or `stored` as the remembered view) on `path`."""
    context = new_context(browser, site, viewport)
    if stored:
        context.add_init_script(f"if (!localStorage.getItem('{VIEW_KEY}')) localStorage.setItem('{VIEW_KEY}', '{stored}')")
    page = context.new_page()
    page.goto(f"{site}/{path}.html")
    return page


def framework_sets(page) -> list[dict]:
    return page.evaluate(SETS_JS)


def shown(page) -> set[tuple[str, ...]]:
    """The distinct combinations of frameworks shown by the page's framework tab sets."""
    return {tuple(f for f, box in sorted(s.items()) if box["shown"]) for s in framework_sets(page)}


def view_state(page) -> dict:
    return page.evaluate(
        f"""() => ({{view: document.documentElement.dataset.nnbookView,
            stored: localStorage.getItem('{VIEW_KEY}'),
            switch: document.querySelector('.nnbook-view-switch input:checked')?.value}})"""
    )


def choose(page, view: str) -> None:
    """Choose a view with the header switch, as a reader clicks it."""
    page.locator(f'.bd-header-article .nnbook-view-switch label[for="nnbook-view-{view}"]').click()


def test_switch_is_a_labelled_radio_group_of_three_views_in_the_article_header(browser, site):
    page = open_page(browser, site, CHAPTER)
    group = page.get_by_role("radiogroup", name="Code:")
    assert group.count() == 1 and group.locator("xpath=ancestor::div[contains(@class, 'bd-header-article')]").count() == 1
    radios = group.get_by_role("radio")
    assert [radios.nth(i).get_attribute("value") for i in range(radios.count())] == ["pytorch", "tensorflow", "side-by-side"]
    assert page.get_by_role("radio", name="Side by side").count() == 1
    assert view_state(page)["switch"] == "pytorch"
    # keyboard: into the group, then the arrow keys choose
    page.locator("#nnbook-view-pytorch").focus()
    page.keyboard.press("ArrowRight")
    assert view_state(page) == {"view": "tabbed", "stored": "tensorflow", "switch": "tensorflow"}
    page.keyboard.press("ArrowRight")
    assert view_state(page) == {"view": "side-by-side", "stored": "side-by-side", "switch": "side-by-side"}
    page.context.close()


def test_each_view_shows_its_frameworks_code_in_every_tab_set(browser, site):
    page = open_page(browser, site, CHAPTER)
    sets = framework_sets(page)
    assert len(sets) > 5 and {s["pytorch"]["prose"] for s in sets} == {True, False}  # both kinds of tab set
    assert shown(page) == {("pytorch",)}
    choose(page, "tensorflow")
    assert shown(page) == {("tensorflow",)} and view_state(page)["stored"] == "tensorflow"
    assert "torch" not in page.locator("div.sd-tab-content:visible .cell_input").first.inner_text()
    choose(page, "side-by-side")
    assert shown(page) == {("pytorch", "tensorflow")} and view_state(page)["stored"] == "side-by-side"
    choose(page, "pytorch")
    assert shown(page) == {("pytorch",)} and view_state(page)["stored"] == "pytorch"
    page.context.close()


def test_side_by_side_puts_pytorch_left_and_tensorflow_right_starting_level(browser, site):
    page = open_page(browser, site, CHAPTER, stored="side-by-side")
    for s in framework_sets(page):
        torch, tf = s["pytorch"], s["tensorflow"]
        assert torch["content"][2] < tf["content"][0]  # PyTorch's column ends before TensorFlow's starts
        assert abs(torch["content"][1] - tf["content"][1]) < 1  # the two cells of a step start level
        assert abs(torch["label"][1] - tf["label"][1]) < 1 and torch["labelShown"] and tf["labelShown"]
    # the article takes the window: both sidebars folded, the article wider than 1,300 px
    assert page.locator("#pst-primary-sidebar").is_hidden() and page.locator("#pst-secondary-sidebar").is_hidden()
    assert page.locator(".bd-article").bounding_box()["width"] > 1300
    page.locator(".bd-header-article .primary-toggle").click()  # the toggle unfolds the navigation
    assert page.locator("#pst-primary-sidebar").is_visible()
    page.context.close()


def test_side_by_side_is_remembered_on_the_next_page_and_after_a_reload(browser, site):
    page = open_page(browser, site, CHAPTER)
    choose(page, "side-by-side")
    page.goto(f"{site}/{OTHER_CHAPTER}.html")
    assert view_state(page) == {"view": "side-by-side", "stored": "side-by-side", "switch": "side-by-side"}
    assert shown(page) == {("pytorch", "tensorflow")}
    page.reload()
    assert view_state(page)["view"] == "side-by-side" and shown(page) == {("pytorch", "tensorflow")}
    # back to tabs on a page opened side by side: PyTorch was left checked in every set
    choose(page, "pytorch")
    assert view_state(page) == {"view": "tabbed", "stored": "pytorch", "switch": "pytorch"}
    assert shown(page) == {("pytorch",)}
    page.context.close()


def test_a_stored_side_by_side_view_is_laid_out_before_the_body_is_parsed(browser, site):
    """No flash of tabs: when the first tab set enters the document, while the parser is
    still running, <html> already carries the view and the set is already a grid."""
    context = new_context(browser, site)
    context.add_init_script(
        f"""localStorage.setItem('{VIEW_KEY}', 'side-by-side');
        new MutationObserver((records, observer) => {{
          const set = document.querySelector('div.sd-tab-set.nnbook-framework-set');
          if (!set || window.firstTabSet) return;
          window.firstTabSet = {{view: document.documentElement.dataset.nnbookView,
            display: getComputedStyle(set).display, readyState: document.readyState}};
          observer.disconnect();
        }}).observe(document, {{childList: true, subtree: true}});"""
    )
    page = context.new_page()
    page.goto(f"{site}/{CHAPTER}.html")
    assert page.evaluate("window.firstTabSet") == {"view": "side-by-side", "display": "grid", "readyState": "loading"}
    context.close()


def test_narrow_screen_stacks_tensorflow_below_pytorch_under_framework_headings(browser, site):
    page = open_page(browser, site, CHAPTER, viewport=NARROW, stored="side-by-side")
    for s in framework_sets(page):
        torch, tf = s["pytorch"], s["tensorflow"]
        assert torch["labelShown"] and tf["labelShown"]  # each column under its framework's name
        assert torch["label"][2] <= torch["content"][1] < tf["label"][1]
        assert tf["label"][1] >= torch["content"][3] and tf["label"][2] <= tf["content"][1]
        assert abs(torch["content"][0] - tf["content"][0]) < 1
    page.context.close()


def test_clicking_a_tab_label_side_by_side_returns_to_that_frameworks_tabs(browser, site):
    page = open_page(browser, site, CHAPTER, stored="side-by-side")
    label = page.locator('div.nnbook-framework-set > label[data-sync-id="tensorflow"]').nth(4)
    label.scroll_into_view_if_needed()
    before = label.bounding_box()["y"]
    label.click()
    assert view_state(page) == {"view": "tabbed", "stored": "tensorflow", "switch": "tensorflow"}
    assert shown(page) == {("tensorflow",)}
    assert abs(label.bounding_box()["y"] - before) < 8  # the reader's place is kept
    page.context.close()


def test_printing_shows_both_stacked_side_by_side_and_only_the_current_framework_tabbed(browser, site):
    page = open_page(browser, site, CHAPTER, stored="side-by-side")
    page.emulate_media(media="print")
    for s in framework_sets(page):
        torch, tf = s["pytorch"], s["tensorflow"]
        assert torch["shown"] and tf["shown"] and tf["label"][1] >= torch["content"][3]
    choose_in_print = "document.getElementById('nnbook-view-tensorflow').click()"  # the header is not printed
    page.evaluate(choose_in_print)
    sets = framework_sets(page)
    assert shown(page) == {("tensorflow",)}
    assert not any(s["pytorch"]["labelShown"] for s in sets) and all(s["tensorflow"]["labelShown"] for s in sets)
    page.context.close()


# --------------------------------------------------------------------------- every chapter, side by side


@pytest.fixture(scope="module")
def side_by_side_chapters(book, browser) -> dict[str, dict]:
    """Each chapter read side by side at 1,440 x 900: the code inputs that scroll sideways,
    and the cell-output figures of both columns of every tab set after scrolling to them."""
    server = serve(book / "_build" / "html")
    site = f"http://127.0.0.1:{server.server_address[1]}"
    context = new_context(browser, site)
    context.add_init_script(f"localStorage.setItem('{VIEW_KEY}', 'side-by-side')")
    page = context.new_page()
    chapters = SIDE_BY_SIDE_CHAPTERS
    measured = {}
    for chapter in chapters:
        page.goto(f"{site}/{chapter}.html")
        page.wait_for_load_state("load")  # the figures
        inputs = page.eval_on_selector_all(
            ".cell_input pre, div[class^='highlight-']:not(.output) pre",
            "blocks => blocks.filter(b => !b.closest('.cell_output'))"
            ".map(b => [b.scrollWidth - b.clientWidth, b.innerText.split('\\n')[0]])",
        )
        figures = []
        for pair in page.locator("div.nnbook-framework-set").all():
            images = [
                pair.locator(f':scope > label[data-sync-id="{framework}"] + .sd-tab-content .cell_output img')
                for framework in ("pytorch", "tensorflow")
            ]
            if not (images[0].count() or images[1].count()):
                continue
            boxes = []
            for image in images:  # the first figure of each column, scrolled to
                if not image.count():
                    boxes.append(None)
                    continue
                image.first.scroll_into_view_if_needed()
                boxes.append(image.first.evaluate(
                    "img => { const r = img.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, r.width * r.height]; }"
                ))
            figures.append(boxes)
        measured[chapter] = {"inputs": inputs, "figures": figures}
    context.close()
    server.shutdown()
    return measured


def test_no_code_input_scrolls_sideways_side_by_side_at_1440_px(side_by_side_chapters):
    blocks = sum(len(m["inputs"]) for m in side_by_side_chapters.values())
    wide = {chapter: [first for overflow, first in m["inputs"] if overflow > 0] for chapter, m in side_by_side_chapters.items()}
    assert blocks >= 20 * len(side_by_side_chapters)  # the code was found
    assert not any(wide.values()), f"code inputs scroll sideways: {wide}"


def test_every_figure_shows_in_both_columns_side_by_side(side_by_side_chapters):
    figures = [pair for m in side_by_side_chapters.values() for pair in m["figures"]]
    assert figures  # the chapters have figures in their tab sets
    for left, right in figures:
        assert left and right, "a figure in one column only"
        for box in (left, right):
            assert box[4] > 0 and box[1] >= 0 and box[3] <= WIDE["height"], box  # drawn, in the window
        assert left[2] <= right[0]  # PyTorch's left of TensorFlow's
