"""Extractive question answering over documents: every answer copied from the text and cited."""
