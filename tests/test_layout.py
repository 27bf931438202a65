"""Imports go one way: only the command line, flows and tasks import Prefect."""

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PREFECT_FREE = ("argus", "models", "data_contracts")
# Command-line modules start flows, like argus/cli.py itself.
ALLOWED = {
    Path("argus/cli.py"),
    Path("argus/cli_train.py"),
    Path("argus/cli_risk.py"),
    Path("argus/cli_serve.py"),
}


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_library_does_not_import_prefect():
    offenders = []
    for package in PREFECT_FREE:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            relative = path.relative_to(REPO_ROOT)
            if relative in ALLOWED:
                continue
            modules = _imported_modules(path)
            if any(m == "prefect" or m.startswith("prefect.") for m in modules):
                offenders.append(str(relative))
            if any(m == "flows" or m.startswith(("flows.", "tasks.")) for m in modules):
                offenders.append(f"{relative} (imports flows or tasks)")
    assert offenders == []


def test_design_layout_exists():
    for name in (
        "flows",
        "tasks",
        "models",
        "data_contracts",
        "argus",
        "deployments",
        "notebooks",
        "tests",
        "bench",
        "prefect.yaml",
        "pyproject.toml",
    ):
        assert (REPO_ROOT / name).exists(), name
