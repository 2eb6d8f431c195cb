package io.hashidx.bench;

import java.util.EnumSet;
import java.util.Set;

/**
 * How much of everything a run does. {@code quick} must finish within 20 minutes on a 2-core machine
 * ({@link Suite} prints its estimate before it starts; bench/README.md shows the sum); {@code full}
 * is the measurement: 10M entries and 3 forks for every run a goal is judged from, so JMH's
 * error bounds come from more than one JVM, within 150 minutes: {@link #shape} gives each run its
 * forks and iterations.
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
 * @param trimSlowLoads   true: the whole-load runs (insert, put latency, bulk load) of the {@link #SLOW_LOADERS}
 *                        that carry no goal ({@link Goals}) run once, see {@link #shape}
 */
public record Profile(String name, int entries, int forks,
                      int warmupIterations, double warmupSeconds, int iterations, double iterationSeconds,
                      int loadWarmups, int loadIterations, int latencyIterations,
                      int openWarmups, int openIterations,
                      int coldWarmups, int coldIterations, int coldGets,
                      long bigOpenBytes, long budgetSeconds, boolean trimSlowLoads) {

    /**
     * The disk peers whose loads of the full profile take minutes per iteration (50,000 to 180,000
     * puts/s here, {@link Budget}): a 10M insert of MapDB takes about 200 s, so 3 forks of 1 warm-up and
     * 3 measured loads would take 40 minutes for one run.
     */
    public static final Set<Peer> SLOW_LOADERS = EnumSet.of(Peer.CHRONICLE_MAP, Peer.LMDB, Peer.MAPDB, Peer.ROCKSDB);

    /** The whole-load workloads: one iteration is a load of all the entries. */
    public static final Set<Workload> LOADS = EnumSet.of(Workload.INSERT, Workload.INSERT_LATENCY, Workload.BULK_LOAD);

    /**
     * Forks, warm-up and measured iterations of one JMH run.
     *
     * @param forks      JVM forks
     * @param warmups    warm-up iterations per fork
     * @param iterations measured iterations per fork
     * @param trimmed    true when {@link #shape} cut this run below the profile's counts
     */
    public record Shape(int forks, int warmups, int iterations, boolean trimmed) {
    }

    /** Proves the pipeline end to end in a few minutes; its figures mean nothing. */
    public static final Profile SMOKE = new Profile("smoke", 100_000, 1,
            1, 0.5, 3, 0.5,
            1, 2, 1,
            3, 10,
            2, 10, 1,
            0, 600, false);

    /** The quick profile: 1M entries, one fork, under 20 minutes. */
    public static final Profile QUICK = new Profile("quick", 1_000_000, 1,
            2, 1, 5, 1,
            0, 3, 1,
            5, 20,
            5, 40, 1,
            1L << 30, 1200, false);

    /**
     * The measurement: 10M entries, 3 forks for every run that carries a goal and for every
     * run that is cheap; the loads of the slow peers that carry no goal run once ({@link #shape}), so
     * the whole profile fits a session of 180 minutes (about 122 minutes estimated, {@link Budget}).
     */
    public static final Profile FULL = new Profile("full", 10_000_000, 3,
            3, 2, 5, 2,
            1, 3, 3,
            5, 20,
            5, 40, 1,
            1L << 30, 150 * 60, true);

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
                bigOpenBytes, budgetSeconds, trimSlowLoads);
    }

    /** This profile with another fork count (the {@code --forks} option). */
    public Profile withForks(int f) {
        return new Profile(name, entries, f, warmupIterations, warmupSeconds, iterations, iterationSeconds,
                loadWarmups, loadIterations, latencyIterations, openWarmups, openIterations, coldWarmups, coldIterations, coldGets,
                bigOpenBytes, budgetSeconds, trimSlowLoads);
    }

    /**
     * The one place that decides how many forks and iterations a run gets. Every run gets the
     * profile's, except, when {@link #trimSlowLoads}, a whole-load run ({@link #LOADS}) of one of the
     * {@link #SLOW_LOADERS} that carries no goal ({@link Goals#carries}): 1 fork, 1 measured load, and
     * no warm-up but the one the put-latency insert always has (it keeps the interpreter's puts out of
     * its histogram; a plain insert of 10M puts compiles itself in its first second). Such a run gives
     * the report its figure and the put-latency chart its line, but no error bound: no goal is judged
     * from it. In the full profile these are the inserts and put-latency inserts of lmdbjava, MapDB and
     * RocksDB and the presized loads of MapDB and RocksDB.
     */
    public Shape shape(Peer peer, Workload workload) {
        if (trimSlowLoads && SLOW_LOADERS.contains(peer) && LOADS.contains(workload) && !Goals.carries(peer, workload)) {
            return new Shape(Math.min(1, forks), workload == Workload.INSERT_LATENCY ? 1 : 0, 1, true);
        }
        return switch (workload) {
            case GET_HIT, GET_MISS, GET_OR_OVERWRITE, GET_HIT_TWO_THREADS -> new Shape(forks, warmupIterations, iterations, false);
            case INSERT, BULK_LOAD -> new Shape(forks, loadWarmups, loadIterations, false);
            // two warm-up loads (since 2026-11-26): after only one, the first measured load of every fork of the
            // full run began with a put of 2-8 ms. A second warm-up keeps the JIT's settling out of the
            // measurement, but such stalls still come at the start of later loads and in mid-load, from
            // outside the JVM (no GC or safepoint then): issue 7's notes
            case INSERT_LATENCY -> new Shape(forks, Math.max(2, loadWarmups), latencyIterations, false);
            case OPEN -> new Shape(forks, openWarmups, openIterations, false);
            case COLD_GET -> new Shape(forks, coldWarmups, coldIterations, false);
        };
    }
}
