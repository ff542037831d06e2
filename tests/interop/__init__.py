"""Interoperability: the project's clients and servers against third-party peers."""
