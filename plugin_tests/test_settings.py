"""One settings declaration: typed, documented, and unknown keys refused at start."""
import dataclasses
import os
import subprocess
import sys

import pytest

from tilery import plugins
from tilery.app import check_settings, declared_settings
from tilery.settings import Settings, SettingsError, SettingsGroup, declared_fields
from tilery.testing import make_app


def write(tmp_path, text):
    path = tmp_path / 'tilery.toml'
    path.write_text(text)
    return str(path)


def tilery(*args, env=None):
    """Run the ``tilery`` command; (exit code, stdout + stderr)."""
    proc = subprocess.run([sys.executable, '-m', 'tilery.cli', *args], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, **(env or {})))
    return proc.returncode, proc.stdout + proc.stderr


def test_unknown_core_key_is_refused_by_name(tmp_path):
    with pytest.raises(SettingsError, match='thread_pol'):
        Settings.load(write(tmp_path, 'thread_pol = 4\n'))


def test_wrong_types_are_refused_by_name(tmp_path, monkeypatch):
    with pytest.raises(SettingsError, match='port must be an integer'):
        Settings.load(write(tmp_path, 'port = "eighty"\n'))
    with pytest.raises(SettingsError, match='debug must be true or false'):
        Settings.load(write(tmp_path, 'debug = "maybe"\n'))
    monkeypatch.setenv('TILERY_TOKEN_DAYS', 'a month')
    with pytest.raises(SettingsError, match='token_days must be a number'):
        Settings.load()
    monkeypatch.delenv('TILERY_TOKEN_DAYS')
    with pytest.raises(SettingsError, match='workers'):
        Settings(workers=[4])
    settings = Settings.load(write(tmp_path, 'audit_days = 30\ncors_origins = ["a"]\n'))
    assert settings.audit_days == 30.0 and isinstance(settings.audit_days, float)
    assert settings.cors_origins == ('a',)

    bad = Settings.load(write(tmp_path, '[plugins.jobs]\npool_size = "many"\n'))
    with pytest.raises(SettingsError, match='jobs.pool_size must be an integer'):
        check_settings(bad)
    monkeypatch.setenv('TILERY_LABELS_MAX_MASK_BYTES', 'big')
    with pytest.raises(SettingsError, match='labels.max_mask_bytes'):
        check_settings(Settings())


def test_unknown_plugin_keys_are_refused(tmp_path, monkeypatch):
    settings = Settings.load(write(tmp_path, '[plugins.large_image]\nmemcache_url = "x"\n'))
    with pytest.raises(SettingsError, match=r'large_image\.memcache_url'):
        check_settings(settings)
    settings = Settings.load(write(tmp_path, '[plugins.nosuch]\nsize = 1\n'))
    with pytest.raises(SettingsError, match=r'nosuch\.size'):
        check_settings(settings)
    # other tools' variables are left alone; a plugin's misspelt one is not
    monkeypatch.setenv('TILERY_CMD', 'tilery serve')
    check_settings(Settings())
    monkeypatch.setenv('TILERY_ANNOTATION_CHUNKSIZE', '10')
    with pytest.raises(SettingsError, match='TILERY_ANNOTATION_CHUNKSIZE'):
        check_settings(Settings())


def test_serve_stops_at_an_unknown_plugin_key(tmp_path):
    config = write(tmp_path, '[plugins.large_image]\nmemcache_url = "127.0.0.1:11211"\n')
    code, out = tilery('serve', '--config', config, '--data-dir', str(tmp_path / 'data'),
                       '--mongo-uri', 'mongodb://127.0.0.1:1/unused', '--port', '0')
    assert code != 0
    assert 'large_image.memcache_url' in out and 'Traceback' not in out
    assert not (tmp_path / 'data' / 'db').exists()  # refused before the database started


def test_environment_reaches_plugins_typed(mongo_client, db, tmp_path, monkeypatch):
    monkeypatch.setenv('TILERY_ANNOTATION_HISTORY_KEEP', '3')
    monkeypatch.setenv('TILERY_LABELS_MAX_SUPERPIXEL_SIZE', '512')
    app = make_app(mongo_client, db, tmp_path / 'data',
                   extra={'annotation.history_keep': 7, 'annotation.chunk_size': 20})
    try:
        assert app.annotations.settings['history_keep'] == 3  # the environment wins
        assert app.annotations.settings['chunk_size'] == 20
        assert app.labels.max_superpixel_size == 512
    finally:
        app.stop()


def test_every_setting_has_a_type_and_a_meaning():
    fields = declared_fields(Settings)
    assert {f.name for f in dataclasses.fields(Settings)} - {f.name for f in fields} == {
        'extra'}
    groups = declared_settings(plugins.discover())
    assert {'jobs', 'large_image', 'annotation', 'labels'} <= set(groups)
    for plugin in plugins.discover().values():
        assert plugin.settings is None or (
            issubclass(plugin.settings, SettingsGroup) and
            plugin.settings.prefix == plugin.name), plugin.name
    for field in fields + [f for g in groups.values() for f in declared_fields(g)]:
        assert len(field.metadata['doc']) > 10, field.name
        assert field.type is not None and not isinstance(field.type, str), field.name


def test_tilery_settings_lists_them_all():
    code, out = tilery('settings')
    assert code == 0, out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    for field in declared_fields(Settings):
        assert field.metadata['doc'] in lines[field.name], field.name
    for prefix, group in declared_settings(plugins.discover()).items():
        assert '[plugins.%s]' % prefix in out
        for key, (default, meaning) in group.declared().items():
            assert meaning in out, key
