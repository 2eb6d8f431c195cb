package io.hashidx.bench;

import io.hashidx.bench.peers.HashidxStore;
import io.hashidx.store.HashIndex;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
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

/**
 * Does reading scale? hashidx alone, on {@code entries} (10M) entries of 16-byte keys and values
 * ({@link Keys}), the file bulk-loaded presized once ({@link Fixtures#loaded}) and opened read-write:
 * <ul>
 *   <li>{@code get1}, {@code get2}: gets of uniformly random present keys on 1 and on 2 threads.
 *       Lookups take no lock and store nothing, so 2 threads should reach about twice the throughput
 *       of 1 (the goal: at least 1.8 times, at JMH's error bound, with at least 3 forks).
 *   <li>{@code mix}: one thread gets random present keys ({@code mixRead}) while another overwrites
 *       random present keys with new values ({@code mixWrite}). The goal: reads at least 0.8 times the
 *       read-only {@code get1} figure (a reader retries only when its own bucket was written meanwhile).
 * </ul>
 * Run it with the JMH jar: {@code mvn -Pbenchmarks-jar -pl bench -am package -DskipTests}, then
 * {@code java -jar bench/target/benchmarks.jar ConcurrencyBenchmark} (it needs about 650 MB in
 * {@code $HASHIDX_BENCH_FILES} or the temporary directory; {@code -p entries=1000000} for a quick look).
 * On a machine with 2 cores, {@code get2} and {@code mix} use both: anything else running there
 * (JMH's own harness threads, the OS) comes out of their share.
 *
 * <p>Each fork forces the file after opening it and before closing it ({@link HashIndex#sync}, which
 * since 2026-11-26 writes the file's metadata too). Before that, sync() wrote the data only (msync):
 * the inode stayed dirty through the time stamps that writes through the mapping update, and about
 * 30 s after its first change the kernel wrote back every page {@code mixWrite} dirtied as soon as it
 * was dirtied (300 MB/s of writeback, half of both cores in the kernel), so forks 3 to 5 of {@code mix}
 * collapsed to 0.4-1.4 M reads/s. With the full fsync, 5 forks ran without one collapse.
 */
@State(Scope.Benchmark)
@Fork(3)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ConcurrencyBenchmark {
    @Param("10000000")
    public int entries;

    HashIndex index;
    final AtomicLong threadSeeds = new AtomicLong(1);

    @Setup(Level.Trial)
    public void open() {
        index = HashIndex.open(Fixtures.loaded(Peer.HASHIDX, entries).resolve(HashidxStore.FILE));
        index.sync(); // pages an earlier fork dirtied are written now, not during this fork's measurement
    }

    @TearDown(Level.Trial)
    public void close() {
        index.sync(); // this fork's writes go to the disk here, not in the next fork's measurement
        index.close();
    }

    /** One thread's random keys and buffers. */
    @State(Scope.Thread)
    public static class Cursor {
        SplittableRandom random;
        final byte[] key = new byte[Keys.KEY_BYTES];
        final byte[] value = new byte[Keys.VALUE_BYTES];
        long version;

        @Setup(Level.Trial)
        public void seed(ConcurrencyBenchmark b) {
            random = new SplittableRandom(b.threadSeeds.getAndIncrement());
        }
    }

    private int get(Cursor c) {
        Keys.key(c.random.nextInt(entries), c.key);
        return index.get(c.key, c.value);
    }

    @Benchmark
    @Threads(1)
    public int get1(Cursor c) {
        return get(c);
    }

    @Benchmark
    @Threads(2)
    public int get2(Cursor c) {
        return get(c);
    }

    @Benchmark
    @Group("mix")
    @GroupThreads(1)
    public int mixRead(Cursor c) {
        return get(c);
    }

    @Benchmark
    @Group("mix")
    @GroupThreads(1)
    public boolean mixWrite(Cursor c) {
        int i = c.random.nextInt(entries);
        Keys.key(i, c.key);
        Keys.value(i, ++c.version, c.value);
        return index.put(c.key, c.value);
    }
}
