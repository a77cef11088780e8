"""Speed and scale benchmarks (`qa bench`): load, build, answer and serve times, compressed vectors, Ray."""
