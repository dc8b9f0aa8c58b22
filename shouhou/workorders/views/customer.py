"""Work-order pages for the customer (see urls_customer.py)."""
