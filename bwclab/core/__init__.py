"""The base layer: config reading and validation, the shared vocabulary, and the schemas of the files
that cross package boundaries. It imports nothing of the project."""
