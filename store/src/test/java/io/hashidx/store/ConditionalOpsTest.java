package io.hashidx.store;

import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The atomic conditional operations on byte arrays: putIfAbsent, replace(k, v), replace(k, old, new),
 * remove(k, v). Each is one lookup under the writer's lock, so threads racing on the same keys see
 * exactly one winner per key and compare-and-set loops lose no update; and they work on a table in
 * the middle of a growth, in old and new buckets alike.
 */
class ConditionalOpsTest {
    private static byte[] v(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void eachConditionalOperationWritesOnlyWhenItsConditionHolds(@TempDir Path dir) {
        try (HashIndex idx = HashIndex.create(dir.resolve("c.hidx"), Options.widths(8, 8).seed(1))) {
            byte[] k = v("k");
            assertThat(idx.replace(k, v("x"))).as("replace of an absent key").isNull();
            assertThat(idx.replace(k, v("a"), v("x"))).as("replace(k, old, new) of an absent key").isFalse();
            assertThat(idx.remove(k, v("a"))).as("remove(k, v) of an absent key").isFalse();
            assertThat(idx.contains(k)).isFalse();

            assertThat(idx.putIfAbsent(k, v("a"))).as("putIfAbsent of an absent key stores").isNull();
            assertThat(idx.putIfAbsent(k, v("b"))).as("putIfAbsent of a present key returns its value").isEqualTo(v("a"));
            assertThat(idx.get(k)).isEqualTo(v("a"));

            assertThat(idx.replace(k, v("b"), v("c"))).as("replace with a wrong expected value").isFalse();
            assertThat(idx.replace(k, v("ab"), v("c"))).as("expected value longer than the stored one").isFalse();
            assertThat(idx.replace(k, v(""), v("c"))).as("empty expected value").isFalse();
            assertThat(idx.get(k)).isEqualTo(v("a"));
            assertThat(idx.replace(k, v("a"), v("c"))).isTrue();
            assertThat(idx.get(k)).isEqualTo(v("c"));

            assertThat(idx.replace(k, v("d"))).as("replace returns the value it replaced").isEqualTo(v("c"));
            assertThat(idx.get(k)).isEqualTo(v("d"));

            assertThat(idx.remove(k, v("c"))).as("remove with a wrong expected value").isFalse();
            assertThat(idx.get(k)).isEqualTo(v("d"));
            assertThat(idx.remove(k, v("d"))).isTrue();
            assertThat(idx.contains(k)).isFalse();
            assertThat(idx.size()).isZero();

            assertThat(idx.putIfAbsent(v(""), v(""))).as("the empty key and value").isNull();
            assertThat(idx.replace(v(""), v(""), v("e"))).isTrue();
            assertThat(idx.remove(v(""), v("e"))).isTrue();
            assertThat(idx.verify()).isEmpty();
        }
    }

    @Test
    void conditionalOperationsRefuseTooLongKeysAndValuesLikePut(@TempDir Path dir) {
        Path file = dir.resolve("w.hidx");
        try (HashIndex idx = HashIndex.create(file, Options.widths(4, 4))) {
            Fixtures.assertFails(() -> idx.putIfAbsent(new byte[5], new byte[1]), HashIndexException.TooLong.class,
                    HashIndexException.Code.KEY_TOO_LONG, file, "key of 5 bytes");
            Fixtures.assertFails(() -> idx.replace(new byte[1], new byte[5]), HashIndexException.TooLong.class,
                    HashIndexException.Code.VALUE_TOO_LONG, file, "value of 5 bytes");
            Fixtures.assertFails(() -> idx.replace(new byte[1], new byte[1], new byte[6]),
                    HashIndexException.TooLong.class, HashIndexException.Code.VALUE_TOO_LONG, file, "value of 6 bytes");
            Fixtures.assertFails(() -> idx.remove(new byte[7], new byte[1]), HashIndexException.TooLong.class,
                    HashIndexException.Code.KEY_TOO_LONG, file, "key of 7 bytes");
        }
    }

    /**
     * A seeded sequence of the four conditional operations and plain ones against a HashMap, on a file
     * that starts with one bucket, so it doubles several times and many operations land mid-growth;
     * reopened now and then, also while growing.
     */
    @Test
    void conditionalOperationsMatchAHashMapThroughGrowthAndReopen(@TempDir Path dir) {
        long seed = 0xC0DE;
        Path file = dir.resolve("m.hidx");
        Map<Bytes, byte[]> model = new HashMap<>();
        SplittableRandom r = new SplittableRandom(seed);
        HashIndex idx = HashIndex.create(file, Options.widths(16, 16).seed(seed));
        try {
            for (int op = 0; op < 40_000; op++) {
                long id = r.nextInt(3_000);
                byte[] key = key16(id);
                byte[] value = value16(id, r.nextInt(3));
                byte[] present = model.get(Bytes.of(key));
                String at = "seed " + seed + ", op " + op + ", key " + id;
                switch (r.nextInt(7)) {
                    case 0 -> {
                        assertThat(idx.putIfAbsent(key, value)).as(at).isEqualTo(present);
                        model.putIfAbsent(Bytes.of(key), value);
                    }
                    case 1 -> {
                        assertThat(idx.replace(key, value)).as(at).isEqualTo(present);
                        model.computeIfPresent(Bytes.of(key), (k, old) -> value);
                    }
                    case 2 -> {
                        byte[] expected = value16(id, r.nextInt(3));
                        boolean matches = present != null && java.util.Arrays.equals(present, expected);
                        assertThat(idx.replace(key, expected, value)).as(at).isEqualTo(matches);
                        if (matches) {
                            model.put(Bytes.of(key), value);
                        }
                    }
                    case 3 -> {
                        byte[] expected = value16(id, r.nextInt(3));
                        boolean matches = present != null && java.util.Arrays.equals(present, expected);
                        assertThat(idx.remove(key, expected)).as(at).isEqualTo(matches);
                        if (matches) {
                            model.remove(Bytes.of(key));
                        }
                    }
                    case 4 -> {
                        assertThat(idx.put(key, value)).as(at).isEqualTo(present != null);
                        model.put(Bytes.of(key), value);
                    }
                    case 5 -> assertThat(idx.get(key)).as(at).isEqualTo(present);
                    default -> {
                        if (r.nextInt(500) == 0) {
                            idx.closeLeavingGrowth();
                            idx = HashIndex.open(file);
                        }
                    }
                }
            }
            Fixtures.assertHoldsExactly(idx, model, seed, "seed " + seed);
            assertThat(idx.verify()).isEmpty();
        } finally {
            idx.close();
        }
    }

    /** Threads race putIfAbsent on the same keys: one value per key wins, and every loser is told the winner's value. */
    @Test
    void racingPutIfAbsentHasExactlyOneWinnerPerKey(@TempDir Path dir) throws Exception {
        int threads = 4;
        int keys = 20_000;
        try (HashIndex idx = HashIndex.create(dir.resolve("race.hidx"), Options.widths(16, 8).seed(2))) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<int[]>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int me = t;
                    results.add(pool.submit(() -> {
                        int[] wonOrSaw = new int[keys]; // the thread number of the winner, as this thread saw it
                        start.await();
                        for (int k = 0; k < keys; k++) {
                            byte[] prior = idx.putIfAbsent(key16(k), ByteBuffer.allocate(8).putLong(me).array());
                            wonOrSaw[k] = prior == null ? me : (int) ByteBuffer.wrap(prior).getLong();
                        }
                        return wonOrSaw;
                    }));
                }
                start.countDown();
                List<int[]> seen = new ArrayList<>();
                for (Future<int[]> f : results) {
                    seen.add(f.get());
                }
                for (int k = 0; k < keys; k++) {
                    int stored = (int) ByteBuffer.wrap(idx.get(key16(k))).getLong();
                    for (int[] s : seen) {
                        assertThat(s[k]).as("key %d: winner seen by a thread vs stored", k).isEqualTo(stored);
                    }
                }
                assertThat(idx.size()).isEqualTo(keys);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** Threads increment shared counters with replace(k, old, new) loops: not one increment is lost. */
    @Test
    void compareAndSetLoopsOnReplaceLoseNoIncrement(@TempDir Path dir) throws Exception {
        int threads = 4;
        int counters = 16;
        int increments = 5_000;
        try (HashIndex idx = HashIndex.create(dir.resolve("cas.hidx"), Options.widths(16, 8).seed(3))) {
            for (int c = 0; c < counters; c++) {
                idx.put(key16(c), ByteBuffer.allocate(8).putLong(0).array());
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long seed = t;
                    done.add(pool.submit(() -> {
                        SplittableRandom r = new SplittableRandom(seed);
                        for (int i = 0; i < increments; i++) {
                            byte[] key = key16(r.nextInt(counters));
                            while (true) {
                                byte[] old = idx.get(key);
                                byte[] next = ByteBuffer.allocate(8).putLong(ByteBuffer.wrap(old).getLong() + 1).array();
                                if (idx.replace(key, old, next)) {
                                    break;
                                }
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            long total = 0;
            for (int c = 0; c < counters; c++) {
                total += ByteBuffer.wrap(idx.get(key16(c))).getLong();
            }
            assertThat(total).isEqualTo((long) threads * increments);
        }
    }
}
