package io.hashidx.bench;

import io.hashidx.bench.peers.LmdbStore;
import io.hashidx.store.BulkBuilder;
import io.hashidx.store.HashIndex;
import io.hashidx.store.Options;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
 * Building a new index from {@code entries} entries (default 10,000,000): the bulk builder against
 * puts into a file presized for them and against LMDB's fastest load, in one run.
 *
 * <p>Workload: the suite's data ({@link Keys}): 16-byte keys, distinct and spread like hashes, and
 * 16-byte values, entry i computed from i on the fly in the same way for every method; hash seed 1.
 * Each operation builds one complete store in a fresh directory (under {@code -Dhashidx.bench.dir},
 * default the system temp directory) and forces it to the disk, so every result is durable.
 * {@code bulkBuild} uses the builder's threads (spilling beside adding, writing beside sorting) and a memory budget of {@code memoryMiB};
 * {@code putsIntoPresizedFile} is one thread of puts, then {@code sync()};
 * {@code lmdbSortedAppend} is lmdbjava as the suite's bulk-load workload runs it (sort the keys, the
 * sort counted, then append them with {@code MDB_APPEND} through a cursor, 500,000 per transaction,
 * then {@code env.sync}). Single-shot time: the page cache is warm from the previous operation, so
 * run it at the size you care about (the difference grows once the file is larger than memory).
 *
 * <pre>{@code java -jar bench/target/benchmarks.jar BulkLoadBenchmark -p entries=10000000}</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgs = {"-Xmx2g"})
public class BulkLoadBenchmark {
    @Param("10000000")
    long entries;

    @Param("512")
    long memoryMiB;

    private Path dir;

    @Setup(Level.Iteration)
    public void freshDirectory() throws IOException {
        dir = Files.createTempDirectory(Path.of(System.getProperty("hashidx.bench.dir",
                System.getProperty("java.io.tmpdir"))), "hashidx-bulk-bench");
    }

    @TearDown(Level.Iteration)
    public void deleteDirectory() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.delete(dir);
    }

    static void fill(long i, byte[] key, byte[] value) {
        long head = Keys.head(i);
        Keys.keyFromHead(head, key);
        Keys.valueFromHead(head, 0, value);
    }

    @Benchmark
    public long bulkBuild() {
        byte[] key = new byte[16];
        byte[] value = new byte[16];
        try (BulkBuilder b = HashIndex.bulkBuilder(dir.resolve("bulk.hidx"), Options.widths(16, 16).seed(1))
                .memory(memoryMiB << 20)) {
            for (long i = 0; i < entries; i++) {
                fill(i, key, value);
                b.add(key, value);
            }
            return b.build().fileBytes();
        }
    }

    @Benchmark
    public long putsIntoPresizedFile() {
        byte[] key = new byte[16];
        byte[] value = new byte[16];
        try (HashIndex idx = HashIndex.create(dir.resolve("puts.hidx"),
                Options.widths(16, 16).seed(1).expectedEntries(entries))) {
            for (long i = 0; i < entries; i++) {
                fill(i, key, value);
                idx.put(key, value);
            }
            idx.sync();
            return idx.size();
        }
    }

    @Benchmark
    @Fork(value = 1, jvmArgs = {"-Xmx2g"}, jvmArgsAppend = {
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
            "--enable-native-access=ALL-UNNAMED"})
    public long lmdbSortedAppend() {
        if (entries > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the LMDB load sorts an int-indexed array: entries <= 2^31 - 1");
        }
        LmdbStore lmdb = LmdbStore.open(dir, entries, false);
        try {
            lmdb.bulkLoad((int) entries);
            lmdb.sync();
        } finally {
            lmdb.close();
        }
        return entries;
    }
}
