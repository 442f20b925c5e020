"""Helpers shared by the test modules: AppTest runs, URL strategies, the live server."""
