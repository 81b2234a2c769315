"""Airflow's secrets come from the environment or a generated 0600 file; none is in
the repo or in airflow.cfg."""

import configparser
import re
import stat
import subprocess
from pathlib import Path

import pytest

from ops.secrets import FERNET_KEY, JWT_SECRET, SECRET_NAMES, SecretsError, ensure_secrets

REPO = Path(__file__).resolve().parents[2]


def test_missing_secrets_are_generated_into_a_file_only_its_owner_can_read(tmp_path):
    path = tmp_path / "run" / "secrets.env"

    values = ensure_secrets(path, environ={})

    assert set(values) == set(SECRET_NAMES) and all(len(v) >= 40 for v in values.values())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_secrets(path, environ={}) == values  # the next start reuses them
    from cryptography.fernet import Fernet

    Fernet(values[FERNET_KEY].encode())  # a key Airflow's Fernet accepts


def test_the_environment_wins_over_the_file(tmp_path):
    path = tmp_path / "secrets.env"
    stored = ensure_secrets(path, environ={})

    values = ensure_secrets(path, environ={JWT_SECRET: "from-the-site-vault"})

    assert values[JWT_SECRET] == "from-the-site-vault"
    assert values[FERNET_KEY] == stored[FERNET_KEY]
    assert "from-the-site-vault" not in path.read_text()


def test_a_secrets_file_others_can_read_is_refused(tmp_path):
    path = tmp_path / "secrets.env"
    ensure_secrets(path, environ={})
    path.chmod(0o644)

    with pytest.raises(SecretsError, match=r"readable by others \(mode 0644\); run: chmod 600"):
        ensure_secrets(path, environ={})


def test_a_malformed_secrets_file_names_the_line(tmp_path):
    path = tmp_path / "secrets.env"
    path.write_text("# comment\nPASSWORD=hunter2\n")
    path.chmod(0o600)

    with pytest.raises(SecretsError, match=r"secrets.env:2: expected one of AIRFLOW__CORE__FERNET_KEY"):
        ensure_secrets(path, environ={})


def test_airflow_cfg_sets_no_secret_and_requires_login():
    config = configparser.ConfigParser(interpolation=None)
    config.read(REPO / "airflow.cfg")
    secret_options = {"fernet_key", "secret_key", "jwt_secret"}
    for section in config.sections():
        assert not secret_options & set(config[section]), f"[{section}] of airflow.cfg sets a secret"
    assert config.get("core", "simple_auth_manager_all_admins", fallback="False").lower() == "false"
    assert config.get("core", "simple_auth_manager_users")


SECRET_ASSIGNMENT = re.compile(
    # (a value naming the environment variable that holds the secret is no secret)
    r"(fernet_key|secret_key|jwt_secret|FERNET_KEY|SECRET_KEY|JWT_SECRET)\s*[=:]\s*['\"]?(?!AIRFLOW__)[A-Za-z0-9_\-+/]{20,}"
)


def test_no_tracked_file_holds_a_secret_and_the_generated_ones_are_ignored():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True)
    offenders = []
    for name in tracked.stdout.split():
        path = REPO / name
        if not path.is_file():
            continue
        text = path.read_text(errors="ignore")
        offenders += [f"{name}: {match.group(0)[:30]}..." for match in SECRET_ASSIGNMENT.finditer(text)]
    assert offenders == []
    ignored = subprocess.run(
        ["git", "check-ignore", "airflow-run/secrets.env", "simple_auth_manager_passwords.json.generated"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert ignored.stdout.split() == ["airflow-run/secrets.env", "simple_auth_manager_passwords.json.generated"]
