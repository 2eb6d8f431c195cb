package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Torn records: lock-free readers read out-of-line values while several writers overwrite, remove and
 * insert entries of a variable-length file, so records are freed and their cells reused by other
 * writers' records (and overflow pages) while the readers read them. Every value names its key and a
 * generation in its first 12 bytes, and every other byte and its length follow from those two, so a
 * value torn by a concurrent free, or another key's value, or a stale record's bytes are all caught.
 *
 * <p>Each writer owns its keys (half of them longer than the inline width) and writes each with
 * increasing generations; values are 12 to 16 bytes (inline), 17 to 64 or 200 to 4,000 bytes (out of
 * line). Readers check, for every value they see: it is whole and belongs to the key looked up, and
 * its generation never goes back for that reader (a lookup is linearizable). {@code get(key)},
 * {@code get(key, dest)} and iteration are checked alike. The writers start once every reader has read
 * a little, and the readers stop once the writers are done, so the test never waits on a clock.
 * {@code -Dhashidx.test.seed=S} picks another campaign; a failure names the seed.
 */
class TornRecordTest {
    private static final int WRITERS = 3;
    private static final int READERS = 3;
    private static final int KEYS_PER_WRITER = 200;
    private static final int OPS_PER_WRITER = 15_000;
    private static final long SEED = Long.getLong("hashidx.test.seed", 808L);

    @TempDir
    Path dir;

    static byte[] key(long id) {
        byte[] k = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(id).array();
        if (id % 2 == 0) {
            return k;
        }
        byte[] longer = Arrays.copyOf(k, 24 + (int) (id % 37));
        for (int i = 8; i < longer.length; i++) {
            longer[i] = (byte) (id * 29 + i);
        }
        return longer;
    }

    private static long mix(long id, int generation) {
        long h = id * 0x9E3779B97F4A7C15L + generation * 0xC2B2AE3D27D4EB4FL;
        return h ^ (h >>> 29);
    }

    /** The value of key {@code id} at {@code generation}: its length and every byte follow from both. */
    static byte[] value(long id, int generation) {
        long h = mix(id, generation);
        int pick = (int) Long.remainderUnsigned(h, 10);
        int length = pick < 4 ? 12 + (int) ((h >>> 8) & 3) + (int) ((h >>> 12) & 1)
                : pick < 7 ? 17 + (int) Long.remainderUnsigned(h >>> 16, 48)
                : 200 + (int) Long.remainderUnsigned(h >>> 16, 3_801);
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(id).putInt(generation);
        for (int i = 12; i < length; i++) {
            b.put(i, (byte) ((h >>> ((i % 8) * 8)) + i));
        }
        return b.array();
    }

    /** Checks that {@code v} is a whole value of key {@code id}; returns its generation. */
    static int check(long id, byte[] v, String where) {
        assertThat(v.length).as("%s: value length of key %d", where, id).isGreaterThanOrEqualTo(12);
        ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(b.getLong(0)).as("%s: the value looked up under key %d names key", where, id).isEqualTo(id);
        int generation = b.getInt(8);
        assertThat(v).as("%s: value of key %d at generation %d is whole", where, id, generation)
                .isEqualTo(value(id, generation));
        return generation;
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void lockFreeReadersNeverSeeARecordTornByAConcurrentFreeOrReuse() throws Exception {
        Path path = dir.resolve("torn.hidx");
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS + READERS + 1);
        try (HashIndex idx = HashIndex.create(path, Options.variableLengths().seed(SEED))) {
            long[] ids = new long[WRITERS * KEYS_PER_WRITER];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = (long) (i / KEYS_PER_WRITER) << 32 | (i % KEYS_PER_WRITER);
            }
            CountDownLatch readersStarted = new CountDownLatch(READERS + 1);
            AtomicBoolean writersDone = new AtomicBoolean();
            AtomicLong checked = new AtomicLong();
            AtomicLong outOfLine = new AtomicLong();
            AtomicLong iterated = new AtomicLong();
            List<Future<?>> readers = new ArrayList<>();
            for (int r = 0; r < READERS; r++) {
                long readerSeed = SEED * 31 + r;
                readers.add(pool.submit(() -> {
                    SplittableRandom rnd = new SplittableRandom(readerSeed);
                    int[] last = new int[ids.length];
                    byte[] dest = new byte[4_000];
                    for (long n = 0; n < 200 || !writersDone.get(); n++) {
                        if (n == 200) {
                            readersStarted.countDown();
                        }
                        int i = rnd.nextInt(ids.length);
                        String where = "seed " + SEED + ", reader seed " + readerSeed + ", read " + n;
                        byte[] v;
                        if (rnd.nextBoolean()) {
                            v = idx.get(key(ids[i]));
                        } else {
                            int len = idx.get(key(ids[i]), dest);
                            v = len < 0 ? null : Arrays.copyOf(dest, len);
                        }
                        if (v != null) {
                            int g = check(ids[i], v, where);
                            assertThat(g).as("%s: generation of key %d went back", where, ids[i]).isGreaterThanOrEqualTo(last[i]);
                            last[i] = g;
                            checked.incrementAndGet();
                            if (v.length > 16 || key(ids[i]).length > 16) {
                                outOfLine.incrementAndGet();
                            }
                        }
                    }
                    return null;
                }));
            }
            readers.add(pool.submit(() -> {
                SplittableRandom rnd = new SplittableRandom(SEED * 37);
                for (long pass = 0; pass < 2 || !writersDone.get(); pass++) {
                    if (pass == 2) {
                        readersStarted.countDown();
                    }
                    java.util.Set<Long> seen = new java.util.HashSet<>();
                    for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new java.util.Random(rnd.nextLong())); it.hasNext(); ) {
                        Map.Entry<byte[], byte[]> e = it.next();
                        long id = ByteBuffer.wrap(e.getKey()).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
                        assertThat(e.getKey()).as("seed %d: iterated key", SEED).isEqualTo(key(id));
                        check(id, e.getValue(), "seed " + SEED + ", iteration pass " + pass);
                        assertThat(seen.add(id)).as("seed %d: iteration pass %d returned key %d twice", SEED, pass, id).isTrue();
                        iterated.incrementAndGet();
                    }
                }
                return null;
            }));
            readersStarted.await();
            List<Future<Map<Long, Integer>>> writers = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(pool.submit(() -> write(idx, writer)));
            }
            Map<Long, Integer> model = new HashMap<>();
            try {
                for (Future<Map<Long, Integer>> f : writers) {
                    model.putAll(f.get());
                }
            } finally {
                writersDone.set(true);
            }
            for (Future<?> f : readers) {
                f.get();
            }
            for (long id : ids) {
                Integer g = model.get(id);
                assertThat(idx.get(key(id))).as("seed %d: key %d at the end", SEED, id)
                        .isEqualTo(g == null ? null : value(id, g));
            }
            assertThat(idx.size()).isEqualTo(model.size());
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "seed " + SEED);
            System.out.printf("TornRecordTest: seed %d: %d values checked (%d out of line), %d iterated, "
                    + "%d doublings, %d record cells at the end%n", SEED, checked.get(), outOfLine.get(),
                    iterated.get(), idx.table().h.doublings, idx.table().h.recordCells);
            assertThat(outOfLine.get()).as("out-of-line values checked while the writers wrote").isPositive();
        } finally {
            pool.shutdownNow();
        }
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "after reopening");
        }
    }

    /** One writer's seeded operations on its own keys; returns the generation each present key holds. */
    private static Map<Long, Integer> write(HashIndex idx, int writer) {
        SplittableRandom rnd = new SplittableRandom(SEED * 7 + writer);
        Map<Long, Integer> model = new HashMap<>();
        int[] generation = new int[KEYS_PER_WRITER];
        for (int op = 0; op < OPS_PER_WRITER; op++) {
            int k = rnd.nextInt(KEYS_PER_WRITER);
            long id = (long) writer << 32 | k;
            if (rnd.nextInt(5) == 0) {
                assertThat(idx.remove(key(id))).as("seed %d, writer %d, op %d: remove", SEED, writer, op)
                        .isEqualTo(model.remove(id) != null);
            } else {
                int g = ++generation[k];
                idx.put(key(id), value(id, g));
                model.put(id, g);
            }
        }
        return model;
    }
}
