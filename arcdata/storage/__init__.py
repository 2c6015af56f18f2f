"""Dataset I/O shared by every writer and reader: the manifest, sha256, path containment and
publishing a folder. Neutral ground: nothing here imports the builder, the stream or formats."""
