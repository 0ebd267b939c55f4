"""``sfncompile ui``: a local, read-only web app over the datastore (see docs/ui.md)."""
