"""Benchmarks (scripts, not part of the application): enforcement.py in process, http_load.py
against gunicorn. support.py starts and stops what they need."""
