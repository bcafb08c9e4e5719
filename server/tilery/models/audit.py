"""The audit log: who signed in, changed access, keys or site settings, and when."""
from .base import Model


class AuditEvent(Model):
    collection_name = 'audit_log'
    model_type = 'audit'
    # entries carry an ``expires`` date when the log is bounded by age (audit_days)
    indexes = ('type', 'userId', ([('when', -1)], {}),
               ([('expires', 1)], {'expireAfterSeconds': 0}))

    def add(self, doc):
        doc['_id'] = self.collection.insert_one(doc).inserted_id
        return doc

    def query(self, type=None, user_id=None, since=None, until=None):
        """A filter for GET /system/audit: types (comma-separated), user and date range."""
        query = {}
        if type:
            query['type'] = {'$in': [t.strip() for t in type.split(',') if t.strip()]}
        if user_id is not None:
            query['userId'] = user_id
        when = {}
        if since is not None:
            when['$gte'] = since
        if until is not None:
            when['$lt'] = until
        if when:
            query['when'] = when
        return query

    def filter(self, doc, user=None):
        out = dict(doc)
        out.pop('expires', None)
        out['_modelType'] = 'audit'
        return out
