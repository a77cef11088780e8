"""Answering a question from an index: question analysis, follow-ups, retrieval, the trained reader, its
candidate spans, the answer model, `ask()`, and the request contract every surface shares."""
