"""Fixtures shared by every test: a real database server, one database per test."""
import os
import tempfile
import uuid

import girder_client
import pytest

from tilery import database
from tilery.testing import BoundServer, TestServer, make_app


@pytest.fixture(scope='session')
def mongo_uri():
    """``MONGO_URI`` when set, else an embedded SecantusDB started for the session."""
    uri = os.environ.get('MONGO_URI')
    if uri:
        yield uri
        return
    with tempfile.TemporaryDirectory(prefix='tilery-db-') as path:
        with database.EmbeddedDatabase(path) as server:
            yield server.uri


@pytest.fixture(scope='session')
def mongo_client(mongo_uri):
    client = database.connect(mongo_uri)
    yield client
    client.close()


@pytest.fixture
def db(mongo_client):
    """A fresh, empty database, dropped after the test."""
    name = 'test_%s' % uuid.uuid4().hex[:12]
    yield mongo_client[name]
    mongo_client.drop_database(name)


@pytest.fixture
def server(mongo_client, db, tmp_path):
    """An app on a fresh database; ``server.request(...)`` calls it in-process."""
    app = make_app(mongo_client, db, tmp_path / 'data')
    yield TestServer(app)
    app.stop()


@pytest.fixture
def bound_server(server):
    """The same app served on a real port: ``.api_url`` for girder-client."""
    bound = BoundServer(server.app).start()
    yield bound
    bound.stop()


def _make_user(server, login, admin=False):
    users = server.app.models.user
    return users.create(login, '%s@example.com' % login, login.title(), 'Tester',
                        'password1', admin=admin)


@pytest.fixture
def admin(server):
    """The first user: a site admin."""
    return _make_user(server, 'admin')


@pytest.fixture
def user(server, admin):
    """A plain user (created after the admin)."""
    return _make_user(server, 'user1')


@pytest.fixture
def other(server, admin):
    """Another plain user."""
    return _make_user(server, 'other1')


@pytest.fixture
def make_user(server, admin):
    """Make more users: ``make_user('login')``."""
    return lambda login, admin=False: _make_user(server, login, admin)


@pytest.fixture
def gc(bound_server, admin):
    """girder-client from PyPI, signed in as the admin over real HTTP."""
    client = girder_client.GirderClient(apiUrl=bound_server.api_url)
    client.authenticate('admin', 'password1')
    return client
