"""Shared fixtures: the OpenAI-compatible stub server (tests/stub_openai.py)."""

pytest_plugins = ["tests.stub_openai", "tests.loopback"]
