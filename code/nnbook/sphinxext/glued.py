"""The values a page's cells glued, as myst-nb stored them while reading the page.

myst-nb keeps in the environment only the names a page glued and writes the values to
`<page>.glue.json` beside the executed notebook; the results page and the build page
both read them back from there.
"""

from __future__ import annotations

import json
from pathlib import Path

from myst_nb.sphinx_ import NbMetadataCollector


def glued_outputs(env, docname: str) -> dict[str, dict]:
    """What `docname`'s cells glued in its last read: name -> the output's data (mime
    type -> value). A glue file an earlier read left behind adds nothing."""
    names = NbMetadataCollector.get_doc_data(env).get(docname, {}).get("glue", [])
    if not names:
        return {}
    *folders, name = docname.split("/")
    path = Path(env.mystnb_config.output_folder, *folders, f"{name}.glue.json")
    glue = json.loads(path.read_text(encoding="utf8"))
    return {key: glue[key]["data"] for key in names if key in glue}
