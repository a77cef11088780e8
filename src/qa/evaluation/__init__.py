"""The evaluation suite: datasets, metrics, configurations, calibration, report and benchmark."""
