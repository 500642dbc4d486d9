"""The repository, "suggest edit" and "open issue" buttons, where the book's repository
is known.

Jupyter Book takes the repository from `_config.yml`, but the book's address is only
known where it is published: the publishing workflow sets `NNBOOK_REPOSITORY_URL`
(read as `nnbook_repository_url`, with the branch `nnbook_repository_branch`). With an
address, every page shows the theme's three buttons, the edit link pointing at the
page's source in the repository; without one (a local build) it shows none, rather
than buttons pointing at Jupyter Book's own repository (its default, which would also
become the repository the notebooks install `nnbook` from). A malformed address fails
the build, naming where it came from.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import yaml

from nnbook import checks

from .git import git

# the providers sphinx-book-theme builds edit and issue links for
REPOSITORY_URL = re.compile(
    r"https://[\w.-]*(github|gitlab|bitbucket)[\w.-]*/[\w.-]+/[\w.-]+(?<!\.git)"
)
REPOSITORY_BUTTONS = (
    "use_repository_button",
    "use_edit_page_button",
    "use_issues_button",
)


def repository_source(config) -> str:
    """Where the configured repository address came from, as a reader would set it."""
    from_environment = os.environ.get("NNBOOK_REPOSITORY_URL", "")
    if from_environment and from_environment == config.nnbook_repository_url:
        return "NNBOOK_REPOSITORY_URL"
    return "nnbook_repository_url (or repository.url in _config.yml)"


def check_repository_url(name: str, url: str) -> str:
    """`url` when it is a repository's web address the theme can link to."""
    checks.require(
        name,
        bool(REPOSITORY_URL.fullmatch(url)),
        "a repository's web address such as https://github.com/OWNER/REPOSITORY "
        "(GitHub, GitLab or Bitbucket; no trailing slash or .git)",
        repr(url),
    )
    return url


def path_in_repository(folder: Path) -> str:
    """`folder` relative to the root of its git checkout ("" at the root or outside
    a checkout): where the theme finds a page's source in the repository."""
    return (git(folder, "rev-parse", "--show-prefix") or "").rstrip("/")


@lru_cache
def jupyter_books_own_repository() -> str:
    """The `repository.url` Jupyter Book fills in when `_config.yml` names none: its
    own."""
    from jupyter_book.config import PATH_YAML_DEFAULT

    return yaml.safe_load(PATH_YAML_DEFAULT.read_text())["repository"]["url"]


def _drop_jupyter_books_own_repository(app, config) -> None:
    """A book whose `_config.yml` names no repository has none: runs before the
    notebooks' set-up reads the theme's repository (priority 500)."""
    options = config.html_theme_options or {}
    if options.get("repository_url") == jupyter_books_own_repository():
        options["repository_url"] = ""


def _repository_buttons(app, config) -> None:
    """The theme's repository options, from the repository the book knows of."""
    options = config.html_theme_options = dict(config.html_theme_options or {})
    url = config.nnbook_repository_url
    if url:
        check_repository_url(repository_source(config), url)
        options.update(
            repository_url=url,
            repository_branch=config.nnbook_repository_branch or "main",
            path_to_docs=path_in_repository(Path(app.srcdir)),
        )
    options.update(dict.fromkeys(REPOSITORY_BUTTONS, bool(url)))


def setup_repository_buttons(app) -> None:
    """The theme's repository buttons from `nnbook_repository_url`.

    Set after the notebooks' set-up, which registers `nnbook_repository_url` and
    resolves it from `_config.yml`'s repository when unset (priority 500)."""
    app.connect("config-inited", _drop_jupyter_books_own_repository, priority=400)
    app.connect("config-inited", _repository_buttons, priority=600)
