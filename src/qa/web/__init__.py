"""The web chat (Gradio) and the JSON API (FastAPI), served together by `qa serve` and app.py.

Modules: holder (the index, re-loaded after a rebuild), service (answering with bounded concurrency),
api (/api/ask, /api/health), render (escaped HTML for answers and sources), chat (the Gradio page),
assets (its CSS and JavaScript), server (the FastAPI app and uvicorn).
"""
