package io.hashidx.bench;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * First smoke benchmark of the engine: random gets on a presized file.
 *
 * <p>Workload: {@code entries} entries (default 1,000,000) of 16-byte keys (a little-endian long
 * index followed by 8 fixed bytes) and 16-byte values, loaded into a presized file; each operation
 * gets one uniformly random key. {@code getHit}: all hits, copying into a reused buffer (no
 * allocation); {@code getMiss}: all misses. One thread. The full suite against the peers lives in
 * its own issue.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class GetBenchmark {
    @Param("1000000")
    int entries;

    private Path dir;
    private HashIndex index;
    private final byte[] key = new byte[16];
    private final byte[] value = new byte[16];
    private final SplittableRandom random = new SplittableRandom(7);

    @Setup(Level.Trial)
    public void load() throws IOException {
        dir = Files.createTempDirectory("hashidx-bench");
        index = HashIndex.create(dir.resolve("get.hidx"), Options.widths(16, 16).expectedEntries(entries).seed(1));
        byte[] v = new byte[16];
        for (int i = 0; i < entries; i++) {
            fillKey(i);
            ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).putLong(0, i);
            index.put(key, v);
        }
    }

    private void fillKey(long i) {
        ByteBuffer.wrap(key).order(ByteOrder.LITTLE_ENDIAN).putLong(0, i).putLong(8, 0x5A5A5A5A5A5A5A5AL);
    }

    @Benchmark
    public int getHit() {
        fillKey(random.nextInt(entries));
        return index.get(key, value);
    }

    @Benchmark
    public int getMiss() {
        fillKey(entries + (long) random.nextInt(entries));
        return index.get(key, value);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        index.close();
        Files.deleteIfExists(dir.resolve("get.hidx"));
        Files.deleteIfExists(dir);
    }
}
