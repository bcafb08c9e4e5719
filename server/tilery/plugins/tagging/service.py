"""Fast image tagging: a folder's tag set, tags on items, CSV in and out.

The CSV format is the one the fast tagging tool reads and writes: ``clip_id``,
optional ``modality``, ``file_path`` and one ``tag_code_<code>`` column per tag
holding True/False.
"""
import csv
import io

from ...errors import RestError, ValidationError
from .. import now

KEYS = '1234567890qwertyuiopasdfghjklzxcvbnm'


class TaggingService:
    def __init__(self, app):
        self.app = app

    # -- the tag set
    def tagset(self, folder):
        return folder.get('tagset') or {'tags': [], 'multiple': False}

    def set_tagset(self, folder, body):
        tags = body.get('tags')
        if not isinstance(tags, list) or not tags:
            raise ValidationError('tags must be a non-empty list.', 'tags')
        clean, codes, keys = [], set(), set()
        for i, tag in enumerate(tags):
            clean.append(_clean_tag(i, tag, codes, keys))
        tagset = {'tags': clean, 'multiple': bool(body.get('multiple', False))}
        self.app.models.folder.collection.update_one({'_id': folder['_id']},
                                                     {'$set': {'tagset': tagset}})
        return tagset

    # -- tags on items (kept in item meta, so scripts see them)
    def set_tags(self, item, folder, tags):
        tagset = self.tagset(folder)
        known = {t['code'] for t in tagset['tags']}
        tags = [str(t) for t in tags]
        unknown = [t for t in tags if t not in known]
        if unknown:
            raise ValidationError('Unknown tag codes: %s.' % ', '.join(unknown), 'tags')
        if not tagset['multiple'] and len(tags) > 1:
            raise ValidationError('This folder allows one tag per image.', 'tags')
        ordered = [t['code'] for t in tagset['tags'] if t['code'] in set(tags)]
        meta = dict(item.get('meta') or {})
        meta['tags'] = ordered
        meta['tagged'] = now().isoformat() + 'Z'
        self.app.models.item.collection.update_one(
            {'_id': item['_id']}, {'$set': {'meta': meta, 'updated': now()}})
        item['meta'] = meta
        return item

    def summary(self, folder):
        """How many items carry each tag, and how many carry none."""
        counts = {t['code']: 0 for t in self.tagset(folder)['tags']}
        total = untagged = 0
        for item in self.app.models.item.find({'folderId': folder['_id']},
                                              fields={'meta.tags': 1}):
            total += 1
            tags = (item.get('meta') or {}).get('tags')
            if not tags:
                untagged += 1
            for code in tags or ():
                if code in counts:
                    counts[code] += 1
        return {'items': total, 'untagged': untagged, 'counts': counts}

    # -- CSV
    def export_csv(self, folder):
        """The folder's items and tags as the tagging tool's CSV."""
        codes = [t['code'] for t in self.tagset(folder)['tags']]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator='\n')
        writer.writerow(['clip_id', 'modality', 'file_path'] + ['tag_code_%s' % c
                                                                for c in codes])
        for item in self.app.models.item.find({'folderId': folder['_id']},
                                              sort=[('lowerName', 1)]):
            meta = item.get('meta') or {}
            tags = set(meta.get('tags') or ())
            writer.writerow([meta.get('clip_id', ''), meta.get('modality', ''), item['name']] +
                            ['True' if c in tags else 'False' for c in codes])
        return out.getvalue()

    def import_csv(self, folder, text):
        """Apply a tagging CSV: every row is checked before anything is written."""
        reader = csv.DictReader(io.StringIO(text))
        tag_columns = _tag_columns(reader.fieldnames)
        tagset = self.tagset(folder)
        updates, errors = [], []
        for n, row in enumerate(reader, start=2):
            try:
                updates.append(self._row_update(folder, tagset, tag_columns, row))
            except _RowError as exc:
                errors.append('line %d: %s' % (n, exc))
        if errors:
            raise RestError('The CSV was not applied: ' + '; '.join(errors[:20]) + (
                ' (and %d more)' % (len(errors) - 20) if len(errors) > 20 else ''))
        for item, tags, extra in updates:
            item.setdefault('meta', {}).update(extra)
            self.set_tags(item, folder, tags)
        return {'updated': len(updates)}

    def _row_update(self, folder, tagset, tag_columns, row):
        """(item, tags, extra metadata) of one CSV row; _RowError says what is wrong."""
        path = (row.get('file_path') or '').strip()
        name = path.replace('\\', '/').rsplit('/', 1)[-1]
        item = self.app.models.item.find_one({'folderId': folder['_id'], 'name': name})
        if item is None:
            raise _RowError('no item named %r in this folder' % name)
        tags = _row_tags(row, tag_columns)
        known = {t['code'] for t in tagset['tags']}
        unknown = [t for t in tags if t not in known]
        if unknown:
            raise _RowError('unknown tag codes %s' % ', '.join(unknown))
        if not tagset['multiple'] and len(tags) > 1:
            raise _RowError('%d tags, but this folder allows one' % len(tags))
        return item, tags, {k: row[k] for k in ('clip_id', 'modality') if row.get(k)}


class _RowError(Exception):
    """What is wrong with one CSV row."""


def _row_tags(row, tag_columns):
    if tag_columns:
        return [c[len('tag_code_'):] for c in tag_columns
                if (row.get(c) or '').strip().lower() in ('true', '1', 'yes')]
    return [str(row.get('tag_code')).strip()] if row.get('tag_code') else []


def _tag_columns(fieldnames):
    """The tag_code_<code> columns of a tagging CSV ([] for one tag_code column)."""
    if not fieldnames or 'file_path' not in fieldnames:
        raise ValidationError('The CSV needs a file_path column.', 'file_path')
    tag_columns = [c for c in fieldnames if c.startswith('tag_code_')]
    if not tag_columns and 'tag_code' not in fieldnames:
        raise ValidationError('The CSV needs tag_code_<code> columns (or a tag_code '
                              'column).', 'tag_code')
    return tag_columns


def _clean_tag(i, tag, codes, keys):
    """Tag ``i`` of a tag set checked and in stored form; adds its code and key to
    ``codes`` and ``keys`` (which must not hold them yet)."""
    if not isinstance(tag, dict):
        raise ValidationError('Tag %d must be an object.' % i, 'tags[%d]' % i)
    code = tag.get('code')
    if isinstance(code, bool) or not isinstance(code, (int, str)) or str(code) == '':
        raise ValidationError('Tag %d needs a code (a number or a word).' % i,
                              'tags[%d].code' % i)
    code = str(code)
    if not code.replace('_', '').replace('-', '').isalnum():
        raise ValidationError('Tag code %r may hold only letters, digits, "_" and '
                              '"-".' % code, 'tags[%d].code' % i)
    if code in codes:
        raise ValidationError('Tag code %s is listed twice.' % code, 'tags[%d].code' % i)
    alias = str(tag.get('alias') or code).strip()
    key = tag.get('key') or (KEYS[i] if i < len(KEYS) else None)
    if key is not None:
        key = str(key).lower()
        if len(key) != 1 or key in keys or key in 'f ':
            raise ValidationError('Tag %s: key %r must be one character, unique, and '
                                  'not "f" or space (they mean "none" and "next").' % (
                                      code, key), 'tags[%d].key' % i)
        keys.add(key)
    codes.add(code)
    return {'code': code, 'alias': alias, 'key': key}
