package io.hashidx.store;

import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many readers and one writer at a time: readers running while the writer grows the table, extends
 * the file and remaps its last chunk see every entry the writer has finished, and an iterator on
 * another thread returns each entry present throughout exactly once. The interleaving differs
 * between runs; what is asserted holds for every interleaving.
 */
class ConcurrencyTest {
    private static final int ENTRIES = 150_000;

    @Test
    void readersAndAnIteratorOnOtherThreadsSeeEveryFinishedInsertWhileTheWriterGrowsTheFile(@TempDir Path dir)
            throws Exception {
        try (HashIndex idx = HashIndex.create(dir.resolve("concurrent.hidx"),
                Options.widths(16, 16).chunkSize(64 << 10).seed(8))) {
            AtomicInteger inserted = new AtomicInteger(); // keys 0..inserted-1 are in the index
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<Integer>> readers = new ArrayList<>();
                for (int r = 0; r < 2; r++) {
                    long seed = r;
                    readers.add(pool.submit(() -> readUntilDone(idx, inserted, seed)));
                }
                Future<Integer> iterations = pool.submit(() -> iterateUntilDone(idx, inserted));
                for (int i = 0; i < ENTRIES; i++) {
                    idx.put(key16(i), value16(i, 0));
                    inserted.set(i + 1);
                }
                for (Future<Integer> reader : readers) {
                    assertThat(reader.get()).as("reads done by a reader thread").isPositive();
                }
                assertThat(iterations.get()).as("complete iterations on the iterating thread").isPositive();
            } finally {
                pool.shutdownNow();
            }
            assertThat(idx.size()).isEqualTo(ENTRIES);
            assertThat(idx.table().h.doublings).isGreaterThan(10);
            assertThat(idx.verify()).isEmpty();
        }
    }

    /** Gets random keys among those inserted so far; each must be there with its value. */
    private static int readUntilDone(HashIndex idx, AtomicInteger inserted, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] value = new byte[16];
        byte[] expected = new byte[16];
        byte[] key = new byte[16];
        int reads = 0;
        while (true) {
            int done = inserted.get();
            if (done > 0) {
                int j = rnd.nextInt(done);
                key16(j, key);
                value16(j, 0, expected);
                int len = idx.get(key, value);
                assertThat(len).as("length of key %d with %d inserted", j, done).isEqualTo(16);
                assertThat(value).as("value of key %d", j).isEqualTo(expected);
                reads++;
            }
            if (done == ENTRIES) {
                return reads;
            }
        }
    }

    /** Iterates again and again: keys inserted before an iteration started are each returned exactly once. */
    private static int iterateUntilDone(HashIndex idx, AtomicInteger inserted) {
        int iterations = 0;
        while (true) {
            int before = inserted.get();
            Set<Bytes> seen = new HashSet<>();
            for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(iterations)); it.hasNext(); ) {
                Map.Entry<byte[], byte[]> e = it.next();
                assertThat(seen.add(Bytes.of(e.getKey()))).as("key %s returned twice", Bytes.of(e.getKey())).isTrue();
            }
            for (int i = 0; i < before; i++) {
                if (!seen.contains(Bytes.of(key16(i)))) {
                    assertThat(seen).as("iteration %d: key %d was inserted before it started", iterations, i)
                            .contains(Bytes.of(key16(i)));
                }
            }
            iterations++;
            if (before == ENTRIES) {
                return iterations;
            }
        }
    }
}
