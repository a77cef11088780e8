# Quick start: `make run` (chat on http://127.0.0.1:7860) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_DISABLE_TELEMETRY := 1
export NO_PROXY := 127.0.0.1,localhost
export no_proxy := 127.0.0.1,localhost

.PHONY: setup run test test-quick index eval bench train clean

# setup also exports the models to ONNX Runtime (once per machine, into ~/.cache/qa-onnx or $$QA_ONNX_CACHE),
# so that no question waits for it; `qa prepare` is a no-op when the exports are there
setup: $(VENV)/.installed
	$(PY) -m qa prepare

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

index/manifest.json: | setup
	$(PY) -m qa build

index: setup
	$(PY) -m qa build

run: setup index/manifest.json
	$(PY) app.py

test: setup
	$(PY) -m pytest -q

test-quick: setup
	$(PY) -m pytest -q -m "not slow and not browser"

eval: setup
	$(PY) -m qa eval

bench: setup
	$(PY) -m qa bench

train: setup
	$(PY) -m qa train

clean:
	rm -rf $(VENV) .pytest_cache
