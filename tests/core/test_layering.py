"""The house rule that lets one core serve pages, command line, benchmarks and tests."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"


def test_core_never_imports_streamlit():
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "streamlit" or name.startswith("streamlit.") for name in names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
    assert len(list(CORE.glob("*.py"))) >= 5  # the walk really looked at core/
