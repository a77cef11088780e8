import sys

from .run import run_training

sys.exit(run_training(sys.argv[1] if len(sys.argv) > 1 else None))
