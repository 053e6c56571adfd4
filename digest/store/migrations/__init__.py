"""Alembic revisions of the store's schema (see digest.store.upgrade)."""
