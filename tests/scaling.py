"""Same-run scaling checks: how much longer a bigger input takes, independent of the machine's speed."""
import time


def growth(run, small, big, repeats: int = 3) -> float:
    """How much longer run(big) takes than run(small), both timed in this run (best of `repeats`,
    interleaved so that other work on the machine falls on both alike).

    Ten times the input takes about ten times as long in linear time and a hundred times in quadratic
    time."""
    def once(arg):
        started = time.perf_counter()
        run(arg)
        return time.perf_counter() - started

    small_times, big_times = [], []
    for _ in range(repeats):
        small_times.append(once(small))
        big_times.append(once(big))
    return min(big_times) / max(min(small_times), 1e-3)
