"""Work-order pages for the technician (see urls_technician.py)."""
