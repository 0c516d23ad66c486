"""The SQLite index of a store: what it holds, how it is kept fresh, and how it is queried.

```
_columns    the one declaration of an experiment's row: the table, the writes, the listings
            and the filter fields all come from it
_database   the SQLite file: its schema, how connections are opened, what damage looks like
_text       text from the store as SQLite and JSON can hold it (lone surrogates escaped)
_records    reading one experiment directory into a record (no user code is imported)
_rows       what the index stores for a record: its row, config leaves, dependencies, tags,
            each bounded (Limits in docs/server.md)
_scanner    finding step directories, and what changed (directory mtimes, the journal)
_readers    reading many experiments in worker processes (a first build)
_indexer    the only writer: a first build, incremental refreshes, rescans, and a new file
            built from the store when the old one is damaged, deleted or replaced
_index      the index as requests see it: the background refresher and the listing queries
```

Nothing is imported here: the reader processes import `_readers`, and must not pay for what
answering requests needs (pydantic, the API's models). The rest of the server imports the
module it uses.
"""
