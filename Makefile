# Shortcuts for the two README commands (make is optional: the scripts are the truth).
.PHONY: demo test lint i18n
demo:
	./scripts/demo.sh
test:
	./scripts/test.sh
lint:
	.venv/bin/ruff check .
i18n:
	.venv/bin/python scripts/i18n.py
