"""The API docs at /docs, served whole from this server: Swagger UI's files come from the PyPI package
`swagger-ui-bundle-v2`, not from a CDN (FastAPI's default, a blank page offline). ReDoc, which has no
packaged copy, is not served."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"
FAVICON = "favicon-32x32.png"


def add_docs(app: FastAPI) -> None:
    """/docs and its assets; call before the chat is mounted at "/"."""
    from swagger_ui_bundle import swagger_ui_path

    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title}: API docs",
                                   swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{ASSETS}/{FAVICON}")
