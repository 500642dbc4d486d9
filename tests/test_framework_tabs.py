"""The tab extension, on the fixture book: adjacent pytorch/tensorflow cells become one
synced tab set."""

from __future__ import annotations

from bs4 import BeautifulSoup


def chapter(fixture_book):
    return BeautifulSoup((fixture_book / "chapter.html").read_text(), "html.parser")


def tab_sets(page):
    return page.select("article div.sd-tab-set")


def labels(tab_set):
    return [
        (label.get_text(strip=True), label["data-sync-group"], label["data-sync-id"])
        for label in tab_set.find_all("label", recursive=False)
    ]


def test_adjacent_framework_cells_form_one_tab_set_pytorch_first(fixture_book):
    first = tab_sets(chapter(fixture_book))[0]
    assert labels(first) == [
        ("PyTorch", "framework", "pytorch"),
        ("TensorFlow", "framework", "tensorflow"),
    ]
    contents = first.find_all("div", class_="sd-tab-content", recursive=False)
    assert (
        "pytorch one" in contents[0].get_text()
        and "tensorflow one" not in contents[0].get_text()
    )
    assert (
        "tensorflow one" in contents[1].get_text()
        and "pytorch one" not in contents[1].get_text()
    )


def test_pytorch_tab_is_selected_first(fixture_book):
    first = tab_sets(chapter(fixture_book))[0]
    checked = first.find("input", checked=True)
    assert (
        first.find("label", attrs={"for": checked["id"]})["data-sync-id"] == "pytorch"
    )


def test_untagged_cells_stay_outside_tabs_and_appear_once(fixture_book):
    page = chapter(fixture_book)
    for text in ("untagged\n", "untagged again"):
        outputs = [
            pre
            for pre in page.select("article .cell_output pre")
            if text in pre.get_text()
        ]
        assert len(outputs) == 1
        assert outputs[0].find_parent("div", class_="sd-tab-set") is None


def test_lone_tagged_cell_gets_both_tabs_and_says_which_has_no_code(fixture_book):
    lone = tab_sets(chapter(fixture_book))[1]
    assert [label[0] for label in labels(lone)] == ["PyTorch", "TensorFlow"]
    pytorch, tensorflow = lone.find_all("div", class_="sd-tab-content", recursive=False)
    assert pytorch.get_text(strip=True) == "This step has no PyTorch code."
    assert "lone tensorflow" in tensorflow.get_text()


def test_prose_between_cells_splits_runs_into_separate_tab_sets(fixture_book):
    assert len(tab_sets(chapter(fixture_book))) == 2


def test_markdown_tab_sets_share_the_framework_sync_keys(fixture_book):
    prose = tab_sets(
        BeautifulSoup((fixture_book / "prose.html").read_text(), "html.parser")
    )[0]
    assert labels(prose) == [
        ("PyTorch", "framework", "pytorch"),
        ("TensorFlow", "framework", "tensorflow"),
    ]


def test_page_without_framework_cells_gets_no_download_links(fixture_book):
    assert not BeautifulSoup(
        (fixture_book / "index.html").read_text(), "html.parser"
    ).select(".nnbook-downloads")
