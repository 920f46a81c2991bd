"""CI's install step on this machine: the exact Debian package list, simulated by apt-get.

A package that conflicts with what the machine holds (Debian's npm beside NodeSource's Node.js
was one) makes `.ci/run` fail before any test runs; the simulation shows it on any machine.
"""
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_LIST = ROOT / ".ci" / "debian-packages"


def _listed_packages() -> list[str]:
    lines = PACKAGE_LIST.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_the_ci_package_list_installs_on_this_machine() -> None:
    assert shutil.which("apt-get"), "CI runs on Debian: apt-get must be there"
    result = subprocess.run(["bash", str(ROOT / ".ci" / "install-debian-packages"), "--dry-run"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "broken packages" not in result.stdout + result.stderr


def test_npm_is_never_installed_beside_a_node_of_another_source() -> None:
    # Debian's npm conflicts with NodeSource's nodejs: it may only come with Debian's nodejs,
    # which the install script adds where no node exists at all.
    assert not {"npm", "nodejs"} & set(_listed_packages())
    script = (ROOT / ".ci" / "install-debian-packages").read_text(encoding="utf-8")
    assert "missing+=(nodejs npm)" in script
    assert "command -v node" in script
