"""The README and every page in docs/ run: their python code blocks are executed in order,
and the output a comment shows is the output the code prints."""

import contextlib
import io
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)


def shown_output(line: str) -> tuple[str, list[str]] | None:
    """The statement of a line whose comment shows what it prints, and the text shown.

    Such a line is a `print(...)` call with a comment, or any one-line statement whose
    comment is in double quotes; `...` in the comment stands for text left out.
    """
    code, sep, comment = line.partition("  # ")
    comment = comment.strip()
    if not sep or not code.strip() or code.rstrip().endswith(":"):
        return None
    quoted = len(comment) > 1 and comment.startswith('"') and comment.endswith('"')
    if not quoted and not code.lstrip().startswith("print("):
        return None
    text = comment[1:-1] if quoted else comment
    return code.rstrip(), [piece.strip() for piece in text.split("...") if piece.strip()]


@contextlib.contextmanager
def prints(fragments: list[str], where: str):
    """Run a statement, pass its output on, and require every fragment to be in it."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        yield
    sys.stdout.write(captured.getvalue())
    missing = [piece for piece in fragments if piece not in captured.getvalue()]
    assert not missing, f"{where}: the output {captured.getvalue()!r} lacks {missing}"


def with_output_checks(block: str, name: str) -> str:
    """The block with each line that shows its output run under `prints`, on the same line.

    The check is made only if the line runs, so a comment on a branch that depends on the
    machine (Graphviz installed or not) is checked where that branch is taken.
    """
    lines = []
    for number, line in enumerate(block.splitlines(), start=1):
        found = shown_output(line)
        if found:
            code, fragments = found
            indent = code[: len(code) - len(code.lstrip())]
            where = f"{name} line {number}"
            line = f"{indent}with _prints({fragments!r}, {where!r}): {code.lstrip()}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_docs_code_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem}", "_prints": prints}
    for number, block in enumerate(BLOCK.findall(page.read_text()), start=1):
        name = f"{page.name} block {number}"
        exec(compile(with_output_checks(block, name), name, "exec"), namespace)


def test_output_comment_is_checked():
    block = 'print("a b c")  # a ... c\nprint("x")  # y\nx = 1  # a note, not output\n'
    namespace = {"_prints": prints}
    checked = with_output_checks(block, "example")
    assert checked.splitlines()[2] == "x = 1  # a note, not output"
    with pytest.raises(AssertionError, match=r"example line 2: the output 'x\\n' lacks \['y'\]"):
        exec(compile(checked, "example", "exec"), namespace)


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"Install and run the tests:\n\n```bash\n(.+)\n```", readme).group(1)
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()
