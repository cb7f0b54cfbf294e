"""Tests of the typed records (cafe24_async.models)."""
