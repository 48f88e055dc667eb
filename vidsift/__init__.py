"""vidsift: learn video embeddings without labels, index every frame, search, cluster, export."""

__version__ = "0.1.0"
