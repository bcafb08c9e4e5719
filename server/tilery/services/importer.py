"""Admin import of a server directory into the hierarchy, in place (no copy)."""
import mimetypes
import os
import re

from ..assetstores import FILESYSTEM
from ..errors import AccessError, RestError
from ..models.base import now


class Importer:
    def __init__(self, app):
        self.app = app
        self.models = app.models

    def check_path(self, path):
        """The real path to import, if it is inside an allowed root."""
        if not path or not os.path.isabs(path):
            raise RestError('The import path must be an absolute path on the server.')
        real = os.path.realpath(path)
        if not self._inside_roots(real):
            raise AccessError('Importing from %s is not allowed: it is outside the allowed '
                              'import roots (%s).' % (path, ', '.join(
                                  self.app.settings.import_roots)))
        if not os.path.exists(real):
            raise RestError('Import path does not exist: %s' % path)
        return real

    def _inside_roots(self, path):
        real = os.path.realpath(path)
        roots = [os.path.realpath(r) for r in self.app.settings.import_roots]
        return not roots or any(real == r or real.startswith(r.rstrip(os.sep) + os.sep)
                                for r in roots)

    def run(self, assetstore, path, parent, parent_type, user, leaf_folders_as_items=False,
            include=None, exclude=None):
        """Import files and folders below ``path``; returns counts."""
        if assetstore['type'] != FILESYSTEM:
            raise RestError('Only filesystem assetstores can import files in place.')
        real = self.check_path(path)
        try:
            include_re = re.compile(include) if include else None
            exclude_re = re.compile(exclude) if exclude else None
        except re.error as exc:
            raise RestError('Invalid file regular expression: %s.' % exc)
        counts = {'folders': 0, 'items': 0, 'files': 0, 'skipped': 0}
        if os.path.isfile(real):
            if parent_type != 'folder':
                raise RestError('A single file can only be imported into a folder.')
            self._import_file(assetstore, real, parent, user, counts, real)
        else:
            self._import_dir(assetstore, real, parent, parent_type, user,
                             leaf_folders_as_items, include_re, exclude_re, counts, real)
        self.app.audit.record('import', user, assetstoreId=assetstore['_id'], path=real,
                              parentType=parent_type, parentId=parent['_id'], **counts)
        return counts

    def _wanted(self, name, include_re, exclude_re):
        if include_re and not include_re.search(name):
            return False
        return not (exclude_re and exclude_re.search(name))

    def _import_dir(self, assetstore, path, parent, parent_type, user, leaves, inc, exc,
                    counts, root):
        entries = sorted(os.scandir(path), key=lambda e: e.name)
        folders = self.models.folder
        subdirs = [e for e in entries if e.is_dir(follow_symlinks=False)]
        files = [e for e in entries if e.is_file() and self._wanted(e.name, inc, exc)]
        for entry in files:
            # a symlink may point outside the allowed roots: never serve what it reaches
            if parent_type != 'folder' or not self._inside_roots(entry.path):
                counts['skipped'] += 1
                continue
            self._import_file(assetstore, entry.path, parent, user, counts, root)
        for entry in subdirs:
            if leaves and parent_type == 'folder' and not any(
                    e.is_dir(follow_symlinks=False) for e in os.scandir(entry.path)):
                self._import_leaf(assetstore, entry, parent, user, inc, exc, counts, root)
                continue
            folder = folders.create(entry.name, parent, parent_type, user, reuse_existing=True)
            counts['folders'] += 1
            self._import_dir(assetstore, entry.path, folder, 'folder', user, leaves, inc, exc,
                             counts, root)

    def _import_leaf(self, assetstore, entry, parent, user, inc, exc, counts, root):
        """As in Girder: a folder holding only files becomes one item of them."""
        item = self.models.item.create(entry.name, parent, user, reuse_existing=True)
        counts['items'] += 1
        for sub in sorted(os.scandir(entry.path), key=lambda e: e.name):
            if sub.is_file() and self._wanted(sub.name, inc, exc) and \
                    self._inside_roots(sub.path):
                self._add_file(assetstore, sub.path, item, user, counts, root)

    def _import_file(self, assetstore, path, folder, user, counts, root):
        item = self.models.item.create(os.path.basename(path), folder, user,
                                       reuse_existing=True)
        counts['items'] += 1
        self._add_file(assetstore, path, item, user, counts, root)

    def _add_file(self, assetstore, path, item, user, counts, root):
        files = self.models.file
        name = os.path.basename(path)
        if files.find_one({'itemId': item['_id'], 'name': name, 'path': path}):
            counts['skipped'] += 1
            return
        size = os.path.getsize(path)
        doc = {'name': name, 'itemId': item['_id'], 'size': size,
               'mimeType': mimetypes.guess_type(name)[0] or 'application/octet-stream',
               'assetstoreId': assetstore['_id'], 'creatorId': user['_id'],
               'created': now(), 'updated': now(), 'imported': True, 'path': path,
               'importRoot': root,  # every read checks the file is still under it
               'exts': [p.lower() for p in name.split('.')[1:]]}
        doc = files.save(doc)
        self.models.item.adjust_size(item['_id'], size)
        counts['files'] += 1
        self.app.events.emit('model.file.finalized', {
            'file': doc, 'item': self.models.item.load(item['_id']), 'upload': None,
            'replaced': None})
