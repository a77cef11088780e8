"""Reading documents: files to text (plain, Markdown, HTML), sentences with exact offsets, chunks, entities.

The first step of the pipeline; it knows nothing of indexes or questions.
"""
