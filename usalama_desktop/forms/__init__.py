"""The form engine: one declarative definition per form drives tables, widgets, validation, Excel and bundles."""
