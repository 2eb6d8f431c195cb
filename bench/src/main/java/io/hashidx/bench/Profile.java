package io.hashidx.bench;

/**
 * How much of everything a run does. {@code quick} must finish within 20 minutes on a 2-core machine
 * ({@link Suite} prints its estimate before it starts; bench/README.md shows the sum); {@code full}
 * is the measurement: 10M entries and 3 forks per benchmark, so JMH's error bounds come from
 * more than one JVM.
 *
 * @param name            smoke, quick or full
 * @param entries         entries per data set
 * @param forks           JVM forks per benchmark
 * @param warmupIterations     warm-up iterations of the throughput workloads
 * @param warmupSeconds        seconds per warm-up iteration
 * @param iterations      measured iterations of the throughput workloads
 * @param iterationSeconds seconds per measured iteration
 * @param loadWarmups     warm-up iterations of the insert and bulk-load workloads (each a whole load;
 *                        a load of a million puts compiles itself early, so quick does without; the
 *                        put-latency insert always has one, so the interpreter's puts stay out of its histogram)
 * @param loadIterations  measured iterations of the insert and bulk-load workloads
 * @param latencyIterations measured iterations of the put-latency insert (after the load warm-ups);
 *                        its histograms are merged, so one insert of the profile's entries is enough
 * @param openWarmups     warm-up opens
 * @param openIterations  measured opens
 * @param coldWarmups     warm-up iterations of the cold-read workload
 * @param coldIterations  measured iterations of the cold-read workload
 * @param coldGets        gets per cold iteration (1: every measured get meets a freshly evicted file)
 * @param bigOpenBytes    hashidx is also opened on a file of at least this many bytes (0: not)
 * @param budgetSeconds   the time the run should stay under (0: none)
 */
public record Profile(String name, int entries, int forks,
                      int warmupIterations, double warmupSeconds, int iterations, double iterationSeconds,
                      int loadWarmups, int loadIterations, int latencyIterations,
                      int openWarmups, int openIterations,
                      int coldWarmups, int coldIterations, int coldGets,
                      long bigOpenBytes, long budgetSeconds) {

    /** Proves the pipeline end to end in a few minutes; its figures mean nothing. */
    public static final Profile SMOKE = new Profile("smoke", 100_000, 1,
            1, 0.5, 3, 0.5,
            1, 2, 1,
            3, 10,
            2, 10, 1,
            0, 600);

    /** The quick profile: 1M entries, one fork, under 20 minutes. */
    public static final Profile QUICK = new Profile("quick", 1_000_000, 1,
            2, 1, 5, 1,
            0, 3, 1,
            5, 20,
            5, 40, 1,
            1L << 30, 1200);

    /** The measurement: 10M entries, 3 forks. */
    public static final Profile FULL = new Profile("full", 10_000_000, 3,
            3, 2, 5, 2,
            1, 3, 3,
            5, 20,
            5, 40, 1,
            1L << 30, 0);

    public static Profile byName(String name) {
        return switch (name) {
            case "smoke" -> SMOKE;
            case "quick" -> QUICK;
            case "full" -> FULL;
            default -> throw new IllegalArgumentException("profile is smoke, quick or full, not " + name);
        };
    }

    /** This profile with another entry count (the {@code --entries} option). */
    public Profile withEntries(int n) {
        return new Profile(name, n, forks, warmupIterations, warmupSeconds, iterations, iterationSeconds,
                loadWarmups, loadIterations, latencyIterations, openWarmups, openIterations, coldWarmups, coldIterations, coldGets,
                bigOpenBytes, budgetSeconds);
    }

    /** This profile with another fork count (the {@code --forks} option). */
    public Profile withForks(int f) {
        return new Profile(name, entries, f, warmupIterations, warmupSeconds, iterations, iterationSeconds,
                loadWarmups, loadIterations, latencyIterations, openWarmups, openIterations, coldWarmups, coldIterations, coldGets,
                bigOpenBytes, budgetSeconds);
    }
}
