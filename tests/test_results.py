"""The results page: `nnbook.page.result` halves, paired by the extension into tables
with links, on a small fixture book; a half without its partner fails the build."""

from __future__ import annotations

import shutil

import pytest
from bs4 import BeautifulSoup
from helpers import FIXTURES, assert_built, build_book

from nnbook import page
from nnbook.sphinxext.results import difference

RESULTS_BOOK = FIXTURES / "results_book"


# --------------------------------------------------------------- page.result


def declare(**changes):
    arguments = {
        "key": "acc",
        "framework": "pytorch",
        "value": 0.5,
        "kind": "accuracy",
        "label": "test accuracy",
        **changes,
    }
    return page.result(
        arguments.pop("key"), arguments.pop("framework"), arguments.pop("value"),
        **arguments,
    )


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"framework": "torch"}, "framework: expected one of ['pytorch', 'tensorflow'], got 'torch'"),
        ({"kind": "speedy"}, "kind: expected one of ['accuracy', 'loss', 'speed', 'parity']"),
        ({"value": float("nan")}, "value: expected a finite number, got nan"),
        ({"value": True}, "value: expected a finite number, got True"),
        ({"key": "two words"}, "key: expected an identifier, got 'two words'"),
        ({"label": " "}, "label: expected a non-empty label, got ' '"),
        ({"fmt": "{:d}"}, 'fmt: expected a format such as "{:.3g}", got {:d}'),
        ({"tolerance": 0}, "tolerance: expected a positive number, got 0"),
    ],
)
def test_a_bad_argument_to_result_is_refused_naming_it(changes, message):
    with pytest.raises(ValueError) as error:
        declare(**changes)
    assert str(error.value).startswith(message)


def test_result_outside_a_kernel_returns_the_value_as_a_float():
    value = declare(value=__import__("numpy").float32(0.25))
    assert value == 0.25 and type(value) is float


def test_the_difference_column_subtracts_divides_speeds_and_bounds_parity():
    def half(kind, value, fmt):
        return {"kind": kind, "value": value, "fmt": fmt}

    assert difference(half("accuracy", 0.75, "{:.1%}"), half("accuracy", 0.5, "{:.1%}")) == "-25.0%"
    assert difference(half("loss", 1.0, "{:.3f}"), half("loss", 1.25, "{:.3f}")) == "+0.250"
    assert difference(half("speed", 1000, "{:,.0f}"), half("speed", 1500, "{:,.0f}")) == "1.50×"
    assert difference(half("parity", 2e-4, "{:.1e}"), half("parity", 3e-4, "{:.1e}")) == "≤ 5.0e-04"


# --------------------------------------------------------------- the fixture book


@pytest.fixture(scope="module")
def results_book(tmp_path_factory):
    """A copy of the results fixture book, built once; returns (source, output)."""
    folder = tmp_path_factory.mktemp("results-book")
    source, output = folder / "source", folder / "output"
    shutil.copytree(RESULTS_BOOK, source)
    assert_built(build_book(source, output))
    return source, output


def html(output, name):
    return BeautifulSoup((output / "_build" / "html" / f"{name}.html").read_text(), "html.parser")


def rows(output):
    table = html(output, "results").select_one("article table.nnbook-results")
    return [[cell.get_text(strip=True) for cell in row.find_all("td")] for row in table.select("tbody tr")]


@pytest.mark.build
def test_the_results_page_pairs_both_frameworks_values_in_one_row(results_book):
    _, output = results_book
    assert [row[:5] for row in rows(output)] == [
        ["fixture test accuracy", "75.0%", "50.0%", "-25.0%", "—"],
        ["fixture training", "1,000 images/s", "1,500 images/s", "1.50×", "—"],
        ["helper gap", "2.0e-04", "3.0e-04", "≤ 5.0e-04", "1.0e-03"],
    ]


@pytest.mark.build
def test_each_row_links_to_the_section_of_the_cell_that_computed_it(results_book):
    _, output = results_book
    page_html = html(output, "results")
    links = [row.find_all("td")[-1].find("a")["href"] for row in page_html.select("table.nnbook-results tbody tr")]
    # the helper function's half belongs to the cell that called it
    assert links == ["chapter.html#training", "chapter.html#training", "chapter.html#parity"]
    chapter = html(output, "chapter")
    for link in links:
        assert chapter.find(id=link.split("#")[1]) is not None, link
    assert page_html.select_one("article p.nnbook-results-chapter a")["href"] == "chapter.html"


@pytest.mark.build
def test_declaring_a_result_adds_nothing_to_the_cell_output(results_book):
    _, output = results_book
    outputs = " ".join(o.get_text() for o in html(output, "chapter").select("article .cell_output"))
    assert "pytorch trained" in outputs and "fixture test accuracy" not in outputs


@pytest.mark.build
def test_a_changed_chapter_updates_the_results_page_and_a_lone_half_fails_the_build(results_book):
    source, output = results_book
    chapter = source / "chapter.md"
    text = chapter.read_text()
    # an incremental build: only the chapter changed, yet the results page follows it
    chapter.write_text(text.replace('"tensorflow", 0.5,', '"tensorflow", 0.625,'))
    assert_built(build_book(source, output))
    assert rows(output)[0][2] == "62.5%"
    # TensorFlow's speed half removed: PyTorch's has no partner
    lone = text.replace('page.result("fixture_speed", "tensorflow", 1500, kind="speed", label="fixture training",\n'
                        '            unit="images/s")\n', "")
    assert lone != text
    chapter.write_text(lone)
    result = build_book(source, output)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "result 'fixture_speed': no TensorFlow half" in log
    assert "chapter.md:" in log  # the location of the PyTorch half's cell


# --------------------------------------------------------------- the whole book


def test_every_chapter_declaring_results_has_paired_rows_on_the_results_page(book):
    """Uses the session's quick book: each chapter whose cells call `page.result` has a
    table whose rows all hold both frameworks' values."""
    from helpers import REPO

    declaring = sorted(path.stem for path in (REPO / "book").glob("*.md") if "page.result(" in path.read_text())
    assert len(declaring) >= 8
    results = html(book, "book/results")
    headings = results.select("article p.nnbook-results-chapter a")
    assert sorted(a["href"].removesuffix(".html") for a in headings) == declaring
    for heading in headings:
        table = heading.find_parent("p").find_next_sibling("div").select_one("table.nnbook-results")
        table_rows = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in table.select("tbody tr")]
        assert table_rows, heading["href"]
        assert all(row[1] != "—" and row[2] != "—" for row in table_rows), heading["href"]
