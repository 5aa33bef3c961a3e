"""Excel and CSV: templates, exports, imports with saved column mappings."""
