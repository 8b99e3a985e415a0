"""The layout holds (STYLE §2): the kernel imports no app, and apps import only the layers below them.

The contracts are import-linter's, declared in pyproject.toml under [tool.importlinter]; this test runs
them, so CI enforces them. A broken contract fails with import-linter's report of the offending imports.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_import_contracts_are_kept():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_kernel_contract_forbids_every_app_and_config():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    kernel = next(c for c in config["contracts"] if c["source_modules"] == ["merchants.kernel"])
    apps = {"aftersales", "reviews", "tickets", "config"} | ({"demo"} if (ROOT / "demo").is_dir() else set())

    assert kernel["type"] == "forbidden"
    assert apps <= set(kernel["forbidden_modules"])
    assert set(config["root_packages"]) >= apps


def lint_tree_with(tmp_path, module: str, text: str) -> subprocess.CompletedProcess:
    """lint-imports over a copy of the packages with one module added (path relative to the root)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for package in config["root_packages"]:
        (tmp_path / package).mkdir()
        for source in (ROOT / package).rglob("*.py"):
            target = tmp_path / package / source.relative_to(ROOT / package)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(source.read_text())
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / module).write_text(text)
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_a_kernel_module_importing_an_app_breaks_the_contract(tmp_path):
    result = lint_tree_with(tmp_path, "merchants/kernel/leak.py", "from aftersales import models  # noqa\n")

    assert result.returncode != 0
    assert "merchants.kernel.leak -> aftersales" in result.stdout


def test_the_aftersales_services_importing_their_tasks_breaks_two_contracts(tmp_path):
    result = lint_tree_with(tmp_path, "aftersales/services/leak.py", "from aftersales import tasks  # noqa\n")

    assert result.returncode != 0
    assert "aftersales.services.leak -> aftersales.tasks" in result.stdout  # the forbidden contract
    assert "- .tasks -> .services" in result.stdout or "- .services -> .tasks" in result.stdout  # the circle


def test_the_order_rules_importing_the_order_services_break_the_contract(tmp_path):
    rules = (ROOT / "merchants" / "transitions.py").read_text() + "\nfrom merchants import services  # noqa\n"

    result = lint_tree_with(tmp_path, "merchants/transitions.py", rules)

    assert result.returncode != 0
    assert "merchants.transitions -> merchants.services" in result.stdout
