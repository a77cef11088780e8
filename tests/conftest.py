import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from qa.config import DEFAULT_SOURCE  # noqa: E402

ARTICLE = DEFAULT_SOURCE


@pytest.fixture(scope="session")
def article_text() -> str:
    return ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def article_index(tmp_path_factory):
    """A real index of the article, built once per test session with the real model."""
    from qa.indexing.build import build
    from qa.indexing.store import load_index

    folder = tmp_path_factory.mktemp("article") / "index"
    build([ARTICLE], folder)
    return load_index(folder)


@pytest.fixture
def project_root() -> Path:
    return ARTICLE.parents[1]
