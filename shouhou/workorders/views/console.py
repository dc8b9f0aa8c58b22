"""Work-order pages for the console (see urls_console.py)."""
