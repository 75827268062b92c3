"""House rule 5: an app imports only another app's services, selectors and contracts.

`core` is the shared base (BaseModel, errors, API base classes) and may be imported anywhere.
Tests may use other apps' factories. The demo shop loader is the one documented exception
(bulk fixture loading, like Django's loaddata; see docs/architecture.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWED_MODULES = {"services", "selectors", "contracts"}
DOCUMENTED_EXCEPTIONS = {Path("apps/core/demo/loader.py")}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_apps_import_only_services_selectors_and_contracts_of_other_apps():
    violations = []
    for path in sorted((ROOT / "apps").rglob("*.py")):
        relative = path.relative_to(ROOT)
        parts = relative.parts
        if "tests" in parts or "migrations" in parts or relative in DOCUMENTED_EXCEPTIONS:
            continue
        own_app = parts[1]
        for name in _imports(path):
            segments = name.split(".")
            if len(segments) < 3 or segments[0] != "apps":
                continue
            other_app, module = segments[1], segments[2]
            if other_app in {own_app, "core"}:
                continue
            if module not in ALLOWED_MODULES:
                violations.append(f"{relative}: imports {name}")
    assert sorted(set(violations)) == []
