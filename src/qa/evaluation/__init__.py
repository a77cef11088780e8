"""The evaluation suite (`qa eval`): datasets and their split, metrics, configurations, report."""
