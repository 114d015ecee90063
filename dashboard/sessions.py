"""Session engine used when SESSION_CACHE_URL is set: Django's cached_db (a copy of each session
in Redis, in front of the database row), made safe for Redis outages.

A page whose session Redis cannot give reads it from the database, logs a warning and does not
try to write the copy back. Ending a session (logout, a login over an existing session) deletes
the copy before the row and lets a Redis error through: while Redis cannot be reached, a logout
fails with an error and the session stays valid in both places, rather than ending in the
database while a copy left in Redis brings it back once Redis answers again.
"""

import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DBStore

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    # Only the sync methods: Tuneboard runs under WSGI and never awaits a session; the async
    # ones (aload, adelete...) are still Django's.

    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception as error:
            logger.warning("Session cache unreachable, session read from the database: %s", error)
            return DBStore.load(self)
        if data is not None:
            return data
        session = self._get_session_from_db()
        if session is None:
            return {}
        data = self.decode(session.session_data)
        try:
            self._cache.set(self.cache_key, data, self.get_expiry_age(expiry=session.expire_date))
        except Exception as error:
            logger.warning("Session cache unreachable, session not cached: %s", error)
        return data

    def exists(self, session_key):
        """Asked for each new session key (at login): the database answers when Redis cannot."""
        try:
            return super().exists(session_key)
        except Exception as error:
            logger.warning("Session cache unreachable, key looked up in the database: %s", error)
            return DBStore.exists(self, session_key)

    def delete(self, session_key=None):
        if session_key is None:
            session_key = self.session_key
        if session_key is None:
            return
        # Raises while Redis is unreachable, before the row is touched (see the docstring).
        self._cache.delete(self.cache_key_prefix + session_key)
        # The row, then the copy again: a page may have cached the row in between.
        super().delete(session_key)
