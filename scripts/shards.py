"""Spread the chapters' execution over machines, and put the results back together.

    python scripts/shards.py plan --shards 3           # the publishing workflow's shard matrix (JSON)
    python scripts/shards.py merge CACHE SHARD...      # merge the shards' execution caches into CACHE
    python scripts/shards.py times _build/.jupyter_cache   # refresh chapter-times.json from a full build

The chapters are independent notebooks, so the publishing workflow executes them in groups on several
machines ("shards", each `scripts/build-book.sh full CHAPTER...`), merges the jupyter-cache folders the shards
uploaded, and builds the site from the merged cache executing nothing (`NNBOOK_EXECUTE=none`). The groups are
balanced by the measured execution time of each chapter in `chapter-times.json` beside this script: the
longest chapter first, each into the shard with the least time so far (a chapter never splits, so the
longest one bounds the wall time). `plan` needs only the standard library; `merge` and `times` need the
book's environment (jupyter-cache).
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TIMES = Path(__file__).resolve().with_name("chapter-times.json")


def executable_chapters(book: Path = REPO / "book") -> list[str]:
    """The book's notebook pages (front matter with a kernel), as paths from the repository root."""
    chapters = []
    for path in sorted(book.glob("*.md")):
        front = path.read_text(encoding="utf8").split("\n---", 1)[0]
        if front.startswith("---") and "kernelspec:" in front:
            chapters.append(path.relative_to(REPO).as_posix())
    return chapters


def plan(seconds: dict[str, float], chapters: list[str], shards: int) -> list[dict]:
    """Groups of `chapters` balanced by `seconds` (longest first, each to the least loaded shard); a chapter
    without a measurement counts as the median one. Empty shards are dropped."""
    if isinstance(shards, bool) or not isinstance(shards, int) or shards < 1:
        raise ValueError(f"shards: expected a positive integer, got {shards!r}")
    typical = statistics.median(seconds.values()) if seconds else 60.0
    cost = {chapter: seconds.get(chapter, typical) for chapter in chapters}
    groups = [{"chapters": [], "seconds": 0.0} for _ in range(shards)]
    for chapter in sorted(chapters, key=lambda name: (-cost[name], name)):
        group = min(groups, key=lambda g: g["seconds"])
        group["chapters"].append(chapter)
        group["seconds"] += cost[chapter]
    groups = [group for group in groups if group["chapters"]]
    return [
        {"shard": index, "chapters": " ".join(group["chapters"]), "seconds": round(group["seconds"])}
        for index, group in enumerate(groups, start=1)
    ]


def read_times(path: Path = TIMES) -> dict[str, float]:
    return {chapter: entry["seconds"] for chapter, entry in json.loads(path.read_text())["chapters"].items()}


def merge(target: Path, sources: list[Path]) -> int:
    """Copy every executed notebook of the `sources` caches into the `target` cache (created if missing),
    through jupyter-cache's own API; returns how many were copied."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    missing = [str(source) for source in sources if not (source / "global.db").is_file()]
    if missing:
        raise SystemExit(f"merge: not a jupyter-cache folder (no global.db): {', '.join(missing)}")
    merged = get_cache(str(target))
    copied = 0
    for source in sources:
        cache = get_cache(str(source))
        for record in cache.list_cache_records():
            bundle = cache.get_cache_bundle(record.pk)
            merged.cache_notebook_bundle(
                CacheBundleIn(bundle.nb, record.uri, artifacts=bundle.artifacts, data=dict(record.data or {})),
                check_validity=False,
                overwrite=True,
            )
            copied += 1
    return copied


def measured_times(cache_path: Path, chapters: list[str], profile: str = "full") -> dict[str, float]:
    """Each chapter's execution seconds in the newest `profile` run the cache holds (recognised by the
    hidden build-key cell); chapters are matched by the end of the path the run came from."""
    from jupyter_cache import get_cache

    from nnbook.sphinxext.build_key import key_profile

    cache = get_cache(str(cache_path))
    found: dict[str, tuple] = {}
    for record in cache.list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        chapter = next((name for name in chapters if record.uri.endswith("/" + name)), None)
        if seconds is None or chapter is None:
            continue
        sources = "\n".join(cell.source for cell in cache.get_cache_bundle(record.pk).nb.cells)
        if key_profile(sources) == profile and (chapter not in found or found[chapter][0] < record.created):
            found[chapter] = (record.created, seconds)
    return {chapter: round(seconds, 1) for chapter, (_, seconds) in found.items()}


def update_times(path: Path, measured: dict[str, float], how: str) -> None:
    """Write the `measured` chapters into the times file, keeping the others' earlier measurements."""
    data = json.loads(path.read_text()) if path.exists() else {"chapters": {}}
    day = datetime.date.today().isoformat()
    for chapter, seconds in measured.items():
        data["chapters"][chapter] = {"seconds": seconds, "measured": f"{day}, {how}"}
    data["chapters"] = dict(sorted(data["chapters"].items()))
    path.write_text(json.dumps(data, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    planning = commands.add_parser("plan", help="print the shard matrix as JSON")
    planning.add_argument("--shards", type=int, default=3)
    merging = commands.add_parser("merge", help="merge shard caches into one")
    merging.add_argument("target", type=Path)
    merging.add_argument("sources", type=Path, nargs="+")
    timing = commands.add_parser("times", help="refresh chapter-times.json from a full build's cache")
    timing.add_argument("cache", type=Path)
    timing.add_argument("--file", type=Path, default=TIMES)
    arguments = parser.parse_args(argv)

    if arguments.command == "plan":
        chapters = executable_chapters()
        seconds = read_times()
        unmeasured = sorted(set(chapters) - seconds.keys())
        if unmeasured:
            print(f"plan: no measured time for {', '.join(unmeasured)}: counted as the median", file=sys.stderr)
        try:
            print(json.dumps({"include": plan(seconds, chapters, arguments.shards)}))
        except ValueError as error:
            parser.error(str(error))
    elif arguments.command == "merge":
        start = time.perf_counter()
        copied = merge(arguments.target, arguments.sources)
        print(f"merged {copied} executed notebooks from {len(arguments.sources)} caches into {arguments.target}"
              f" in {time.perf_counter() - start:.1f} s")
    else:
        measured = measured_times(arguments.cache, executable_chapters())
        if not measured:
            raise SystemExit(f"times: no full-profile run of a chapter in {arguments.cache}")
        update_times(arguments.file, measured, "execution cache of a full build")
        print(f"updated {len(measured)} chapters in {arguments.file}: {measured}")


if __name__ == "__main__":
    main()
