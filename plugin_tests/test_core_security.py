"""Safe to share (issue 8): user files never run in Tilery's origin, security headers,
no version banner, the HttpOnly sign-in cookie and CSRF."""
import base64
import os

import pytest
import requests

from test_core_support import assert_error, home_folder, make_item, ok, upload

SANDBOX = "sandbox; default-src 'none'"


@pytest.fixture
def item(server, user):
    return make_item(server, user, home_folder(server, user, 'Public'), 'shared')


def download(server, file, who=None, **params):
    headers = params.pop('headers', None)
    return server.request('file/%s/download' % file['_id'], user=who, params=params,
                          headers=headers)


@pytest.mark.parametrize('name,data', [
    ('report.html', b'<script>alert(1)</script>'), ('pic.svg', b'<svg onload="x()"/>'),
    ('page.xhtml', b'<html/>'), ('feed.xml', b'<x/>'), ('app.js', b'alert(1)'),
    ('mod.mjs', b'export {}'), ('page.htm', b'<p>')])
def test_active_files_download_as_attachments(server, user, other, item, name, data):
    file = upload(server, user, item, data, name)
    for who in (user, other, None):
        resp = download(server, file, who, contentDisposition='inline')
        assert resp.status == 200 and resp.body == data
        assert resp.headers['Content-Disposition'].startswith('attachment;'), resp.headers
        assert resp.headers['X-Content-Type-Options'] == 'nosniff'
        assert resp.headers['Content-Security-Policy'] == SANDBOX


def test_owner_set_active_type_still_downloads_as_attachment(server, user, item):
    file = upload(server, user, item, b'<script>1</script>', 'notes.txt')
    resp = download(server, file, user, contentDisposition='inline')
    assert resp.headers['Content-Disposition'].startswith('inline;')  # plain text stays inline
    assert resp.headers['Content-Security-Policy'] == SANDBOX
    for mime in ('text/html', 'image/svg+xml', 'application/xhtml+xml; charset=utf-8',
                 'application/javascript', 'text/xml', 'application/atom+xml'):
        ok(server.request('file/%s' % file['_id'], 'PUT', user=user, params={'mimeType': mime}))
        for route in ('file/%s/download' % file['_id'], 'file/%s/download/notes.txt' % file['_id'],
                      'item/%s/download' % item['_id']):
            resp = server.request(route, user=user, params={'contentDisposition': 'inline'})
            assert resp.status == 200 and resp.headers['Content-Type'] == mime
            assert resp.headers['Content-Disposition'].startswith('attachment;'), (mime, route)
            assert resp.headers['X-Content-Type-Options'] == 'nosniff'
            assert resp.headers['Content-Security-Policy'] == SANDBOX


def test_zips_and_api_answers_carry_the_headers(server, user, item):
    upload(server, user, item, b'a', 'a.html')
    folder = home_folder(server, user, 'Public')
    for route, params in (('folder/%s/download' % folder['_id'], {}),
                          ('item/%s/download' % item['_id'], {'format': 'zip'}),
                          ('resource/download', {'resources': '{"folder": ["%s"]}' %
                                                 folder['_id']}),
                          ('user/me', {}), ('system/version', {}), ('no/such/route', {})):
        resp = server.request(route, user=user, params=params)
        assert resp.headers['X-Content-Type-Options'] == 'nosniff', route
        assert resp.headers['X-Frame-Options'] == 'DENY', route
        assert resp.headers['Content-Security-Policy'] == SANDBOX, route


def test_download_origin_serves_active_files_inline_only_on_its_host(server, user, item):
    server.app.settings.download_origin = 'https://usercontent.example.org'
    file = upload(server, user, item, b'<h1>hi</h1>', 'page.html')
    on_main = download(server, file, user, contentDisposition='inline',
                       headers={'Host': 'tilery.example.org'})
    assert on_main.headers['Content-Disposition'].startswith('attachment;')
    on_usercontent = download(server, file, user, contentDisposition='inline',
                              headers={'Host': 'usercontent.example.org'})
    assert on_usercontent.headers['Content-Disposition'].startswith('inline;')
    assert on_usercontent.headers['Content-Security-Policy'] == SANDBOX
    asked_attachment = download(server, file, user, headers={'Host': 'usercontent.example.org'})
    assert asked_attachment.headers['Content-Disposition'].startswith('attachment;')
    server.app.settings.download_origin = None
    assert download(server, file, user, contentDisposition='inline', headers={
        'Host': 'usercontent.example.org'}).headers['Content-Disposition'].startswith(
        'attachment;')


def test_web_page_headers_and_no_version_banner(bound_server, tmp_path):
    web = tmp_path / 'web'
    (web / 'assets').mkdir(parents=True)
    (web / 'index.html').write_text('<!doctype html><title>t</title>')
    (web / 'assets' / 'app.js').write_text('1')
    bound_server.app.settings.web_client_dir = str(web)
    for path in ('/', '/some/client/route', '/assets/app.js', '/api/v1/system/version',
                 '/api/v1/nope'):
        resp = requests.get(bound_server.url + path)
        server_header = resp.headers.get('Server', '')
        assert 'CherryPy' not in server_header and not any(c.isdigit() for c in server_header)
        assert resp.headers['X-Content-Type-Options'] == 'nosniff', path
        assert resp.headers['X-Frame-Options'] == 'DENY', path
        if path.startswith('/api'):
            preflight = requests.options(bound_server.url + path)
            assert preflight.headers['X-Content-Type-Options'] == 'nosniff'
            assert 'CherryPy' not in preflight.headers.get('Server', '')
        else:
            csp = resp.headers['Content-Security-Policy']
            for part in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'",
                         "object-src 'none'", "base-uri 'self'"):
                assert part in csp, (path, csp)
            assert 'unsafe-eval' not in csp and "script-src 'self' 'unsafe-inline'" not in csp
            assert resp.headers['Referrer-Policy'] == 'same-origin'


def _cookie(resp):
    return resp.headers.get('Set-Cookie', '')


def basic(login, password):
    return 'Basic ' + base64.b64encode(('%s:%s' % (login, password)).encode()).decode()


def test_sign_in_sets_an_httponly_cookie_and_sign_out_clears_it(bound_server, admin):
    url = bound_server.api_url
    resp = requests.get(url + '/user/authentication',
                        headers={'Authorization': basic('admin', 'password1')})
    cookie = _cookie(resp)
    token = resp.json()['authToken']['token']
    assert cookie.startswith('girderToken=%s;' % token)
    for part in ('HttpOnly', 'Path=/', 'SameSite=Strict'):
        assert part in cookie, cookie
    assert 'Secure' not in cookie
    # behind a TLS proxy the cookie is Secure
    resp = requests.get(url + '/user/authentication', headers={
        'Authorization': basic('admin', 'password1'), 'X-Forwarded-Proto': 'https'})
    assert 'Secure' in _cookie(resp)
    # a page reload with the stored token gets the cookie back
    again = requests.get(url + '/user/authentication', headers={'Girder-Token': token})
    assert again.status_code == 200 and _cookie(again).startswith('girderToken=%s;' % token)
    assert 'HttpOnly' in _cookie(again)
    # registration that signs in sets it too
    reg = requests.post(url + '/user', params={
        'login': 'newbie', 'email': 'n@example.com', 'firstName': 'N', 'lastName': 'B',
        'password': 'password1'})
    assert reg.status_code == 200 and 'HttpOnly' in _cookie(reg)
    gone = requests.delete(url + '/user/authentication', headers={'Girder-Token': token})
    assert gone.status_code == 200
    assert _cookie(gone).startswith('girderToken=;') and 'HttpOnly' in _cookie(gone)
    assert 'Expires=Thu, 01 Jan 1970' in _cookie(gone)


def test_the_cookie_authenticates_only_reads(server, user, item):
    file = upload(server, user, home_folder(server, user, 'Private'), b'secret', 'secret.bin',
                  parent_type='folder')
    token = server.token_for(user)
    # GET and HEAD downloads (links, <img> tiles) work with the cookie alone
    assert server.request('file/%s/download' % file['_id'], cookie=token).body == b'secret'
    assert server.request('file/%s/download' % file['_id'], 'HEAD', cookie=token).status == 200
    # a cross-site form POST carries the cookie but no header: it is anonymous
    resp = server.request('resource/download', 'POST', cookie=token, params={
        'resources': '{"item": ["%s"]}' % file['itemId']})
    assert_error(resp, 401)
    # routes not declared for the cookie ignore it, whatever the verb
    assert_error(server.request('folder', 'POST', cookie=token, params={
        'parentType': 'user', 'parentId': user['_id'], 'name': 'x'}), 401)
    assert server.request('user/me', cookie=token).json is None
    # the header still works for everything
    resp = server.request('resource/download', 'POST', token=token, params={
        'resources': '{"item": ["%s"]}' % file['itemId']})
    assert resp.status == 200 and resp.body.startswith(b'PK') and b'secret' in resp.body


@pytest.mark.parametrize('with_roots', [True, False])
def test_an_imported_file_swapped_for_a_symlink_is_not_served(server, admin, tmp_path,
                                                              with_roots):
    root = tmp_path / 'scanner'
    (root / 'case').mkdir(parents=True)
    (root / 'case' / 'slide.txt').write_bytes(b'slide bytes')
    (root / 'case' / 'kept.txt').write_bytes(b'kept')
    secret = tmp_path / 'secret.txt'
    secret.write_bytes(b'outside the import root')
    if with_roots:
        server.app.settings.import_roots = (str(tmp_path),)  # the whole tmp dir is allowed
    store = server.app.models.assetstore.current()
    dest = home_folder(server, admin)
    ok(server.request('assetstore/%s/import' % store['_id'], 'POST', user=admin, params={
        'importPath': str(root / 'case'), 'destinationId': dest['_id']}))
    files = {f['name']: f for f in server.app.models.file.find({'imported': True})}
    slide = files['slide.txt']
    assert download(server, slide, admin).body == b'slide bytes'
    (root / 'case' / 'slide.txt').unlink()
    os.symlink(secret, root / 'case' / 'slide.txt')
    for route in ('file/%s/download' % slide['_id'], 'item/%s/download' % slide['itemId']):
        assert_error(server.request(route, user=admin), 403, contains='points outside')
    with pytest.raises(Exception) as caught:
        server.app.models.file.local_path(slide)  # what tile sources open
    assert 'outside' in str(caught.value)
    # a symlink that stays inside the imported folder is still served
    (root / 'case' / 'slide.txt').unlink()
    os.symlink(root / 'case' / 'kept.txt', root / 'case' / 'slide.txt')
    assert download(server, slide, admin).body == b'kept'
    # a file removed from disk: a clear 404, not a 500
    (root / 'case' / 'kept.txt').unlink()
    assert_error(download(server, files['kept.txt'], admin), 404, contains='no longer')
