"""The annotation collections' one owner: handles and indexes (see store.py for what
each collection holds)."""
from .. import AccessControlledModel
from . import store


class Annotation(AccessControlledModel):
    """Annotation documents with their own ACL (``collection``), and the collections of
    their versions (``versions``), element chunks (``chunks``), the chunks' JSON parts
    (``parts``) and the in-flight markers of running ingests (``ingest``). The service
    does everything else, through these handles."""

    collection_name = store.ANNOTATION
    model_type = 'annotation'
    missing_status = 404
    private_fields = store.INTERNAL_FIELDS
    indexes = ([('itemId', 1), ('_active', 1)], [('creatorId', 1)], [('folderId', 1)])

    def __init__(self, app):
        super().__init__(app)
        self.versions = self.db[store.VERSION]
        self.chunks = self.db[store.CHUNK]
        self.parts = self.db[store.PART]
        self.ingest = self.db[store.INGEST]  # in-flight markers (orphans.InFlight)

    def ensure_indexes(self):
        """The indexes of all five collections (idempotent)."""
        super().ensure_indexes()
        self.versions.create_index([('annotationId', 1), ('_version', 1)], unique=True)
        self.chunks.create_index([('annotationId', 1)])
        self.parts.create_index([('chunkId', 1)])
        self.ingest.create_index([('annotationId', 1)])
