#!/usr/bin/env python
import gc
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    finally:
        # Nothing is left to reclaim when a command ends; without this the interpreter's final
        # collection over Django's and boto3's objects delays the exit by about 0.2 s.
        gc.freeze()


if __name__ == "__main__":
    main()
