"""The shipped server settings and deployment files say what docs/operations.md promises (issue 15): the
dashboard listens on 127.0.0.1 only, XSRF on, no error details, no committed secret, the metrics
endpoint closed at the proxy, sticky sessions, and the systemd units for the dashboard and ingest."""
from __future__ import annotations

import configparser
import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_server_settings_are_hardened() -> None:
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["server"]["address"] == "127.0.0.1"
    assert settings["server"]["enableXsrfProtection"] is True
    assert settings["server"]["maxUploadSize"] == 50
    assert "cookieSecret" not in settings["server"]
    assert settings["client"]["showErrorDetails"] == "none"


def test_no_page_relies_on_magic_which_is_off() -> None:
    """With magic off (a new tab's page is not rewritten for it) a bare expression on a page would show nothing:
    Streamlit's magic, run on every page, adds its import and nothing else."""
    import ast  # noqa: PLC0415
    import difflib  # noqa: PLC0415

    from streamlit.runtime.scriptrunner import magic  # noqa: PLC0415

    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["runner"]["magicEnabled"] is False
    for script in [ROOT / "dashboard.py", *sorted((ROOT / "pages").glob("*.py"))]:
        source = script.read_text(encoding="utf-8")
        plain = ast.unparse(ast.parse(source)).splitlines()
        with_magic = ast.unparse(magic.add_magic(source, str(script))).splitlines()
        added = [line for line in difflib.unified_diff(plain, with_magic, lineterm="", n=0)
                 if line[:1] in "+-" and not line.startswith(("+++", "---")) and "magic_funcs" not in line]
        assert added == [], script.name


def test_the_secrets_file_is_never_committed_and_the_example_has_every_setting() -> None:
    assert ".streamlit/secrets.toml" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    tracked = subprocess.run(["git", "ls-files", ".streamlit"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    assert "secrets.toml\n" not in tracked.replace("secrets.toml.example", "")
    example = tomllib.loads((ROOT / ".streamlit" / "secrets.toml.example").read_text(encoding="utf-8"))
    assert set(example["auth"]) >= {"redirect_uri", "cookie_secret", "client_id", "client_secret",
                                    "server_metadata_url"}


def test_nginx_example_closes_metrics_keeps_websockets_and_is_sticky() -> None:
    nginx = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "location = /_stcore/metrics {\n        return 404;" in nginx
    assert "ip_hash;" in nginx and "proxy_set_header Upgrade $http_upgrade;" in nginx
    assert "listen 443 ssl;" in nginx and "client_max_body_size 55m;" in nginx


def test_systemd_units_run_the_dashboard_and_the_daily_ingest() -> None:
    units = {}
    for name in ("flow-dashboard@.service", "flow-ingest.service", "flow-ingest.timer"):
        unit = configparser.ConfigParser(strict=False, interpolation=None)
        unit.optionxform = str  # type: ignore[assignment,method-assign]
        unit.read(ROOT / "deploy" / name, encoding="utf-8")
        units[name] = unit
    assert "streamlit run dashboard.py --server.port %i --server.address 127.0.0.1" in \
        units["flow-dashboard@.service"]["Service"]["ExecStart"]
    ingest = units["flow-ingest.service"]["Service"]["ExecStart"]
    assert ingest.endswith("python -m pipelines ingest /srv/flow-dashboard/incoming")
    assert units["flow-ingest.timer"]["Timer"]["OnCalendar"] == "*-*-* 10:30:00 Europe/London"


def test_the_command_line_says_it_is_for_administrators() -> None:
    help_text = subprocess.run([sys.executable, "-m", "pipelines", "--help"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout
    assert "for administrators on the server" in " ".join(help_text.split())


def test_oidc_provider_versions_are_exact() -> None:
    package = json.loads((ROOT / "tests" / "oidc" / "package.json").read_text(encoding="utf-8"))
    assert all(version[0].isdigit() for version in package["dependencies"].values())
    assert (ROOT / "tests" / "oidc" / "package-lock.json").exists()
    # "node_modules" without the slash: the folder, or the symlink to one that a git worktree may have
    assert "node_modules" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
