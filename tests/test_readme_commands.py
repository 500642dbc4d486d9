"""Every command the README shows works: each is run here in a short form (a tiny selection of tests, tiny
benchmark configurations, a server started and stopped), or by the session's quick book build. A command
added to a README code block without a test here fails `test_every_command_the_readme_shows_is_tested`."""

from __future__ import annotations

import math
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from helpers import BUILD_OPTIONS, REPO, SCRIPTS, build_book

# Every command of the README's code blocks -> the test below that runs it (or its short form).
TESTED_BY = {
    "bash scripts/build-book.sh": "test_build_book_script_builds_the_book",
    "bash scripts/test.sh": "test_test_script_runs_the_tests_it_is_given",
    "bash scripts/build-book.sh quick": "test_build_book_script_builds_the_book",
    "bash scripts/build-book.sh full book/resnets.md": "test_build_script_with_a_chapter_reads_only_that_chapter_again",
    "python3 scripts/shards.py plan --shards 3": "test_shard_plan_command_prints_the_workflow_matrix",
    "NNBOOK_PROFILE=quick jupyter-book build . -W -n --keep-going": "test_the_build_tests_run_the_quick_build_command",
    ".venv/bin/python scripts/benchmark_cifar.py --images 12800 --rounds 5": "test_cifar_benchmark_runs_on_a_tiny_configuration",
    ".venv/bin/python scripts/benchmark_charlm.py --batch-size 8": "test_charlm_benchmark_runs_on_a_tiny_configuration",
    ".venv/bin/python scripts/benchmark_charlm.py --nanogpt ../nanoGPT/model.py --batch-size 8 --rounds 5":
        "test_charlm_benchmark_compares_with_a_model_file_of_nanogpts_interface",
    ".venv/bin/python scripts/profile_charlm.py --rounds 7": "test_charlm_profile_times_every_part_in_both_frameworks",
    "python -m http.server --directory _build/html 8000": "test_http_server_serves_the_built_site",
}


def readme_commands(readme: str | None = None) -> list[str]:
    """The commands of the README's bash code blocks, comments left out; `# or: <command>` names another."""
    readme = (REPO / "README.md").read_text() if readme is None else readme
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", readme, flags=re.S | re.M):
        for line in block.splitlines():
            command, _, comment = (part.strip() for part in line.partition("#"))
            commands += [command] if command else []
            if comment.startswith("or:"):
                commands.append(comment.removeprefix("or:").strip())
    return commands


def run(command: list[str], timeout: float, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def table_rows(output: str, first_columns: set[str]) -> list[list[str]]:
    """The rows of a benchmark's printed table: the lines whose first word is one of `first_columns`."""
    return [line.split() for line in output.splitlines() if line.split()[:1] and line.split()[0] in first_columns]


def rate(text: str) -> float:
    """A printed throughput such as 1,234: a finite positive number, or the test fails."""
    value = float(text.replace(",", ""))
    assert math.isfinite(value) and value > 0, text
    return value


# --------------------------------------------------------------------------- the list is complete


def test_every_command_the_readme_shows_is_tested():
    commands = readme_commands()
    assert "bash scripts/test.sh" in commands  # the parser finds the code blocks
    assert sorted(set(commands)) == sorted(TESTED_BY), "a README command without a test here, or a stale entry"
    assert all(name in globals() for name in TESTED_BY.values())


def test_the_readme_parser_reads_commands_and_their_alternatives():
    readme = "Run:\n\n```bash\nbash a.sh    # does a\n# a comment line\nb --x 1   # or: c --x 1\n```\n\n" \
             "`inline code` and\n```python\nprint('not a command')\n```\n```bash\nd\n```\n"
    assert readme_commands(readme) == ["bash a.sh", "b --x 1", "c --x 1", "d"]


# --------------------------------------------------------------------------- building and testing


def test_build_book_script_builds_the_book(book):
    """The session's book is built by `bash scripts/build-book.sh quick --path-output DIR` (see conftest):
    the README's command in the quick profile, its output kept out of the repository."""
    html = book / "_build" / "html"
    assert (html / "index.html").exists() and (html / "book" / "intro.html").exists()
    assert "Executing notebook" in (book / "build-log.txt").read_text()


def test_build_script_with_a_chapter_reads_only_that_chapter_again(book, tmp_path):
    """The README's `bash scripts/build-book.sh full book/resnets.md`, in the quick profile on a copy of the
    session's book: the named chapter is read again (here from the cache, its code unchanged), no other chapter;
    the results and build pages, which list every chapter, are read again with any page."""
    shutil.copytree(book / "_build", tmp_path / "_build", symlinks=True)
    command = ["bash", str(SCRIPTS / "build-book.sh"), "quick", "book/key-differences.md", "--path-output",
               str(tmp_path)]
    result = run(command, timeout=600)
    read = re.findall(r"reading sources\.\.\. .*?(book/[\w-]+)", result.stdout)
    assert sorted(read) == ["book/build", "book/key-differences", "book/results"]
    log = result.stdout + result.stderr
    assert "Using cached notebook" in log and "Executing notebook" not in log


def test_the_build_tests_run_the_quick_build_command(monkeypatch, tmp_path):
    """The README's `NNBOOK_PROFILE=quick jupyter-book build . -W -n --keep-going` is what `build_book` runs
    (the build tests run it), with the output folder moved out of the repository."""
    readme = next(command for command in readme_commands() if command.startswith("NNBOOK_PROFILE="))
    setting, *readme_argv = readme.split()
    ran = {}

    def record(argv, **kwargs):
        ran.update(argv=argv, env=kwargs["env"])
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr(subprocess, "run", record)
    build_book(REPO, tmp_path)
    argv = [a for a in ran["argv"] if a not in ("--path-output", str(tmp_path))]
    assert argv[0].endswith("jupyter-book") and argv[1:] == [readme_argv[1], str(REPO), *readme_argv[3:]]
    assert readme_argv[3:] == BUILD_OPTIONS and readme_argv[2] == "."
    name, value = setting.split("=")
    assert ran["env"][name] == value


def test_test_script_runs_the_tests_it_is_given():
    """`bash scripts/test.sh` on one fast test file: the set-up (quick: the venv is current), then pytest on
    that file only."""
    result = run(["bash", str(SCRIPTS / "test.sh"), "tests/test_profiles_and_page.py", "-v", "-p", "no:cacheprovider"],
                 timeout=300)
    outcomes = re.findall(r"^(tests/\S+)::\S+ (PASSED|FAILED|ERROR|SKIPPED)", result.stdout, flags=re.M)
    assert outcomes and {outcome for _, outcome in outcomes} == {"PASSED"}, result.stdout[-3000:]
    assert {path for path, _ in outcomes} == {"tests/test_profiles_and_page.py"}


def test_shard_plan_command_prints_the_workflow_matrix():
    """`python3 scripts/shards.py plan --shards 3` (what the plan is made of: tests/test_shards.py)."""
    groups = json.loads(run([sys.executable, "scripts/shards.py", "plan", "--shards", "3"], timeout=60).stdout)
    assert [group["shard"] for group in groups["include"]] == [1, 2, 3]


# --------------------------------------------------------------------------- benchmarks


def test_charlm_benchmark_runs_on_a_tiny_configuration():
    """The README's benchmark command with a one-layer, 16-wide model trained for two steps, in one framework
    and one attention path (each measurement is a process of its own: a TensorFlow one takes 10-25 s to
    import and compile)."""
    result = run([sys.executable, "scripts/benchmark_charlm.py", "--batch-size", "8", "--steps", "1", "--context", "16",
                  "--n-layers", "1", "--n-heads", "2", "--d-model", "16", "--framework", "torch", "--path", "fused"],
                 timeout=300)
    rows = table_rows(result.stdout, {"torch", "tf"})
    assert [row[:2] for row in rows] == [["torch", "fused"]], result.stdout
    # vocabulary 65: the embedding 65 x 16; one block: LayerNorms 2 x 32, attention 4 x 272, feed-forward 2,128;
    # the final LayerNorm 32
    assert all(int(row[2].replace(",", "")) == 65 * 16 + 64 + 4 * 272 + 2128 + 32 for row in rows)
    assert all(rate(row[4]) for row in rows) and all(row[-1] == "tinyshakespeare" for row in rows)


def test_charlm_profile_times_every_part_in_both_frameworks():
    """The README's profile command on a one-layer, 16-wide model, one round of one call: a row per part with
    how often a step runs it, a time in every column that measures it, "-" where a reference row does not
    apply, and the sum of parts equal to the counted sum of the printed parts."""
    result = run([sys.executable, "scripts/profile_charlm.py", "--batch-size", "2", "--context", "16",
                  "--n-layers", "1", "--n-heads", "2", "--d-model", "16", "--rounds", "1", "--repeats", "1"],
                 timeout=300)
    lines = result.stdout.splitlines()
    header = lines[1].split()
    assert header[:3] == ["part", "per", "step"] and " ".join(header[3:]) == "PyTorch TF, XLA TF, graph", result.stdout
    rows = {line[:38].strip(): line[38:].split() for line in lines[2:]}
    counts = {"attention": 1, "feed-forward": 1, "LayerNorm": 3, "head + loss": 1}  # 2 x 1 + 1 LayerNorms
    assert list(rows) == [*counts, "sum of parts", "training step", "attention, Keras' MultiHeadAttention",
                          "attention, weights computed"], result.stdout
    for part, count in counts.items():
        assert int(rows[part][0]) == count and all(rate(cell) for cell in rows[part][1:]), rows[part]
    for column in range(3):
        parts = math.fsum(count * float(rows[part][1 + column]) for part, count in counts.items())
        assert float(rows["sum of parts"][column]) == pytest.approx(parts, abs=0.3)  # printed to 0.1 ms
        assert rate(rows["training step"][column])
    assert rows["attention, Keras' MultiHeadAttention"][0] == "-" and rate(rows["attention, Keras' MultiHeadAttention"][1])
    assert rate(rows["attention, weights computed"][0]) and rows["attention, weights computed"][1:] == ["-", "-"]
    refused = subprocess.run([sys.executable, "scripts/profile_charlm.py", "--d-model", "130"], cwd=REPO,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--n-heads: expected a divisor of --d-model 130, got 4" in refused.stderr


# What the benchmark needs of nanoGPT's model.py: GPTConfig (its field names) and GPT(config)(idx, targets) ->
# (logits, loss). A bigram model stands in: the test checks the benchmark, not nanoGPT.
NANOGPT_INTERFACE = """
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class GPTConfig:
    block_size: int = 1024
    vocab_size: int = 50304
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

    def forward(self, idx, targets=None):
        logits = self.lm_head(self.wte(idx))
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
"""


def test_charlm_benchmark_compares_with_a_model_file_of_nanogpts_interface(tmp_path):
    """`--nanogpt PATH` loads GPT from the file, trains it and the book's MiniGPT alternately in one process, and
    prints each one's median tokens/s and their ratio; a path that is no file is refused by name."""
    model_file = tmp_path / "model.py"
    model_file.write_text(NANOGPT_INTERFACE)
    tiny = ["--batch-size", "8", "--steps", "1", "--context", "16", "--n-layers", "1", "--n-heads", "2",
            "--d-model", "16", "--rounds", "2"]
    result = run([sys.executable, "scripts/benchmark_charlm.py", "--nanogpt", str(model_file), *tiny], timeout=300)
    assert "median of 2 alternating rounds of 1 steps" in result.stdout
    rows = {row[0]: row for row in table_rows(result.stdout, {"book", "nanoGPT"})}
    book, nanogpt = rows["book"], rows["nanoGPT"]
    assert int(book[2].replace(",", "")) == 65 * 16 + 64 + 4 * 272 + 2128 + 32  # as in the test above
    assert int(nanogpt[2].replace(",", "")) == 2 * 65 * 16  # the stand-in: embedding and head
    ratio = re.search(r"^ratio, book / nanoGPT: ([0-9.]+)x$", result.stdout, flags=re.M)
    assert ratio and float(ratio[1]) == pytest.approx(rate(book[3]) / rate(nanogpt[3]), abs=0.01)
    missing = subprocess.run([sys.executable, "scripts/benchmark_charlm.py", "--nanogpt", str(tmp_path / "no.py")],
                             cwd=REPO, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "--nanogpt: expected the path of nanoGPT's model.py" in missing.stderr


def test_cifar_benchmark_runs_on_a_tiny_configuration():
    """The README's benchmark command on 16 images (one batch an epoch), one network, both frameworks, two
    alternating rounds: a median per framework and their ratio."""
    result = run([sys.executable, "scripts/benchmark_cifar.py", "--images", "16", "--batch-size", "16",
                  "--variant", "cnn-standard", "--rounds", "2"], timeout=300)
    assert "median of 2 alternating round(s)" in result.stdout
    rows = table_rows(result.stdout, {"cnn-standard"})
    assert len(rows) == 1 and len(rows[0]) == 5, result.stdout
    name, torch_rate, tf_rate, ratio, data = rows[0]
    assert ratio.endswith("x") and float(ratio[:-1]) == pytest.approx(rate(tf_rate) / rate(torch_rate), abs=0.01)
    assert data.startswith("cifar10")


# --------------------------------------------------------------------------- previewing the site


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_http_server_serves_the_built_site(fixture_book):
    """`python -m http.server --directory <built html> PORT`: started, a page and a notebook fetched, stopped."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                               str(fixture_book), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/chapter.html", timeout=5) as response:
                    page = response.read().decode()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert "pytorch one" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/chapter-pytorch.ipynb", timeout=5) as response:
            assert response.status == 200 and b'"nnbook-install"' in response.read()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert server.returncode is not None
