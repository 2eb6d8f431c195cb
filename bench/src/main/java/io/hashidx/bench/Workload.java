package io.hashidx.bench;

/** The nine workloads of the suite (bytes on disk per entry is measured by {@link #BULK_LOAD}). */
public enum Workload {
    GET_HIT("getHit", "1. random get, all hits", true),
    GET_MISS("getMiss", "2. random get, all misses", true),
    GET_OR_OVERWRITE("getOrOverwrite", "3. 50/50 get / overwrite", true),
    INSERT("insertFromEmpty", "4. insert from empty, not presized", false),
    INSERT_LATENCY("insertFromEmptyLatency", "4. put latency while inserting from empty", false),
    BULK_LOAD("bulkLoadPresized", "5. presized bulk load (and 7. bytes on disk per entry)", false),
    OPEN("open", "6. open an existing file", false),
    GET_HIT_TWO_THREADS("getHitTwoThreads", "8. random get, all hits, 2 threads", true),
    COLD_GET("coldGet", "9. random get from a cold page cache", false);

    /** The benchmark method's name in {@link Workloads}. */
    public final String method;
    public final String title;
    /** True for time-boxed throughput iterations; false for single-shot iterations. */
    public final boolean throughput;

    Workload(String method, String title, boolean throughput) {
        this.method = method;
        this.title = title;
        this.throughput = throughput;
    }

    public static Workload byMethod(String method) {
        for (Workload w : values()) {
            if (w.method.equals(method)) {
                return w;
            }
        }
        throw new IllegalArgumentException("no workload runs method " + method);
    }
}
