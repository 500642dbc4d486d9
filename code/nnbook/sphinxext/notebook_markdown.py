"""Markdown cells of a downloaded notebook, for Jupyter and Colab (which lack MyST).

Three constructs of the book's chapters are resolved for one framework, found and read
by the parsers that build the page (myst-parser's Markdown and directive parsers):

- a framework tab set keeps only that framework's tab;
- `literalinclude` becomes the included source as a fenced code block, read by Sphinx's
  own `LiteralIncludeReader` with the directive's options, so the notebook shows what
  the page shows (`:pyobject:`, `:lines:`, `:start-after:`, `:dedent:`, ...);
- `{glue}` roles become the values the build glued.

Everything else stays as written.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.directives import parse_directive_text
from myst_parser.parsers.mdit import create_md_parser
from sphinx.config import Config
from sphinx.directives.code import LiteralInclude, LiteralIncludeReader
from sphinx_design.tabs import TabItemDirective, TabSetDirective

from .framework_tabs import SYNC_GROUP

# A role, not a directive: it has no parser of its own to reuse.
_GLUE = re.compile(r"\{glue(?::text|:any|:)?\}`(?P<name>[^`]+)`")
_BACKTICK_RUN = re.compile(r"`+")


def _colon_fences() -> MdParserConfig:
    """myst-parser's settings with the `:::` fences the chapters' tab sets use."""
    return MdParserConfig(enable_extensions={"colon_fence"})


@dataclass(frozen=True)
class ChapterContext:
    """What a chapter's markdown is resolved against, as the page resolves it."""

    source_dir: Path  # the chapter's folder: relative `literalinclude` paths start here
    glued: Mapping[str, str] = field(default_factory=dict)  # glued text, by name
    book_dir: Path | None = None  # Sphinx's source folder: where `/...` paths start
    sphinx_config: Config = field(default_factory=Config)  # gives the source encoding
    myst_config: MdParserConfig = field(default_factory=_colon_fences)  # the page's

    @cached_property
    def markdown_parser(self) -> MarkdownIt:
        return create_md_parser(self.myst_config, RendererHTML)

    def include_path(self, filename: str) -> str:
        """`filename` as Sphinx's `env.relfn2path` resolves it for this chapter."""
        if not filename.startswith("/"):
            return os.path.normpath(Path(self.source_dir, filename))
        if self.book_dir is None:
            raise ValueError(
                f"literalinclude: {filename!r} starts at the book's folder, "
                "but ChapterContext.book_dir is None"
            )
        return os.path.normpath(Path(self.book_dir, filename[1:]))


def glue_values(glue_file: Path) -> dict[str, str]:
    """The text of every value a chapter glued, by name, from the `<page>.glue.json`
    myst-nb writes beside the executed notebook (it takes the glue outputs out of the
    notebook itself)."""
    if not glue_file.is_file():
        return {}
    return {
        name: output["data"].get("text/plain", "")
        for name, output in json.loads(glue_file.read_text()).items()
    }


def for_framework(markdown: str, framework: str, chapter: ChapterContext) -> str:
    """`markdown` as the `framework` notebook shows it."""
    # Glue first, so that included source is never taken for a role.
    markdown = _GLUE.sub(
        lambda role: chapter.glued.get(role["name"], role[0]), markdown
    )
    return _resolve_directives(markdown, framework, chapter)


def _lines(text: str) -> list[str]:
    """`text` split after each newline, as Markdown counts lines (not `splitlines`,
    which also splits at form feeds and Unicode separators)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


@dataclass(frozen=True)
class _Directive:
    """A fenced directive of a Markdown text, as myst-parser runs it."""

    name: str
    argument: str  # the rest of the opening line
    content: str  # options and body, as the directive parser reads them
    markdown: str  # the text between the fences, unindented
    first: int  # the opening line's index in the text
    end: int  # one past the closing line's index
    colon_fence: bool
    indent: str  # the spaces before the opening fence


def _directives(markdown: str, parser: MarkdownIt) -> list[_Directive]:
    """The fenced directives of `markdown` in order, outermost only (their content is
    parsed when they run, as myst-parser parses it)."""
    lines = _lines(markdown)
    found = (_directive(token, lines) for token in parser.parse(markdown))
    return [directive for directive in found if directive is not None]


def _directive(token: Token, lines: list[str]) -> _Directive | None:
    if token.type not in ("fence", "colon_fence") or not token.map:
        return None
    name, *argument = (token.info or "").strip().split(maxsplit=1)  # as myst-parser
    if not (name.startswith("{") and name.endswith("}")):
        return None
    first, end = token.map
    opening = lines[first]
    indent = opening[: len(opening) - len(opening.lstrip(" "))]
    if not opening.lstrip(" ").startswith(token.markup):
        return None  # a fence inside a list item or quote: left as written
    content = token.content
    if token.type == "colon_fence" and content.startswith(":::"):
        # myst-parser's rule: a nested fence first is body, not an option line
        content = "\n" + content
    return _Directive(
        name=name[1:-1],
        argument=argument[0] if argument else "",
        content=content,
        markdown=token.content,
        first=first,
        end=end,
        colon_fence=token.type == "colon_fence",
        indent=indent,
    )


def _body(content: str, offset: int) -> str:
    return "".join(_lines(content)[offset:])


def _indented(text: str, indent: str) -> list[str]:
    return [indent + line if line.strip() else line for line in _lines(text)]


def _resolve_directives(markdown: str, framework: str, chapter: ChapterContext) -> str:
    lines = _lines(markdown)
    # last first, so that replacing one leaves the line numbers of the others valid
    for directive in reversed(_directives(markdown, chapter.markdown_parser)):
        replacement = _replacement(directive, lines, framework, chapter)
        if replacement is not None:
            lines[directive.first : directive.end] = replacement
    return "".join(lines)


def _replacement(
    directive: _Directive, lines: list[str], framework: str, chapter: ChapterContext
) -> list[str] | None:
    """The lines that replace `directive` in the notebook, or None to keep it."""
    if directive.name == "literalinclude":
        block = _code_block(directive, chapter)
        if not lines[directive.end - 1].endswith("\n"):
            block = block.removesuffix("\n")  # the text ended with the directive
        return _indented(block, directive.indent)
    if not directive.colon_fence:
        return None  # a code cell, or a directive whose body is not Markdown
    if directive.name == "tab-set":
        tab_set = parse_directive_text(
            TabSetDirective, directive.argument, directive.content
        )
        if tab_set.options.get("sync-group") == SYNC_GROUP:
            own_tab = _framework_tab(
                _body(directive.content, tab_set.body_offset), framework, chapter
            )
            return _indented(own_tab, directive.indent)
    # Any other Markdown-bodied directive: resolve what it holds, keep its fences.
    resolved = _resolve_directives(directive.markdown, framework, chapter)
    if resolved == directive.markdown:
        return None
    content_end = directive.first + 1 + len(_lines(directive.markdown))
    return (
        [lines[directive.first]]
        + _indented(resolved, directive.indent)
        + lines[content_end : directive.end]
    )


def _framework_tab(tab_items: str, framework: str, chapter: ChapterContext) -> str:
    """The resolved body of the tab item synced to `framework`, or "" when none is."""
    for item in _directives(tab_items, chapter.markdown_parser):
        if item.name != "tab-item":
            continue
        parsed = parse_directive_text(TabItemDirective, item.argument, item.content)
        if parsed.options.get("sync") == framework:
            body = _body(item.content, parsed.body_offset)
            return _resolve_directives(body, framework, chapter)
    return ""


def _code_block(directive: _Directive, chapter: ChapterContext) -> str:
    """A `literalinclude` as the fenced code block a notebook renders: the text the
    page shows, read as Sphinx's directive reads it (`LiteralInclude.run`)."""
    parsed = parse_directive_text(LiteralInclude, directive.argument, directive.content)
    options = dict(parsed.options)
    language = options.get("language", "udiff" if "diff" in options else "python")
    if "diff" in options:
        options["diff"] = chapter.include_path(options["diff"])
    filename = chapter.include_path(parsed.arguments[0])
    code, _ = LiteralIncludeReader(filename, options, chapter.sphinx_config).read()
    code = code if code.endswith("\n") else code + "\n"
    # a fence longer than any run of backticks in the code, so the code cannot close it
    longest_run = max(map(len, _BACKTICK_RUN.findall(code)), default=0)
    fence = "`" * max(3, longest_run + 1)
    return f"{fence}{language}\n{code}{fence}\n"
