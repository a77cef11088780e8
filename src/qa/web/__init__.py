"""The web chat (Gradio) and the JSON API (FastAPI), served together by `qa serve` and app.py.

Modules: holder (the index, re-loaded after a rebuild), service (answering with bounded concurrency),
api (/api/ask, /api/health), render (escaped HTML for answers and sources), chat (the Gradio page),
uploads (the chat's "Add a document": check, save, rebuild), assets (its CSS and JavaScript),
server (the FastAPI app and uvicorn).
"""
import os

# Before gradio is imported anywhere in this package: no version check, telemetry or model-hub look-up.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
for _var in ("NO_PROXY", "no_proxy"):   # a proxy variable would otherwise catch Gradio's own local requests
    _hosts = [h for h in os.environ.get(_var, "").split(",") if h]
    os.environ[_var] = ",".join(dict.fromkeys(_hosts + ["127.0.0.1", "localhost"]))
del _var, _hosts
