"""The demo is the top layer: the product apps hold no demo code and import no test tooling."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCT_APPS = ("merchants", "aftersales", "reviews", "tickets")
FORBIDDEN = ("demo", "time_machine", "django.test")  # django.test: override_settings, the test client…


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_product_apps_import_neither_the_demo_nor_test_tooling():
    offenders = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for app in PRODUCT_APPS
        for path in (ROOT / app).rglob("*.py")
        for name in imported_modules(path)
        if any(name == banned or name.startswith(f"{banned}.") for banned in FORBIDDEN)
    )

    assert offenders == []
    assert not [app for app in PRODUCT_APPS if (ROOT / app / "demo.py").exists()]
    # Operators' commands (merchants' rebuild_shop_days) are product code; the demo's own commands are not.
    assert not [
        path
        for app in PRODUCT_APPS
        for path in (ROOT / app).glob("management/commands/*.py")
        if "demo" in path.stem
    ]


def test_the_guard_sees_a_product_module_that_imports_test_tooling(tmp_path):
    leak = tmp_path / "leak.py"
    leak.write_text(
        "from django.test.utils import override_settings\nimport time_machine\nfrom demo import shops\n"
    )

    assert {"django.test.utils", "time_machine", "demo"} <= imported_modules(leak)
