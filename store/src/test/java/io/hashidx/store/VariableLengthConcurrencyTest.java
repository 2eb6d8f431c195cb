package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Readers and an iterator on other threads while one writer overwrites, removes and inserts
 * out-of-line entries of a variable-length file, so records are freed and their cells reused by other
 * records all the time, and the table grows. Every value carries its key's id, a version and a length
 * derived from both, and bytes derived from all three: a reader that saw a torn record, a record of
 * another key, or a freed record's leftovers would find a value that does not check out.
 */
class VariableLengthConcurrencyTest {
    private static final int KEYS = 4_000;
    private static final int WRITES = 120_000;

    static byte[] key(long id) {
        byte[] k = new byte[8 + (int) (id % 40)];
        ByteBuffer.wrap(k).putLong(id);
        for (int i = 8; i < k.length; i++) {
            k[i] = (byte) (id * 31 + i);
        }
        return k;
    }

    static byte[] value(long id, long version) {
        int length = 16 + (int) Math.floorMod(id * 7919 + version * 104729, 1500L);
        byte[] v = new byte[length];
        ByteBuffer.wrap(v).putLong(id).putLong(version);
        for (int i = 16; i < length; i++) {
            v[i] = (byte) (id + version * 13 + i);
        }
        return v;
    }

    /** Whether {@code v} is exactly a value the writer writes for key {@code id}. */
    static boolean checksOut(long id, byte[] v) {
        if (v.length < 16 || ByteBuffer.wrap(v).getLong(0) != id) {
            return false;
        }
        return java.util.Arrays.equals(v, value(id, ByteBuffer.wrap(v).getLong(8)));
    }

    @Test
    void readersAndAnIteratorNeverSeeATornOrForeignRecordWhileRecordsAreFreedAndReused(@TempDir Path dir)
            throws Exception {
        try (HashIndex idx = HashIndex.create(dir.resolve("concurrent.hidx"),
                Options.variableLengths().chunkSize(64 << 10).seed(11))) {
            AtomicBoolean done = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<long[]>> readers = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    long seed = r;
                    readers.add(pool.submit(() -> {
                        SplittableRandom rnd = new SplittableRandom(seed);
                        long gets = 0;
                        long hits = 0;
                        while (!done.get()) {
                            long id = rnd.nextInt(KEYS);
                            byte[] v = idx.get(key(id));
                            gets++;
                            if (v != null) {
                                hits++;
                                assertThat(checksOut(id, v)).as("get of key %d returned a value it never had", id).isTrue();
                            }
                        }
                        return new long[] {gets, hits};
                    }));
                }
                Future<long[]> iterations = pool.submit(() -> {
                    long passes = 0;
                    long entries = 0;
                    while (!done.get()) {
                        for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(); it.hasNext(); ) {
                            Map.Entry<byte[], byte[]> e = it.next();
                            long id = ByteBuffer.wrap(e.getKey()).getLong(0);
                            assertThat(e.getKey()).as("iterated key of id %d", id).isEqualTo(key(id));
                            assertThat(checksOut(id, e.getValue())).as("iterated value of key %d", id).isTrue();
                            entries++;
                        }
                        passes++;
                    }
                    return new long[] {passes, entries};
                });
                SplittableRandom rnd = new SplittableRandom(3);
                for (long version = 0; version < WRITES; version++) {
                    long id = rnd.nextInt(KEYS);
                    if (rnd.nextInt(5) == 0) {
                        idx.remove(key(id));
                    } else {
                        idx.put(key(id), value(id, version));
                    }
                }
                done.set(true);
                long[] seen = iterations.get();
                System.out.println("iteration passes " + seen[0] + ", entries checked " + seen[1]);
                for (Future<long[]> reader : readers) {
                    long[] r = reader.get();
                    System.out.println("reader: gets " + r[0] + ", hits checked " + r[1]);
                    assertThat(r[1]).isGreaterThan(1000);
                }
                assertThat(seen[0]).isGreaterThanOrEqualTo(1);
            } finally {
                done.set(true);
                pool.shutdownNow();
            }
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "after the run");
            assertThat(idx.table().h.doublings).isGreaterThanOrEqualTo(5);
        }
    }
}
