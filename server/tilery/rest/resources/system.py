"""/system and /assetstore: version, settings, plugins and storage (admins)."""
import datetime
import os
import platform
import threading
import time

import orjson
import psutil

from ... import __version__
from ...assetstores import FILESYSTEM, GRIDFS
from ...database import ping
from ...errors import RestError, Unavailable
from ...models.assetstore import Assetstore
from ...services.importer import Importer
from ..params import ModelParam, Param
from ..routing import ADMIN_ONLY, PUBLIC, Resource, route

#: girder-client compares this as a dotted version; we speak Girder 3's dialect.
GIRDER_API_RELEASE = '3.2.18'
READY_TIMEOUT = 2.0  # seconds the database has to answer a readiness ping


class SystemResource(Resource):
    prefix = 'system'

    def __init__(self, app):
        self.app = app

    @route('GET', 'version', response='Version', access=PUBLIC, summary='Server and API versions.')
    def version(self, req):
        return {'release': GIRDER_API_RELEASE, 'apiVersion': GIRDER_API_RELEASE,
                'serverVersion': __version__, 'server': 'tilery',
                'python': platform.python_version()}

    # health routes for load balancers and systemd: no token, no database for liveness
    @route('GET', 'health/live', response='Health',
           access=PUBLIC, summary='200 while the process serves '
           'requests (the database is not asked).')
    def live(self, req):
        return {'status': 'ok'}

    @route('GET', 'health/ready', response='Health',
           access=PUBLIC, summary='200 when the database answers '
           'a ping within 2 s, else 503: whether to send this server requests.')
    def ready(self, req):
        if not ping(self.app.mongo_client, READY_TIMEOUT):
            raise Unavailable('The database is not answering.')
        return {'status': 'ok', 'database': 'ok'}

    @route('GET', 'check', response='SystemCheck',
           access=PUBLIC, summary='System status, as Girder reports it: '
           'times for everyone; memory, threads and the database for administrators.',
           params=[Param('mode', '"quick" adds what is cheap to gather, "slow" the '
                         'database statistics (administrators only).',
                         enum=('basic', 'quick', 'slow'), default='basic')])
    def check(self, req, mode):
        process = psutil.Process(os.getpid())
        status = {'bootTime': psutil.boot_time(), 'currentTime': time.time(),
                  'processStartTime': process.create_time()}
        if not (req.user and req.user.get('admin')) or mode == 'basic':
            return status  # as in Girder: the rest is for administrators
        status.update({
            'virtualMemory': psutil.virtual_memory()._asdict(),
            'cpuCount': psutil.cpu_count(), 'processMemory': process.memory_info()._asdict(),
            'processCpuTimes': process.cpu_times()._asdict(), 'threads': threading.active_count(),
            'serverThreadPoolSize': self.app.settings.thread_pool,
            'mongoBuildInfo': self.app.db.command('buildInfo'),
            'databaseAnswers': ping(self.app.mongo_client, READY_TIMEOUT)})
        if mode == 'slow':
            status['mongoDbStats'] = self.app.db.command('dbStats')
        return status

    @route('GET', 'setting', response='SettingValue',
           access=ADMIN_ONLY, summary='Read site settings.', params=[
        Param('key'), Param('list', 'JSON list of keys.', 'json', json_types=(list,),
                            dest='keys')])
    def get_setting(self, req, key, keys):
        settings = self.app.models.setting
        if key is not None:
            return settings.get(key)
        return {k: settings.get(k) for k in (keys or sorted(settings.known))}

    @route('PUT', 'setting', response='SettingValue',
           access=ADMIN_ONLY, summary='Change site settings.', params=[
        Param('key'), Param('value', 'A JSON value, or plain text (null restores the '
                            'default).'),
        Param('list', 'JSON list of {key, value}.', 'json', json_types=(list,),
              dest='pairs')])
    def put_setting(self, req, key, value, pairs):
        settings = self.app.models.setting
        if pairs is not None:
            if not all(isinstance(p, dict) and 'key' in p for p in pairs):
                raise RestError('list must be a JSON list of {"key": ..., "value": ...}.')
            values = [settings.set(p['key'], p.get('value')) for p in pairs]
            for p, stored in zip(pairs, values):
                self.app.audit.record('setting.change', req.user, key=p['key'], value=stored)
            return values
        if key is None:
            raise RestError('Give key and value, or list.')
        stored = settings.set(key, _setting_value(value))
        self.app.audit.record('setting.change', req.user, key=key, value=stored)
        return stored

    @route('GET', 'public_settings', response='PublicSettings',
           access=PUBLIC, summary='Settings the web client reads.')
    def public_settings(self, req):
        settings = self.app.models.setting
        # noUsersYet lets the web client invite the first visitor to create the admin
        # account; it says nothing more about who is registered
        return {'core.registration_policy': settings.get('core.registration_policy'),
                'core.brand_name': settings.get('core.brand_name'),
                'noUsersYet': self.app.models.user.find_one({}, {'_id': 1}) is None}

    @route('GET', 'audit', response='AuditEvent[]',
           access=ADMIN_ONLY, paging=('when', -1), summary=(
        'The audit log: sign-ins, access, key and admin changes, imports (newest first).'),
        params=[Param('type', 'Event types, comma-separated (e.g. login.failure,login).'),
                Param('userId', 'Only events by this user.', 'objectid', dest='user_id'),
                Param('since', 'ISO 8601 date: events at or after it.'),
                Param('until', 'ISO 8601 date: events before it.')])
    def audit(self, req, type, user_id, since, until, paging):
        events = self.app.models.audit
        query = events.query(type, user_id, _date(since, 'since'), _date(until, 'until'))
        docs, total = events.find_page(query, paging)
        req.set_total_count(total)
        return [events.filter(d) for d in docs]

    @route('DELETE', 'login_throttle', response='Cleared', access=ADMIN_ONLY, summary=(
        'Lift a sign-in lock of an account (login or email) and/or a client address.'),
        params=[Param('login'), Param('ip', 'A client address.', dest='address')])
    def clear_login_throttle(self, req, login, address):
        if not login and not address:
            raise RestError('Give login, ip, or both.')
        return {'cleared': self.app.logins.clear(req.user, login, address)}

    @route('GET', 'access_flag', response='AccessFlags',
           access=PUBLIC, summary='The access flags this server knows.')
    def access_flags(self, req):
        return self.app.access_flags

    @route('GET', 'plugins', response='Plugins', access=ADMIN_ONLY, summary='Installed plugins.')
    def plugins(self, req):
        return {'all': {n: {'name': n, 'description': p.description}
                        for n, p in self.app.plugins.items()},
                'enabled': sorted(self.app.plugins)}


def _date(raw, name):
    """A naive UTC datetime from an ISO 8601 parameter (None stays None)."""
    if raw is None:
        return None
    try:
        value = datetime.datetime.fromisoformat(raw.strip().replace('Z', '+00:00'))
    except ValueError:
        raise RestError('Parameter "%s" must be an ISO 8601 date, not %r.' % (name, raw))
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def _setting_value(raw):
    """A setting's value: parsed as JSON when it is JSON, else the text itself (as Girder)."""
    if raw is None:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


def _assetstore(level=None):
    # assetstores have no ACL: these routes are admin-only, so no per-document check
    return ModelParam('id', model=Assetstore, dest='assetstore', force=True)


class AssetstoreResource(Resource):
    prefix = 'assetstore'

    def __init__(self, app):
        self.app = app
        self.assetstores = app.models.assetstore

    @route('GET', '', response='Assetstore[]',
           access=ADMIN_ONLY, paging='name', summary='List assetstores.')
    def find(self, req, paging):
        docs, total = self.assetstores.find_page({}, paging)
        req.set_total_count(total)
        return [self.assetstores.filter(d) for d in docs]

    @route('POST', '', response='Assetstore',
           access=ADMIN_ONLY, summary='Create an assetstore.', params=[
        Param('name', required=True), Param('type', type='integer', required=True,
                                            enum=(FILESYSTEM, GRIDFS)),
        Param('root', 'Directory (filesystem).'), Param('db', 'Database name (GridFS).'),
        Param('current', type='boolean', default=False)])
    def create(self, req, name, type, root, db, current):
        doc = self.assetstores.create(name, type, root, db, current)
        self.app.audit.record('assetstore.create', req.user, assetstoreId=doc['_id'],
                              name=name, type=type, root=root, db=db)
        return self.assetstores.filter(doc)

    @route('GET', ':id', response='Assetstore',
           access=ADMIN_ONLY, params=[_assetstore()], summary='Get one.')
    def get(self, req, assetstore):
        return self.assetstores.filter(assetstore)

    @route('PUT', ':id', response='Assetstore',
           access=ADMIN_ONLY, summary='Update an assetstore.', params=[
        _assetstore(), Param('name'), Param('root'), Param('db'),
        Param('current', type='boolean')])
    def update(self, req, assetstore, name, root, db, current):
        for field, value in (('name', name), ('root', root), ('db', db)):
            if value is not None:
                assetstore[field] = value
        self.assetstores.save(assetstore)
        if current:
            self.assetstores.make_current(assetstore)
        self.app.audit.record('assetstore.update', req.user, assetstoreId=assetstore['_id'],
                              name=name, root=root, db=db, current=current)
        return self.assetstores.filter(assetstore)

    @route('DELETE', ':id', response='Message', access=ADMIN_ONLY, params=[_assetstore()],
           summary='Delete an empty assetstore.')
    def delete(self, req, assetstore):
        self.assetstores.remove(assetstore)
        self.app.audit.record('assetstore.delete', req.user, assetstoreId=assetstore['_id'],
                              name=assetstore['name'])
        return {'message': 'Deleted assetstore %s.' % assetstore['name']}

    @route('POST', ':id/import', response='ImportCounts', access=ADMIN_ONLY, summary=(
        'Import a server directory in place (files are not copied).'), params=[
        _assetstore(), Param('importPath', required=True, dest='path'),
        Param('destinationId', type='objectid', required=True, dest='dest_id'),
        Param('destinationType', enum=('folder', 'user', 'collection'), default='folder',
              dest='dest_type'),
        Param('leafFoldersAsItems', type='boolean', default=False, dest='leaves'),
        Param('fileIncludeRegex', dest='include'), Param('fileExcludeRegex', dest='exclude'),
        Param('progress', type='boolean', default=False)])
    def import_(self, req, assetstore, path, dest_id, dest_type, leaves, include, exclude,
                progress):
        parent = self.app.models[dest_type].load(dest_id)
        return Importer(self.app).run(assetstore, path, parent, dest_type, req.user, leaves,
                                      include, exclude)
