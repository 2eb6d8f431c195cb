package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The concurrent model test: in each round, 8 threads run 1,000 seeded random operations each on one
 * index that starts with a single bucket, so it doubles several times while they run. Each thread has
 * keys of its own, which only it writes, and all threads share a few keys.
 *
 * <p>Checked during the round: a get of an own key returns exactly what the thread's model says (no
 * other thread writes it, so anything else is a lost or phantom write); a get of a shared key returns
 * null or a value some thread wrote for that key (never a torn value, never another key's); an
 * iteration returns no key twice and returns every own key the thread's model holds (they cannot
 * change while the thread iterates), with its model value. At the end of the round: every own key
 * holds exactly its model value, every shared key null or one of its values, {@code size()} matches,
 * and {@link HashIndex#verify()} finds nothing. Every 50th round closes (mid-growth, sometimes) and
 * reopens the file and checks again.
 *
 * <p>The variable-length variant runs the same rounds on variable-length files with keys and values
 * that cross the inline widths (records written, freed and reused under the readers and iterators).
 *
 * <p>{@code -Dhashidx.concurrent.rounds=N} (default 2,000), {@code -Dhashidx.concurrent.variableRounds=N}
 * (default 300) and {@code -Dhashidx.test.seed=S} choose the campaigns; a failure names the round's seed, which reproduces its operations (not their
 * interleaving).
 */
class ConcurrentModelTest {
    private static final int THREADS = 8;
    private static final int OPS = 1_000;
    private static final int OWN_KEYS = 120;
    private static final int SHARED_KEYS = 24;
    private static final int ROUNDS = Integer.getInteger("hashidx.concurrent.rounds", 2_000);
    private static final long SEED = Long.getLong("hashidx.test.seed", 20251126L);

    @TempDir
    Path dir;

    /** Rounds of the variable-length variant ({@code -Dhashidx.concurrent.variableRounds=N}, default 300). */
    private static final int VARIABLE_ROUNDS = Integer.getInteger("hashidx.concurrent.variableRounds", 300);

    static byte[] key(int thread, int k) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(thread).putInt(k).array();
    }

    /**
     * A key of the variable-length variant: the 8 bytes of {@link #key}, then (for two keys in five) up to
     * 40 more that depend on the key, so keys cross the inline width of 16 bytes.
     */
    static byte[] key(int thread, int k, boolean variable) {
        byte[] key = key(thread, k);
        if (!variable || Math.floorMod(k * 7 + thread, 5) >= 2) {
            return key;
        }
        byte[] longer = Arrays.copyOf(key, 8 + Math.floorMod(k * 13 + thread * 3, 41));
        for (int i = 8; i < longer.length; i++) {
            longer[i] = (byte) (k * 31 + thread * 17 + i);
        }
        return longer;
    }

    /** Values name their key and the write: (thread << 32 | key) and a serial, 4 to 16 bytes long. */
    static byte[] value(int thread, int k, int serial, int length) {
        ByteBuffer b = ByteBuffer.allocate(Math.max(16, length)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(thread).putInt(k).putInt(serial).putInt(serial ^ 0x5A5A5A5A);
        for (int i = 16; i < length; i++) {
            b.put(i, (byte) (thread * 7 + k * 11 + serial * 13 + i));
        }
        return Arrays.copyOf(b.array(), length);
    }

    /**
     * A value length: 4 to 16 bytes; in the variable-length variant also, skewed to the inline width, 17
     * to 40 bytes (one in four) or 100 to 3,000 bytes (one in eight), which go out of line.
     */
    private static int valueLength(SplittableRandom rnd, boolean variable, int longest) {
        int pick = rnd.nextInt(8);
        if (!variable || pick < 5) {
            return Math.min(longest, 4 + rnd.nextInt(13));
        }
        return pick < 7 ? 17 + rnd.nextInt(24) : 100 + rnd.nextInt(2_901);
    }

    private record Round(long seed, int doublings, long size, long overlapping) {
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void eightThreadsOfSeededRandomOperationsKeepEveryThreadsModelAndEveryInvariant() throws Exception {
        campaign(false, ROUNDS);
    }

    /**
     * The same on variable-length files (inline widths 16/16): keys of 8 to 48 bytes and values of 4 to
     * 3,000 bytes cross the inline widths, so records are written, freed by overwrites and removes and
     * reused by other threads' writes while the table grows and the others read and iterate.
     */
    @Test
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void eightThreadsOnAVariableLengthFileKeepEveryThreadsModelAndEveryInvariant() throws Exception {
        campaign(true, VARIABLE_ROUNDS);
    }

    private void campaign(boolean variable, int rounds) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        long start = System.nanoTime();
        long doublings = 0;
        long growingRounds = 0;
        long overlapping = 0;
        try {
            SplittableRandom seeds = new SplittableRandom(SEED);
            for (int round = 0; round < rounds; round++) {
                long seed = seeds.nextLong();
                Round r = runRound(pool, round, seed, variable);
                doublings += r.doublings();
                overlapping += r.overlapping();
                if (r.doublings() > 0) {
                    growingRounds++;
                }
            }
        } finally {
            pool.shutdownNow();
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.printf("ConcurrentModelTest%s: %d rounds of %d threads x %d operations, %d doublings (%d rounds grew), "
                + "%d writes ran beside another writer, %.1f s%n", variable ? " (variable lengths)" : "",
                rounds, THREADS, OPS, doublings, growingRounds, overlapping, ms / 1000.0);
        assertThat(growingRounds).as("rounds in which the table grew while the threads ran").isEqualTo(rounds);
        assertThat(overlapping).as("writes that found another writer in flight (lane 0 taken)").isPositive();
    }

    private Round runRound(ExecutorService pool, int round, long seed, boolean variable) throws Exception {
        Path path = dir.resolve("round-" + round + ".hidx");
        Map<Bytes, Set<Bytes>> sharedWritten = new java.util.concurrent.ConcurrentHashMap<>();
        for (int k = 0; k < SHARED_KEYS; k++) {
            sharedWritten.put(Bytes.of(key(-1, k, variable)), java.util.concurrent.ConcurrentHashMap.newKeySet());
        }
        HashIndex idx = HashIndex.create(path, (variable ? Options.variableLengths() : Options.widths(8, 16)).seed(seed));
        try {
            List<Future<Map<Bytes, byte[]>>> threads = new ArrayList<>();
            java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(THREADS);
            HashIndex shared = idx;
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                long threadSeed = seed ^ (0x9E3779B97F4A7C15L * (t + 1));
                threads.add(pool.submit(() -> {
                    go.await();
                    return runThread(shared, thread, threadSeed, sharedWritten, seed, variable);
                }));
            }
            Map<Bytes, byte[]> own = new HashMap<>();
            for (Future<Map<Bytes, byte[]>> f : threads) {
                own.putAll(f.get());
            }
            int doublings = (int) idx.table().h.doublings;
            long overlapping = idx.table().overlappingWrites.sum();
            if (round % 50 == 49) {
                if (round % 100 == 49) {
                    idx.closeLeavingGrowth();
                } else {
                    idx.close();
                }
                idx = HashIndex.open(path);
            }
            long size = checkEnd(idx, own, sharedWritten, seed, variable);
            return new Round(seed, doublings, size, overlapping);
        } finally {
            idx.close();
            Files.deleteIfExists(path);
        }
    }

    private static Map<Bytes, byte[]> runThread(HashIndex idx, int thread, long seed,
                                                Map<Bytes, Set<Bytes>> sharedWritten, long roundSeed, boolean variable) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<Bytes, byte[]> model = new HashMap<>();
        byte[] dest = new byte[variable ? 3_000 : 16];
        for (int op = 0; op < OPS; op++) {
            String where = "round seed " + roundSeed + ", thread " + thread + ", operation " + op;
            int kind = rnd.nextInt(100);
            if (kind < 70) {
                // own keys: a model the thread alone decides
                int k = rnd.nextInt(OWN_KEYS);
                byte[] key = key(thread, k, variable);
                Bytes kb = Bytes.of(key);
                if (kind < 40) {
                    byte[] v = value(thread, k, op, valueLength(rnd, variable, 16));
                    boolean replaced = idx.put(key, v);
                    assertThat(replaced).as("%s: put of own key %d replaced", where, k).isEqualTo(model.containsKey(kb));
                    model.put(kb, v);
                } else if (kind < 50) {
                    assertThat(idx.remove(key)).as("%s: remove of own key %d", where, k).isEqualTo(model.remove(kb) != null);
                } else if (kind < 60) {
                    assertThat(idx.get(key)).as("%s: get of own key %d", where, k).isEqualTo(model.get(kb));
                } else {
                    int len = idx.get(key, dest);
                    byte[] expected = model.get(kb);
                    if (expected == null) {
                        assertThat(len).as("%s: get into of absent own key %d", where, k).isEqualTo(-1);
                    } else {
                        assertThat(Arrays.copyOf(dest, len)).as("%s: get into of own key %d", where, k).isEqualTo(expected);
                    }
                }
            } else if (kind < 97) {
                // shared keys: any value some thread wrote for that key
                int k = rnd.nextInt(SHARED_KEYS);
                byte[] key = key(-1, k, variable);
                Set<Bytes> written = sharedWritten.get(Bytes.of(key));
                if (kind < 82) {
                    byte[] v = value(thread, k, op, variable ? valueLength(rnd, true, 16) : 16);
                    written.add(Bytes.of(v)); // before the put: a reader may see it as soon as it is stored
                    idx.put(key, v);
                } else if (kind < 87) {
                    idx.remove(key);
                } else {
                    byte[] v = idx.get(key);
                    if (v != null) {
                        assertThat(written).as("%s: shared key %d holds a value written for it", where, k)
                                .contains(Bytes.of(v));
                    }
                }
            } else if (kind < 99) {
                assertThat(idx.contains(key(thread, rnd.nextInt(OWN_KEYS), variable))).isNotNull();
                assertThat(idx.size()).isNotNegative();
            } else {
                iterate(idx, thread, model, rnd, where);
            }
        }
        return model;
    }

    /**
     * While this thread iterates, its own keys cannot change: each must come back exactly once with its
     * model value, whatever the other threads do meanwhile (weakly consistent iteration).
     */
    private static void iterate(HashIndex idx, int thread, Map<Bytes, byte[]> model, SplittableRandom rnd, String where) {
        Set<Bytes> seen = new HashSet<>();
        for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new java.util.Random(rnd.nextLong())); it.hasNext(); ) {
            Map.Entry<byte[], byte[]> e = it.next();
            Bytes k = Bytes.of(e.getKey());
            assertThat(seen.add(k)).as("%s: iteration returned %s twice", where, k).isTrue();
            byte[] expected = model.get(k);
            if (expected != null) {
                assertThat(e.getValue()).as("%s: iterated value of own key %s", where, k).isEqualTo(expected);
            }
        }
        for (Bytes k : model.keySet()) {
            assertThat(seen).as("%s: iteration missed own key %s, present throughout", where, k).contains(k);
        }
    }

    private static long checkEnd(HashIndex idx, Map<Bytes, byte[]> own, Map<Bytes, Set<Bytes>> sharedWritten, long seed,
                                 boolean variable) {
        String where = "round seed " + seed + (variable ? " (variable lengths)" : "");
        for (int t = 0; t < THREADS; t++) {
            for (int k = 0; k < OWN_KEYS; k++) {
                byte[] key = key(t, k, variable);
                assertThat(idx.get(key)).as("%s: own key %d of thread %d at the end", where, k, t)
                        .isEqualTo(own.get(Bytes.of(key)));
            }
        }
        long shared = 0;
        for (Map.Entry<Bytes, Set<Bytes>> e : sharedWritten.entrySet()) {
            byte[] v = idx.get(e.getKey().array());
            if (v != null) {
                shared++;
                assertThat(e.getValue()).as("%s: shared key at the end", where).contains(Bytes.of(v));
            }
        }
        assertThat(idx.size()).as("%s: size", where).isEqualTo(own.size() + shared);
        assertThat(idx.verify()).as("%s: invariants", where).isEmpty();
        if (variable) {
            Fixtures.assertNoLeakedCells(idx, where);
        }
        return idx.size();
    }
}
