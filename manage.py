#!/usr/bin/env python
"""Django's command-line utility; `shouhou` (the installed console command) is the same."""

from shouhou.__main__ import main

if __name__ == "__main__":
    main()
