"""Test inputs and check adapters per chapter: what the test cells hand to ``check`` (trusted by the watch)."""
