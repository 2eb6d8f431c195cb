package io.hashidx.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.infra.ThreadParams;
import org.openjdk.jmh.runner.IterationType;

/**
 * The nine workloads of the suite, written once against {@link KeyValueStore}; each peer's
 * subclass ({@code HashidxBench}, {@code LmdbBench}, ...) runs them in forks with the JVM flags
 * that peer needs. {@code bench/run} (class {@link Suite}) picks the workloads that apply to each
 * peer and sets the profile's entry count, forks and iterations; the defaults here are the quick
 * profile's.
 *
 * <p>Data: entry {@code i} of {@link Keys}: 16-byte keys and 16-byte values, random-looking bytes.
 * Hits draw {@code i} uniformly from {@code [0, entries)}, misses from {@code [entries, 2 entries)}.
 * The read workloads run on files loaded once per run by the peer's bulk load (presized where it
 * can be), shared by all forks ({@link Fixtures}).
 */
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
public abstract class Workloads {

    // ------------------------------------------------------------------------------------ states

    /** A peer loaded with {@code entries} entries, shared by every thread of a trial. */
    @State(Scope.Benchmark)
    public static class Loaded {
        @Param("1000000")
        public int entries;

        Peer peer;
        KeyValueStore store;

        @Setup(Level.Trial)
        public void load(BenchmarkParams params) {
            peer = Peer.ofBenchmark(params.getBenchmark());
            if (peer.onDisk) {
                Path dir = Fixtures.loaded(peer, entries);
                Fixtures.readThrough(dir); // warm workloads start warm
                store = peer.open(dir, entries, false);
            } else {
                store = peer.create(null, entries);
                store.bulkLoad(entries);
            }
            checkLoaded(store, entries);
        }

        @TearDown(Level.Trial)
        public void close() {
            store.close();
        }
    }

    /** One thread's random source and key/value buffers. */
    @State(Scope.Thread)
    public static class Cursor {
        SplittableRandom random;
        final byte[] key = new byte[Keys.KEY_BYTES];
        final byte[] value = new byte[Keys.VALUE_BYTES];
        long version;

        @Setup(Level.Trial)
        public void seed(ThreadParams thread) {
            random = new SplittableRandom(0x5EED_0000L + thread.getThreadIndex());
        }
    }

    /** A new, empty store per iteration; what the insert and bulk-load workloads fill. */
    @State(Scope.Thread)
    public static class Empty {
        @Param("1000000")
        public int entries;

        Peer peer;
        String benchmark;
        boolean presized;
        boolean measuring;
        Path dir;
        KeyValueStore store;
        PutLatencyRecorder recorder;
        int iteration;

        @Setup(Level.Iteration)
        public void create(BenchmarkParams params, IterationParams iterationParams) {
            peer = Peer.ofBenchmark(params.getBenchmark());
            benchmark = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
            presized = benchmark.equals(Workload.BULK_LOAD.method);
            measuring = iterationParams.getType() == IterationType.MEASUREMENT;
            iteration++;
            dir = peer.onDisk ? Fixtures.scratch(peer) : null;
            store = peer.create(dir, presized ? entries : 0);
            recorder = benchmark.equals(Workload.INSERT_LATENCY.method) ? new PutLatencyRecorder(entries, 2000) : null;
        }

        @TearDown(Level.Iteration)
        public void drop() {
            store.close();
            store = null;
            try {
                if (measuring && dir != null && !benchmark.equals(Workload.INSERT_LATENCY.method)) {
                    long[] bytes = Fixtures.bytesOnDisk(dir);
                    Metrics.line("bytes-on-disk", peer)
                            .put("workload", benchmark)
                            .put("entries", entries)
                            .put("iteration", iteration)
                            .put("allocated_bytes", bytes[0])
                            .put("apparent_bytes", bytes[1])
                            .put("raw_bytes", (long) entries * (Keys.KEY_BYTES + Keys.VALUE_BYTES))
                            .write();
                }
                if (measuring && recorder != null) {
                    writeLatency();
                }
            } finally {
                Fixtures.delete(dir);
            }
        }

        private void writeLatency() {
            String series = "latency-" + peer.id() + "-" + ProcessHandle.current().pid() + "-" + iteration + ".csv";
            Path out = Metrics.outDir();
            if (out != null) {
                try {
                    Files.createDirectories(out.resolve("latency"));
                    Files.writeString(out.resolve("latency").resolve(series), recorder.seriesCsv(), StandardCharsets.UTF_8);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            var h = recorder.histogram();
            Metrics.line("put-latency", peer)
                    .put("entries", entries)
                    .put("iteration", iteration)
                    .put("window_puts", recorder.windowSize())
                    .put("tid", recorder.threadId())
                    .put("start_mono_ns", recorder.startMonoNanos())
                    .put("start_epoch_ns", recorder.startEpochNanos())
                    .put("series", "latency/" + series)
                    .put("p50_ns", h.getValueAtPercentile(50))
                    .put("p99_ns", h.getValueAtPercentile(99))
                    .put("p999_ns", h.getValueAtPercentile(99.9))
                    .put("p9999_ns", h.getValueAtPercentile(99.99))
                    .put("max_ns", h.getMaxValue())
                    .put("histogram", recorder.encodedHistogram())
                    .write();
        }
    }

    /** An existing loaded file that each iteration opens (and closes afterwards). */
    @State(Scope.Thread)
    public static class Existing {
        @Param("1000000")
        public int entries;
        /** Entries in the file opened; 0: {@code entries}. hashidx is also opened on a 1 GiB+ file. */
        @Param("0")
        public int openEntries;

        Peer peer;
        Path dir;
        int fileEntries;
        KeyValueStore opened;

        @Setup(Level.Trial)
        public void prepare(BenchmarkParams params) {
            peer = Peer.ofBenchmark(params.getBenchmark());
            fileEntries = openEntries > 0 ? openEntries : entries;
            dir = Fixtures.loaded(peer, fileEntries);
            long[] bytes = Fixtures.bytesOnDisk(dir);
            Metrics.line("open-file", peer)
                    .put("entries", fileEntries)
                    .put("allocated_bytes", bytes[0])
                    .put("apparent_bytes", bytes[1])
                    .write();
        }

        @TearDown(Level.Iteration)
        public void close() {
            if (opened != null) {
                opened.close();
                opened = null;
            }
        }
    }

    /**
     * A loaded file whose pages are dropped from the page cache before each iteration. The store is
     * opened once per trial (with its advice) and warmed up with gets on the warm file, so the
     * measured gets run compiled code; before each iteration its files are written back and evicted
     * under it ({@link PageCache#evictUnder}). RocksDB, which reads through its own block cache
     * rather than a mapping, is closed, evicted and reopened instead.
     */
    @State(Scope.Thread)
    public static class Cold {
        @Param("1000000")
        public int entries;
        /** {@code none}: the store's defaults; {@code random}: MADV_RANDOM on its mappings (LMDB: MDB_NORDAHEAD). */
        @Param("none")
        public String advice;
        /** Gets per iteration; with 1, every measured get meets a freshly evicted file. */
        @Param("1")
        public int coldGets;

        Peer peer;
        Path dir;
        KeyValueStore store;
        final SplittableRandom random = new SplittableRandom(0xC01D);
        final byte[] key = new byte[Keys.KEY_BYTES];
        final byte[] value = new byte[Keys.VALUE_BYTES];
        boolean measuring;
        int iteration;
        long[] residentAfterEvict;
        long advised;

        @Setup(Level.Trial)
        public void prepare(BenchmarkParams params) {
            peer = Peer.ofBenchmark(params.getBenchmark());
            dir = Fixtures.loaded(peer, entries);
            open();
            SplittableRandom r = new SplittableRandom(7);
            for (int n = 0; n < 200_000; n++) {
                Keys.key(r.nextInt(entries), key);
                store.get(key, value);
            }
        }

        private void open() {
            boolean random = advice.equals("random");
            store = peer.open(dir, entries, random);
            advised = random && peer != Peer.LMDB ? PageCache.adviseMappings(dir, PageCache.MADV_RANDOM) : 0;
        }

        @Setup(Level.Iteration)
        public void evict(IterationParams iterationParams) {
            measuring = iterationParams.getType() == IterationType.MEASUREMENT;
            iteration++;
            String mode = System.getenv().getOrDefault("HASHIDX_BENCH_EVICT", "file");
            if (peer == Peer.ROCKSDB) {
                store.close();
                evictFiles(mode);
                open();
            } else {
                PageCache.adviseMappings(dir, PageCache.MADV_DONTNEED);
                evictFiles(mode);
            }
            residentAfterEvict = PageCache.residentPages(dir);
        }

        private void evictFiles(String mode) {
            if (!(mode.equals("system") && PageCache.dropAll())) {
                PageCache.evict(dir);
            }
        }

        @TearDown(Level.Iteration)
        public void report() {
            if (measuring) {
                long[] afterGets = PageCache.residentPages(dir);
                Metrics.line("cold", peer)
                        .put("entries", entries)
                        .put("advice", advice)
                        .put("iteration", iteration)
                        .put("gets", coldGets)
                        .put("evict", System.getenv().getOrDefault("HASHIDX_BENCH_EVICT", "file"))
                        .put("file_pages", afterGets[1])
                        .put("resident_pages_after_evict", residentAfterEvict[0])
                        .put("resident_pages_after_gets", afterGets[0])
                        .put("advised_bytes", advised)
                        .write();
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            if (store != null) {
                store.close();
            }
        }
    }

    /** Fails fast when a store does not hold what it was loaded with (a broken adapter measures nothing). */
    static void checkLoaded(KeyValueStore store, int entries) {
        SplittableRandom r = new SplittableRandom(42);
        byte[] key = new byte[Keys.KEY_BYTES];
        byte[] value = new byte[Keys.VALUE_BYTES];
        for (int n = 0; n < 1000; n++) {
            int i = r.nextInt(entries);
            Keys.key(i, key);
            if (!store.get(key, value) || !Keys.isValueOf(i, value)) {
                throw new IllegalStateException("entry " + i + " is missing or wrong after the load");
            }
            Keys.key(entries + (long) r.nextInt(entries), key);
            if (store.get(key, value)) {
                throw new IllegalStateException("a key that was never put is found");
            }
        }
    }

    // ------------------------------------------------------------------------------------ workloads

    /**
     * Workload 1, random get, all hits: {@code entries} entries (10M full, 1M quick), 16-byte keys
     * and 16-byte values, every key present (hit ratio 100%), uniformly random order, 1 thread. The
     * value is copied into a reused 16-byte buffer where the library allows it.
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public boolean getHit(Loaded s, Cursor c) {
        Keys.key(c.random.nextInt(s.entries), c.key);
        return s.store.get(c.key, c.value);
    }

    /**
     * Workload 2, random get, all misses: {@code entries} entries, 16-byte keys and values, keys drawn
     * from {@code [entries, 2 entries)} so none is present (hit ratio 0%), 1 thread.
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public boolean getMiss(Loaded s, Cursor c) {
        Keys.key(s.entries + (long) c.random.nextInt(s.entries), c.key);
        return s.store.get(c.key, c.value);
    }

    /**
     * Workload 3, 50/50 get / overwrite: {@code entries} entries, 16-byte keys and values; each
     * operation picks a present key uniformly (hit ratio 100%) and with probability 1/2 gets it,
     * otherwise overwrites its value with a new 16-byte value of the same size; 1 thread. Writes are
     * not synced (they survive a process crash in every persistent peer but MapDB).
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public boolean getOrOverwrite(Loaded s, Cursor c) {
        int i = c.random.nextInt(s.entries);
        Keys.key(i, c.key);
        if (c.random.nextBoolean()) {
            return s.store.get(c.key, c.value);
        }
        Keys.value(i, ++c.version, c.value);
        s.store.put(c.key, c.value);
        return true;
    }

    /**
     * Workload 4, insert from empty without presizing: {@code entries} new 16-byte keys with 16-byte
     * values put one by one in index order (random-looking bytes) into a store created empty and not
     * told the count, so it grows all the way (hashidx: doublings with incremental evacuation); no
     * gets (hit ratio n/a), 1 thread. One iteration = all puts; score = seconds per iteration.
     */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Warmup(iterations = 1)
    @Measurement(iterations = 3)
    public int insertFromEmpty(Empty e) {
        byte[] key = new byte[Keys.KEY_BYTES];
        byte[] value = new byte[Keys.VALUE_BYTES];
        KeyValueStore store = e.store;
        int n = e.entries;
        for (int i = 0; i < n; i++) {
            Keys.key(i, key);
            Keys.value(i, 0, value);
            store.put(key, value);
        }
        return n;
    }

    /**
     * Workload 4, put latency: as {@link #insertFromEmpty} ({@code entries} puts of 16-byte keys and
     * values from empty, not presized, 1 thread), timing every put with {@code System.nanoTime()}
     * into an HdrHistogram and a series of 2,000 windows (max and p99 of each), written to the
     * run's metrics; growth pauses show in the series. The timing adds about 40 ns per put, so the
     * throughput of this variant is not the one reported.
     */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Warmup(iterations = 1)
    @Measurement(iterations = 3)
    public int insertFromEmptyLatency(Empty e) {
        byte[] key = new byte[Keys.KEY_BYTES];
        byte[] value = new byte[Keys.VALUE_BYTES];
        KeyValueStore store = e.store;
        PutLatencyRecorder recorder = e.recorder;
        int n = e.entries;
        recorder.start();
        for (int i = 0; i < n; i++) {
            Keys.key(i, key);
            Keys.value(i, 0, value);
            long t0 = System.nanoTime();
            store.put(key, value);
            long t1 = System.nanoTime();
            recorder.record(t1 - t0, t1);
        }
        recorder.finish();
        return n;
    }

    /**
     * Workload 5, presized bulk load (and 7, bytes on disk per entry, measured after it): {@code
     * entries} 16-byte keys with 16-byte values into a store created for that count, by the peer's
     * fastest documented load (hashidx, Chronicle Map, MapDB, the in-heap maps: one put each;
     * lmdbjava: sort the keys, then {@code MDB_APPEND}, sort included; RocksDB: batches without WAL,
     * flush and compaction), then synced to disk; 1 thread; no gets. Score = seconds per load.
     */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Warmup(iterations = 1)
    @Measurement(iterations = 3)
    public int bulkLoadPresized(Empty e) {
        e.store.bulkLoad(e.entries);
        e.store.sync();
        return e.entries;
    }

    /**
     * Workload 6, open time: opening an existing, closed file of {@code entries} entries (16-byte keys
     * and values; hashidx also a file of 1 GiB or more) until it can serve a get; no gets (hit ratio
     * n/a), 1 thread. Score = milliseconds per open, in a warm JVM, the file in the page cache.
     */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 5)
    @Measurement(iterations = 20)
    public KeyValueStore open(Existing e) {
        e.opened = e.peer.open(e.dir, e.fileEntries, false);
        return e.opened;
    }

    /**
     * Workload 8, random get with 2 threads: as {@link #getHit} ({@code entries} entries, 16-byte keys
     * and values, hit ratio 100%, uniform) with 2 threads reading the same store at once; score is
     * the sum of both threads' operations per second.
     */
    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Threads(2)
    public boolean getHitTwoThreads(Loaded s, Cursor c) {
        Keys.key(c.random.nextInt(s.entries), c.key);
        return s.store.get(c.key, c.value);
    }

    /**
     * Workload 9, cold random get: the files of a store holding {@code entries} entries (16-byte keys
     * and values) are written back and dropped from the page cache under the open store, then {@code
     * coldGets} (1) uniformly random present keys are gotten (hit ratio 100%), 1 thread. Every measured get thus
     * pays its page faults, as every get does when the file is far larger than the page cache. With
     * {@code advice=random} the store's mappings get {@code MADV_RANDOM} (LMDB: {@code
     * MDB_NORDAHEAD}), so a fault reads one page instead of a read-ahead window. Score = seconds per
     * iteration; the run's metrics add the pages each iteration brought into the page cache.
     */
    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.SECONDS)
    @Warmup(iterations = 5)
    @Measurement(iterations = 40)
    public int coldGet(Cold c) {
        int hits = 0;
        for (int n = 0; n < c.coldGets; n++) {
            Keys.key(c.random.nextInt(c.entries), c.key);
            if (c.store.get(c.key, c.value)) {
                hits++;
            }
        }
        return hits;
    }
}
