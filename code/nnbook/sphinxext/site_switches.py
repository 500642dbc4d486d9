"""What a reader expects of a well-kept book's site, set where Jupyter Book 1 cannot.

- Repository buttons. Jupyter Book takes the repository from `_config.yml`, but the
  book's address is only known where it is published: the publishing workflow sets
  `NNBOOK_REPOSITORY_URL` (read as `nnbook_repository_url`, with the branch
  `nnbook_repository_branch`). With an address, every page shows the theme's
  repository, "suggest edit" and "open issue" buttons, the edit link pointing at the
  page's source in the repository; without one (a local build) it shows none, rather
  than buttons pointing at Jupyter Book's own repository (its default). A malformed
  address fails the build, naming where it came from.
- "Last updated" in each page's footer: the date of the last commit touching the
  page's source when the book is in a complete git checkout and the source has no
  uncommitted change, else the build date (Sphinx's `html_last_updated_fmt`). A
  shallow clone gives every page the date of its one commit, so it counts as no
  history.
- A site that loads nothing from other hosts: Sphinx points MathJax at a CDN, so
  formulas stay raw offline and every page tells a third party who reads it. MathJax 3
  (the version Sphinx 7.4 configures) is installed from npm by `scripts/setup.sh` into
  a git-ignored `node_modules`, found the way Node finds packages (the book's folder,
  then its parents) or beside this package's checkout; the build copies the component
  the pages load and the files it fetches on demand (fonts, TeX extensions, the
  accessibility and speech modules, the menu) into `_static/mathjax`, and fails,
  saying to run `scripts/setup.sh`, when MathJax is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml
from sphinx.errors import ConfigError
from sphinx.util.i18n import format_date

from nnbook import checks

# the providers sphinx-book-theme builds edit and issue links for
REPOSITORY_URL = re.compile(
    r"https://[\w.-]*(github|gitlab|bitbucket)[\w.-]*/[\w.-]+/[\w.-]+(?<!\.git)"
)
REPOSITORY_BUTTONS = (
    "use_repository_button",
    "use_edit_page_button",
    "use_issues_button",
)
LAST_UPDATED_FORMAT = "%b %d, %Y"  # Sphinx's own default: "Nov 30, 2026"

MATHJAX_MAJOR = "3"
MATHJAX_COMPONENT = "tex-mml-chtml.js"  # the component Sphinx loads (TeX and MathML in)
# the component and what it loads on demand in a browser, in the package's `es5` folder
MATHJAX_FILES = (
    MATHJAX_COMPONENT,
    "input/tex/extensions",  # TeX packages loaded on first use (\require, autoload)
    "input/mml/extensions",
    "output/chtml/fonts/woff-v2",  # the CommonHTML output's fonts
    "a11y",  # the accessibility options of MathJax's menu
    "sre",  # the speech rule engine those options load
    "ui",  # the menu itself, loaded lazily
)
MATHJAX_FOLDER = "mathjax"  # in the site's _static
SETUP_HINT = "run `bash scripts/setup.sh` (it installs MathJax with npm)"


# --------------------------------------------------------------------------- repository


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


def _git(folder: Path, *arguments: str) -> str | None:
    """git's output run in `folder`, or None where git or a checkout is missing."""
    try:
        result = subprocess.run(
            ["git", "-C", str(folder), *arguments],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def path_in_repository(folder: Path) -> str:
    """`folder` relative to the root of its git checkout ("" at the root or outside
    a checkout): where the theme finds a page's source in the repository."""
    return (_git(folder, "rev-parse", "--show-prefix") or "").rstrip("/")


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


# --------------------------------------------------------------------------- dates


@lru_cache
def _has_history(folder: Path) -> bool:
    return _git(folder, "rev-parse", "--is-shallow-repository") == "false"


def last_commit_date(source: Path) -> date | None:
    """The date of the last commit touching `source`, or None where git cannot tell:
    outside a checkout, in a shallow clone, for a file changed since or never
    committed."""
    folder = source.parent
    if not _has_history(folder):
        return None
    if _git(folder, "status", "--porcelain", "--", source.name) != "":
        return None  # changed since its last commit, or untracked
    stamp = _git(folder, "log", "-1", "--format=%cs", "--", source.name)
    return date.fromisoformat(stamp) if stamp else None


def _last_updated_format(app, config) -> None:
    if config.html_last_updated_fmt is None:  # Sphinx shows no date unless set
        config.html_last_updated_fmt = LAST_UPDATED_FORMAT


def _page_date(app, pagename, templatename, context, doctree) -> None:
    if pagename not in app.env.all_docs:
        return  # Sphinx's own pages (genindex, search) keep the build date
    committed = last_commit_date(Path(app.env.doc2path(pagename)))
    if committed is not None:
        context["last_updated"] = format_date(
            app.config.html_last_updated_fmt or LAST_UPDATED_FORMAT,
            date=committed,
            language=app.config.language,
        )


# --------------------------------------------------------------------------- MathJax


def find_mathjax(starts: list[Path]) -> Path:
    """The installed MathJax 3 package's `es5` folder: in `node_modules` of the first
    of `starts` or their parents that has one (Node's own lookup). Raises ConfigError
    saying how to install it when none is found or it is not MathJax 3."""
    for start in starts:
        for folder in (start, *start.parents):
            package = folder / "node_modules" / "mathjax"
            if (package / "package.json").is_file():
                version = json.loads((package / "package.json").read_text())["version"]
                if not version.startswith(f"{MATHJAX_MAJOR}."):
                    raise ConfigError(
                        f"{package}: expected MathJax {MATHJAX_MAJOR}.x, the version "
                        f"Sphinx's mathjax_path loads, found {version}; {SETUP_HINT}"
                    )
                return package / "es5"
    searched = ", ".join(str(start) for start in starts)
    raise ConfigError(
        f"MathJax is not installed: no node_modules/mathjax in {searched} or their "
        f"parents; {SETUP_HINT}"
    )


def _local_mathjax(app, config) -> None:
    package_checkout = Path(__file__).resolve().parents[3]
    app.nnbook_mathjax = find_mathjax([Path(app.srcdir).resolve(), package_checkout])
    config.mathjax_path = f"{MATHJAX_FOLDER}/{MATHJAX_COMPONENT}"  # in _static


def copy_mathjax(mathjax: Path, static: Path) -> None:
    """Copy the MathJax files pages use from the package folder `mathjax` into the
    site's `static` folder, with MathJax's licence."""
    target = static / MATHJAX_FOLDER
    for relative in MATHJAX_FILES:
        source = mathjax / relative
        if source.is_dir():
            shutil.copytree(source, target / relative, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / relative)
    shutil.copy2(mathjax.parent / "LICENSE", target / "LICENSE")


def _copy_mathjax(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        copy_mathjax(app.nnbook_mathjax, Path(app.outdir) / "_static")


def setup_site_switches(app) -> None:
    """Repository buttons, last-updated dates and the site's own MathJax.

    The repository options are set after the notebooks' set-up, which registers
    `nnbook_repository_url` and resolves it from `_config.yml`'s repository when unset
    (priority 500)."""
    app.connect("config-inited", _drop_jupyter_books_own_repository, priority=400)
    app.connect("config-inited", _repository_buttons, priority=600)
    app.connect("config-inited", _last_updated_format)
    app.connect("config-inited", _local_mathjax)
    app.connect("html-page-context", _page_date)
    app.connect("build-finished", _copy_mathjax)
