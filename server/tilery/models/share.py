"""When a folder was shared with whom: the index behind "Shared with me".

The folder's ACL stays the one truth about access; a row here only says that an
access change gave a user or a group an entry on a folder, and when. Only the folder
whose access was set gets a row: the subfolders a recursive change copies the ACL to
are reached by browsing it, and would flood the list.
"""
from .base import READ, Model, now


def principals(access):
    """{(kind, id)} of every user and group entry in an ACL that grants at least read."""
    return {(kind, entry['id']) for kind in ('user', 'group')
            for entry in (access or {}).get(kind + 's', ()) if entry.get('level', -1) >= READ}


class Share(Model):
    collection_name = 'share'
    model_type = 'share'
    # (principalId, since): a user's list is one index range per principal, newest first;
    # (folderId, principalId): revoking and recording find a folder's rows
    indexes = (([('folderId', 1), ('principalId', 1)], {'unique': True}),
               [('principalId', 1), ('since', -1)])

    def record(self, folder, old_access, sharer):
        """Note the entries an access change added to ``folder`` and drop the removed."""
        before, after = principals(old_access), principals(folder.get('access'))
        gone = [pid for _, pid in before - after]
        if gone:
            self.collection.delete_many({'folderId': folder['_id'], 'principalId': {'$in': gone}})
        sharer_id = sharer['_id'] if sharer else None
        owner = folder['baseParentId'] if folder.get('baseParentType') == 'user' else None
        for kind, pid in after - before:
            if pid == sharer_id or pid == owner:
                continue  # nobody shares a folder with themselves
            self.collection.update_one(
                {'folderId': folder['_id'], 'principalId': pid},
                {'$setOnInsert': {'kind': kind, 'since': now(), 'sharedBy': sharer_id,
                                  'ownerId': owner}}, upsert=True)

    def keep_only(self, folder_ids, access):
        """After a recursive access change: drop the rows of principals ``access`` lacks."""
        keep = [pid for _, pid in principals(access)]
        for start in range(0, len(folder_ids), 500):
            self.collection.delete_many({'folderId': {'$in': folder_ids[start:start + 500]},
                                         'principalId': {'$nin': keep}})

    def moved(self, folder_ids, owner_id):
        """Folders moved into ``owner_id``'s tree (None: out of any user's)."""
        for start in range(0, len(folder_ids), 500):
            self.collection.update_many({'folderId': {'$in': folder_ids[start:start + 500]}},
                                        {'$set': {'ownerId': owner_id}})

    def forget_folders(self, folder_ids):
        for start in range(0, len(folder_ids), 500):
            self.collection.delete_many({'folderId': {'$in': folder_ids[start:start + 500]}})

    def shared_with(self, user, offset, limit):
        """(rows, total): one row per folder shared with ``user`` or their groups (the
        newest share of it), newest first; folders in the user's own tree left out."""
        match = {'principalId': {'$in': [user['_id']] + list(user.get('groups') or ())},
                 'ownerId': {'$ne': user['_id']}}
        grouped = [{'$match': match}, {'$sort': {'since': -1}},
                   {'$group': {'_id': '$folderId', 'since': {'$first': '$since'},
                               'sharedBy': {'$first': '$sharedBy'},
                               'principalId': {'$first': '$principalId'},
                               'kind': {'$first': '$kind'}}}]
        total = next(self.collection.aggregate(grouped + [{'$count': 'n'}]), {'n': 0})['n']
        rows = list(self.collection.aggregate(grouped + [
            {'$sort': {'since': -1, '_id': -1}}, {'$skip': offset}, {'$limit': limit}]))
        return rows, total
