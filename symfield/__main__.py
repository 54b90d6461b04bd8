"""``python -m symfield`` is the ``symfield`` command."""
import sys

from .cli.main import main

sys.exit(main())
