"""Settings: environment, YAML file, validation errors, disabled channels."""

from __future__ import annotations

import pytest

from config.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for k in list(os.environ):
        if k.startswith("LAPOR_"):
            monkeypatch.delenv(k)


def test_defaults_match_design():
    s = load_settings()
    assert (s.http_host, s.http_port, s.core_queue, s.core_func) == (
        "127.0.0.1", 8708, "lapor-core", "lapor_core.receive_complaint")
    assert s.embedded_redis and str(s.data_dir) == "var"
    assert {c.name: c.enabled for c in s.channel_statuses()} == {
        "api": False, "sms": False, "meta": False, "twitter": False, "telegram": False, "email": False,
        "imap": False, "whatsapp": False}


def test_disabled_channel_says_which_variable_is_missing(monkeypatch):
    monkeypatch.setenv("LAPOR_META_APP_SECRET", "x")
    meta = next(c for c in load_settings().channel_statuses() if c.name == "meta")
    assert not meta.enabled and meta.reason == "disabled: LAPOR_META_VERIFY_TOKEN not set"


def test_yaml_file_and_environment_precedence(monkeypatch, tmp_path):
    f = tmp_path / "lapor.yaml"
    f.write_text("LAPOR_HTTP_PORT: 9000\nsms_token: from-yaml\ncore_queue: q1\n")
    monkeypatch.setenv("LAPOR_CONFIG", str(f))
    monkeypatch.setenv("LAPOR_CORE_QUEUE", "from-env")
    s = load_settings()
    assert s.http_port == 9000 and s.secret(s.sms_token) == "from-yaml" and s.core_queue == "from-env"


def test_invalid_values_are_listed_clearly(monkeypatch):
    monkeypatch.setenv("LAPOR_HTTP_PORT", "eighty")
    monkeypatch.setenv("LAPOR_IMAP_TLS", "maybe")
    with pytest.raises(SettingsError) as exc:
        load_settings()
    msg = str(exc.value)
    assert "LAPOR_HTTP_PORT" in msg and "LAPOR_IMAP_TLS" in msg


def test_unknown_yaml_key_is_an_error(monkeypatch, tmp_path):
    f = tmp_path / "lapor.yaml"
    f.write_text("htp_port: 1\n")
    monkeypatch.setenv("LAPOR_CONFIG", str(f))
    with pytest.raises(SettingsError, match="unknown setting"):
        load_settings()


def test_secrets_do_not_show_in_repr(monkeypatch):
    monkeypatch.setenv("LAPOR_HTTP_TOKEN", "super-secret-token")
    s = load_settings()
    assert "super-secret-token" not in repr(s) and s.secret(s.http_token) == "super-secret-token"


def test_cli_refuses_invalid_configuration(monkeypatch, capsys):
    from gateway.cli import main

    monkeypatch.setenv("LAPOR_HTTP_PORT", "-5")
    with pytest.raises(SystemExit) as exc:
        main(["status"])
    assert exc.value.code == 3  # configuration errors: exit 3, not the "failing" 2
    assert "LAPOR_HTTP_PORT" in capsys.readouterr().err
