"""A tiny project app: a model registered with simple-history, tagged with taggit, in the admin."""
