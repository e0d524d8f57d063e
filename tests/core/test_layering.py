"""The house rule that lets one core serve pages, command line, benchmarks and tests."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "core"


def _imports(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, node.lineno))
    return found


def test_core_never_imports_streamlit():
    offenders = [
        f"{path.name}:{line}"
        for path in sorted(CORE.rglob("*.py"))
        for name, line in _imports(path)
        if name == "streamlit" or name.startswith("streamlit.")
    ]
    assert offenders == []
    assert len(list(CORE.glob("*.py"))) >= 5  # the walk really looked at core/


def test_pages_and_widgets_hold_no_sql():
    """Every query lives in core/: ui/ and pages/ never reach the database themselves."""
    files = sorted([*(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py")])
    offenders = [
        f"{path.parent.name}/{path.name}:{line}"
        for path in files
        for name, line in _imports(path)
        if name.split(".")[0] in ("sqlalchemy", "psycopg", "sqlite3")
    ]
    assert offenders == []
    assert len(files) >= 10  # the walk really looked at ui/ and pages/
