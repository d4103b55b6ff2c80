"""Config validation: a bad file gives one clear error naming file, line and field; exit 2."""

import shutil

import pytest

from carewatch.config import load_config
from carewatch.core.errors import ConfigError
from tests.conftest import ROOT, carewatch


@pytest.fixture
def cfg_dir(tmp_path):
    d = tmp_path / "config"
    shutil.copytree(ROOT / "config", d)
    return d


def test_shipped_config_is_valid():
    config = load_config(ROOT / "config")
    assert len(config.sources) >= 8 and config.topics.topics and config.alerts.subscribers


def test_bad_field_names_file_line_and_field(cfg_dir):
    text = (cfg_dir / "sources.yaml").read_text()
    text = text.replace("url: https://www.birmingham.gov.uk/news", "url: ftp://www.birmingham.gov.uk/news", 1)
    (cfg_dir / "sources.yaml").write_text(text)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "ftp://" in ln)
    index = [s.url for s in load_config(ROOT / "config").sources].index("https://www.birmingham.gov.uk/news")
    with pytest.raises(ConfigError) as e:
        load_config(cfg_dir)
    assert f"sources.yaml:{line}: sources.{index}.url: must be an http:// or https:// URL" in str(e.value)


def test_unknown_key_and_missing_selector_are_errors(cfg_dir):
    (cfg_dir / "sources.yaml").write_text(
        "sources:\n  - id: x\n    name: X\n    kind: listing\n    url: https://x.org/\n    colour: red\n"
    )
    with pytest.raises(ConfigError) as e:
        load_config(cfg_dir)
    msg = str(e.value)
    assert "sources.yaml:6: sources.0.colour: unknown key 'colour'; allowed here: authority, cadence, " in msg
    (cfg_dir / "sources.yaml").write_text(
        "sources:\n  - id: x\n    name: X\n    kind: listing\n    url: https://x.org/\n"
    )
    with pytest.raises(ConfigError, match="sources.yaml:2: sources.0: a listing source needs 'links'"):
        load_config(cfg_dir)


def test_unknown_topic_in_alerts_is_named(cfg_dir):
    text = (cfg_dir / "alerts.yaml").read_text().replace("topics: [ofsted, child_deaths]", "topics: [ofsted, cats]")
    (cfg_dir / "alerts.yaml").write_text(text)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "cats" in ln)
    with pytest.raises(ConfigError, match=rf"alerts.yaml:{line}: subscribers.1.topics.1: unknown topic 'cats'"):
        load_config(cfg_dir)


def test_invalid_yaml_is_reported_with_its_line(cfg_dir):
    (cfg_dir / "topics.yaml").write_text("topics:\n  a: [unclosed\n")
    with pytest.raises(ConfigError, match=r"topics.yaml:\d+: not valid YAML"):
        load_config(cfg_dir)


def test_cli_config_check_exits_2_without_traceback(cfg_dir):
    (cfg_dir / "settings.yaml").write_text("download_delay: -1\n")
    result = carewatch("--config", str(cfg_dir), "config", "check")
    assert result.returncode == 2
    assert "settings.yaml:1: download_delay: Input should be greater than or equal to 0" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    ok = carewatch("--config", str(ROOT / "config"), "config", "check")
    assert ok.returncode == 0 and "ok" in ok.stdout


def test_demo_sources_are_the_shipped_sources_on_their_demo_hosts():
    """Every real source has a demo twin with the same entry; only the host (+ .test, http) differs."""
    from urllib.parse import urlsplit, urlunsplit

    real = load_config(ROOT / "config").sources
    demo = load_config(ROOT / "demo" / "config").sources
    assert [s.id for s in real] == [s.id for s in demo]
    for r, d in zip(real, demo):
        parts = urlsplit(r.url)
        assert d.url == urlunsplit(parts._replace(scheme="http", netloc=parts.netloc + ".test"))
        assert r.model_dump(exclude={"url"}) == d.model_dump(exclude={"url"})


def test_environment_overrides_settings_yaml_and_the_option_overrides_both(cfg_dir, tmp_path, monkeypatch):
    """Precedence (config.environment): --db > $CAREWATCH_DB > settings.yaml's database > default."""
    from carewatch.config.environment import with_environment
    from carewatch.config.schema import Settings
    from carewatch.store.db import open_db

    (cfg_dir / "settings.yaml").write_text("database: from-yaml.db\n")
    monkeypatch.delenv("CAREWATCH_DB", raising=False)
    assert load_config(cfg_dir).settings.database == "from-yaml.db"
    assert Settings().database == "carewatch.db"
    monkeypatch.setenv("CAREWATCH_DB", str(tmp_path / "from-env.db"))
    assert load_config(cfg_dir).settings.database == str(tmp_path / "from-env.db")
    assert with_environment(Settings(), {}).database == "carewatch.db"  # nothing set: nothing changed
    for name in ("from-env.db", "option.db"):  # status reads an archive, never creates one
        open_db(tmp_path / name).close()
    status = carewatch("--config", str(cfg_dir), "status", env={"CAREWATCH_DB": str(tmp_path / "from-env.db")})
    assert status.returncode == 0 and f"Database: {tmp_path / 'from-env.db'}" in status.stdout, status.stderr
    status = carewatch(
        "--config",
        str(cfg_dir),
        "--db",
        str(tmp_path / "option.db"),
        "status",
        env={"CAREWATCH_DB": str(tmp_path / "from-env.db")},
    )
    assert f"Database: {tmp_path / 'option.db'}" in status.stdout, status.stderr


def test_sign_up_needs_the_public_url_its_links_are_made_from(cfg_dir, monkeypatch):
    """signup open (or approval) with no public_url would mail confirmation links that lead nowhere:
    refused, naming the line; $CAREWATCH_PUBLIC_URL counts as public_url."""
    monkeypatch.delenv("CAREWATCH_PUBLIC_URL", raising=False)
    (cfg_dir / "settings.yaml").write_text("database: x.db\nsignup: open\n")
    with pytest.raises(ConfigError) as e:
        load_config(cfg_dir)
    assert "settings.yaml:2: signup: 'open' needs public_url" in str(e.value)
    check = carewatch("--config", str(cfg_dir), "config", "check", env={"CAREWATCH_PUBLIC_URL": ""})
    assert check.returncode == 2 and "signup: 'open' needs public_url" in check.stderr, check.stderr
    monkeypatch.setenv("CAREWATCH_PUBLIC_URL", "https://alerts.example.org/")
    assert load_config(cfg_dir).settings.public_url == "https://alerts.example.org/"
    monkeypatch.delenv("CAREWATCH_PUBLIC_URL")
    (cfg_dir / "settings.yaml").write_text("signup: approval\npublic_url: https://alerts.example.org/\n")
    assert load_config(cfg_dir).settings.signup == "approval"
    (cfg_dir / "settings.yaml").write_text("signup: closed\n")
    assert load_config(cfg_dir).settings.public_url is None


def test_relevance_local_entities_must_be_entities(cfg_dir):
    text = (cfg_dir / "topics.yaml").read_text()
    assert "local_entities: [birmingham_childrens_trust" in text
    (cfg_dir / "topics.yaml").write_text(
        text.replace("local_entities: [birmingham_childrens_trust", "local_entities: [the_trust")
    )
    line = next(i for i, ln in enumerate((cfg_dir / "topics.yaml").read_text().splitlines(), 1) if "the_trust" in ln)
    with pytest.raises(ConfigError) as e:
        load_config(cfg_dir)
    assert f"topics.yaml:{line}: relevance.local_entities.0: unknown entity 'the_trust'" in str(e.value)
