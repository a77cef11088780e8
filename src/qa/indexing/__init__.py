"""Building and storing the index: the embedder (torch or ONNX Runtime), word pieces, the keyword index,
the index folder, and the build (one process or Ray)."""
