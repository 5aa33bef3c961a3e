"""Exchange bundles: identities, bundle format, export, import and merge."""
