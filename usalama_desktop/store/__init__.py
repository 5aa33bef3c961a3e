"""The encrypted store: key slots, the SQLCipher database, schema, record spine, audit trail."""
