package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Go's iteration contract under random interleavings, checked against a model: several iterators
 * open at once, each advanced a step at a time while the same thread inserts, overwrites, removes,
 * re-inserts and finishes growths, across several doublings. Every iterator must return
 * <ul>
 *   <li>each key present from its start to its end exactly once,
 *   <li>only keys present at the moment they are returned, with their value at that moment,
 *   <li>a key a second time only if it was removed and inserted again after it was first returned.
 * </ul>
 * Sometimes the iterator looks ahead ({@code hasNext()}) before the writes and returns the entry after
 * them, which must then still be present and current.
 */
class IterationModelTest {
    private static final int SEEDS = 150;

    private static final class Tracked {
        final int id;
        final Iterator<Map.Entry<byte[], byte[]>> it;
        final Set<Bytes> throughout;
        final Set<Bytes> returned = new HashSet<>();
        final Set<Bytes> removedAfterReturn = new HashSet<>();
        /** Until this step the iterator advances only now and then, staying inside one bucket across growths. */
        final int slowUntil;

        Tracked(int id, Iterator<Map.Entry<byte[], byte[]>> it, Set<Bytes> present, int slowUntil) {
            this.id = id;
            this.it = it;
            this.throughout = new HashSet<>(present);
            this.slowUntil = slowUntil;
        }
    }

    @Test
    void everyIteratorKeepsGosContractWhileItsThreadWritesAndTheTableGrows(@TempDir Path dir) {
        long first = Long.getLong("hashidx.test.seed", 1);
        int seeds = System.getProperty("hashidx.test.seed") != null ? 1 : SEEDS;
        int[] counts = new int[4];
        for (long seed = first; seed < first + seeds; seed++) {
            run(dir.resolve("iter-model-" + seed + ".hidx"), seed, counts, false);
        }
        checkCounts(counts, seeds);
    }

    /**
     * The same on variable-length files whose keys (0..20 bytes) and values (0..30 bytes) cross the
     * inline widths (8 and 16): an iterator walking an array that has grown since it started meets
     * out-of-line slots already moved on, whose records overwrites and removes may have freed and
     * later records reused, and must find those entries by the hash their slot keeps.
     */
    @Test
    void everyIteratorKeepsGosContractOnAVariableLengthFileWhoseRecordsAreFreedAndReused(@TempDir Path dir) {
        long first = Long.getLong("hashidx.test.seed", 1);
        int seeds = System.getProperty("hashidx.test.seed") != null ? 1 : SEEDS / 2;
        int[] counts = new int[4];
        for (long seed = first; seed < first + seeds; seed++) {
            run(dir.resolve("iter-model-var-" + seed + ".hidx"), seed, counts, true);
        }
        checkCounts(counts, seeds);
    }

    private static void checkCounts(int[] counts, int seeds) {
        String figures = "iterators run to the end " + counts[0] + ", steps while growing " + counts[1]
                + ", growths started or finished while iterators were open " + counts[2]
                + ", runs closed with retired arrays waiting " + counts[3];
        System.out.println(figures);
        assertThat(counts[0]).as(figures).isGreaterThan(seeds);
        assertThat(counts[1]).as(figures).isGreaterThan(seeds * 100);
        assertThat(counts[2]).as(figures).isGreaterThan(seeds);
        assertThat(counts[3]).as(figures).isGreaterThan(seeds / 10);
    }

    /**
     * counts: [iterators finished, steps while growing, growth starts or ends seen by open iterators,
     * runs closed while retired arrays were waiting].
     */
    private static void run(Path path, long seed, int[] counts, boolean variable) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int keyWidth = 8;
        maxValue = variable ? 30 : 8;
        byte[][] pool = new byte[3_000 + rnd.nextInt(30_000)][];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = new byte[rnd.nextInt((variable ? 20 : keyWidth) + 1)];
            rnd.nextBytes(pool[i]);
        }
        Map<Bytes, byte[]> model = new HashMap<>();
        List<Tracked> open = new ArrayList<>();
        ArrayDeque<String> recent = new ArrayDeque<>();
        int step = 0;
        Options options = variable ? Options.variableLengths(keyWidth, 16) : Options.widths(keyWidth, 8);
        try (HashIndex idx = HashIndex.create(path, options.seed(seed))) {
            int prefill = rnd.nextInt(pool.length / 8);
            for (int i = 0; i < prefill; i++) {
                byte[] k = pool[rnd.nextInt(pool.length)];
                byte[] v = value(rnd);
                idx.put(k, v);
                model.put(Bytes.of(k), v);
            }
            int nextId = 0;
            for (step = 0; step < 6000; step++) {
                if (open.size() < 3 && rnd.nextInt(open.isEmpty() ? 1 : 200) == 0) {
                    note(recent, step, "open iterator " + nextId + (idx.table().h.growing() ? " (growing)" : ""));
                    int slowUntil = rnd.nextInt(3) == 0 ? step + rnd.nextInt(3000) : 0;
                    open.add(new Tracked(nextId++, idx.iterator(new Random(rnd.nextLong())), model.keySet(), slowUntil));
                }
                Header h = idx.table().h;
                long growthBefore = h.doublings * 2 + (h.growing() ? 1 : 0) + h.sameSizeGrowths * 2;
                Tracked t = open.get(rnd.nextInt(open.size()));
                boolean peeked = rnd.nextInt(3) == 0 && t.it.hasNext();
                int writes = rnd.nextInt(4);
                for (int w = 0; w < writes; w++) {
                    write(idx, model, open, pool, rnd, recent, step);
                }
                if (h.growing()) {
                    counts[1]++;
                }
                if (h.doublings * 2 + (h.growing() ? 1 : 0) + h.sameSizeGrowths * 2 != growthBefore) {
                    counts[2]++;
                }
                if (step < t.slowUntil && rnd.nextInt(100) != 0) {
                    continue;
                }
                if (!advance(t, model, seed, step, peeked, recent)) {
                    open.remove(t);
                    counts[0]++;
                }
            }
            for (Tracked t : open) {
                while (advance(t, model, seed, step, false, recent)) {
                    // drain without writes, to check what it missed
                }
                counts[0]++;
            }
            assertThat(idx.verify()).as("seed %d", seed).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "seed " + seed + " at the end");
            Fixtures.assertHoldsExactly(idx, model, seed, "seed " + seed + " at the end");
            // reopen, half the time without the bounded evacuation and release that close() does
            if (idx.table().space.hasRetired()) {
                counts[3]++;
            }
            note(recent, step, "reopen");
            if (seed % 2 == 0) {
                idx.closeLeavingGrowth();
            } else {
                idx.close();
            }
            try (HashIndex reopened = HashIndex.open(path)) {
                assertThat(reopened.table().space.hasRetired()).as("retired arrays are freed on open").isFalse();
                assertThat(reopened.verify()).as("seed %d after reopening", seed).isEmpty();
                // the header records the retired arrays still pinned by iterators, so even a close that
                // skips releasing them (as a crash would) leaks nothing
                Fixtures.assertNoLeakedCells(reopened, "seed " + seed + " after closing and reopening");
                Fixtures.assertHoldsExactly(reopened, model, seed, "seed " + seed + " after reopening");
            }
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("iteration model failed: seed " + seed + " (rerun with -Dhashidx.test.seed=" + seed
                    + ") at step " + step + "; last steps:\n  " + String.join("\n  ", recent), e);
        }
    }

    /** Takes one entry from {@code t} and checks it; at the end checks what it missed. False when finished. */
    private static boolean advance(Tracked t, Map<Bytes, byte[]> model, long seed, int step, boolean peeked,
                                   ArrayDeque<String> recent) {
        if (!t.it.hasNext()) {
            note(recent, step, "iterator " + t.id + " finished");
            Set<Bytes> missing = new HashSet<>(t.throughout);
            missing.removeAll(t.returned);
            assertThat(missing).as("seed %d step %d: iterator %d missed keys present throughout", seed, step, t.id)
                    .isEmpty();
            return false;
        }
        Map.Entry<byte[], byte[]> e = t.it.next();
        Bytes k = Bytes.of(e.getKey());
        note(recent, step, "iterator " + t.id + (peeked ? " (peeked)" : "") + " returns " + k);
        assertThat(model).as("seed %d step %d: iterator %d returned a key that is not present", seed, step, t.id)
                .containsKey(k);
        assertThat(e.getValue()).as("seed %d step %d: iterator %d returned a stale value of %s", seed, step, t.id, k)
                .isEqualTo(model.get(k));
        if (!t.returned.add(k)) {
            assertThat(t.removedAfterReturn).as("seed %d step %d: iterator %d returned %s twice", seed, step, t.id, k)
                    .contains(k);
            t.removedAfterReturn.remove(k);
        }
        return true;
    }

    private static void write(HashIndex idx, Map<Bytes, byte[]> model, List<Tracked> open, byte[][] pool,
                              SplittableRandom rnd, ArrayDeque<String> recent, int step) {
        int kind = rnd.nextInt(1000); // the table grows: 75% puts, 24.5% removes
        byte[] k = pool[rnd.nextInt(pool.length)];
        Bytes key = Bytes.of(k);
        if (kind < 750) {
            byte[] v = value(rnd);
            note(recent, step, "put " + key + (model.containsKey(key) ? " (overwrite)" : ""));
            assertThat(idx.put(k, v)).isEqualTo(model.put(key, v) != null);
        } else if (kind < 995) {
            note(recent, step, "remove " + key);
            boolean present = model.remove(key) != null;
            assertThat(idx.remove(k)).isEqualTo(present);
            if (present) {
                for (Tracked t : open) {
                    t.throughout.remove(key);
                    if (t.returned.contains(key)) {
                        t.removedAfterReturn.add(key);
                    }
                }
            }
        } else {
            note(recent, step, "finishGrowth");
            idx.finishGrowth();
        }
    }

    /** Longest value of the run: 8 bytes, or 30 on a variable-length file (inline up to 16). */
    private static int maxValue;

    private static byte[] value(SplittableRandom rnd) {
        byte[] v = new byte[rnd.nextInt(maxValue + 1)];
        rnd.nextBytes(v);
        return v;
    }

    private static void note(ArrayDeque<String> recent, int step, String what) {
        if (recent.size() == 16) {
            recent.removeFirst();
        }
        recent.addLast(step + ": " + what);
    }
}
