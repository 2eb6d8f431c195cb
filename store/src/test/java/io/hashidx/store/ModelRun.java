package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * One seeded random run of index operations checked against a {@link HashMap} model, in the style
 * of H2's {@code TestRandomMapOps}. Everything (keys, values, operations, hash seed, iteration
 * starts) derives from the seed, so a seed reproduces a failure exactly; the failure message names
 * the seed, the index of the operation that failed (that many operations plus one reproduce it) and
 * the operations just before it.
 *
 * <p>Keys are drawn from a fixed pool so that puts overwrite and removes hit; the pool holds the
 * empty key and keys that differ only by trailing zero bytes ("ab", "ab\0", "ab\0\0"). The mix of
 * puts and removes changes in phases, so the table grows, shrinks (leaving holes and empty-rest
 * marks) and grows again. Reopens use both {@code close()} and {@code closeLeavingGrowth()}, are more
 * frequent while a growth is under way, sometimes follow a {@code sync()}, and sometimes look at the
 * file read-only first. After every reopen, {@code verify()} must be empty and no cell may be leaked.
 */
final class ModelRun {
    /** What a run went through, so tests can assert that the interesting situations happened. */
    record Stats(int ops, int reopens, int reopensMidGrowth, int readOnlyOpens, int iterations,
                 long doublings, long maxSize, int removes, int overwrites, int finishGrowthCalls) {
    }

    private final long seed;
    private final int keyWidth;
    private final int valueWidth;
    private final long chunkSize;
    private final int ops;
    private final Path path;
    private final SplittableRandom rnd;
    private final byte[][] pool;
    private final Map<Bytes, byte[]> model = new HashMap<>();
    private final ArrayDeque<String> recent = new ArrayDeque<>();
    private HashIndex idx;
    private int op;

    private int reopens;
    private int reopensMidGrowth;
    private int readOnlyOpens;
    private int iterations;
    private long maxSize;
    private int removes;
    private int overwrites;
    private int finishGrowthCalls;

    /**
     * @param chunkSize mapping chunk size, or 0 for the default
     * @param poolSize  number of distinct keys drawn from (the table holds up to about 70% of them)
     */
    ModelRun(long seed, int keyWidth, int valueWidth, long chunkSize, int ops, int poolSize, Path dir) {
        this.seed = seed;
        this.keyWidth = keyWidth;
        this.valueWidth = valueWidth;
        this.chunkSize = chunkSize;
        this.ops = ops;
        this.path = dir.resolve("model-" + Long.toHexString(seed) + ".hidx");
        this.rnd = new SplittableRandom(seed);
        this.pool = keyPool(poolSize);
    }

    /** Runs every operation; on failure throws an AssertionError naming seed and operation. */
    Stats run() {
        op = -1;
        try {
            Options options = Options.widths(keyWidth, valueWidth).seed(rnd.nextLong());
            if (chunkSize != 0) {
                options = options.chunkSize(chunkSize);
            }
            idx = HashIndex.create(path, options);
            for (op = 0; op < ops; op++) {
                step();
            }
            op = ops;
            note("final check, close, reopen, check");
            assertThat(idx.verify()).as(ctx("verify at the end")).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, rnd.nextLong(), ctx("at the end").get());
            idx.close();
            idx = HashIndex.open(path);
            assertThat(idx.verify()).as(ctx("verify after the last reopen")).isEmpty();
            Fixtures.assertNoLeakedCells(idx, ctx("after the last reopen").get());
            Fixtures.assertHoldsExactly(idx, model, rnd.nextLong(), ctx("after the last reopen").get());
            return new Stats(ops, reopens, reopensMidGrowth, readOnlyOpens, iterations, idx.table().h.doublings,
                    maxSize, removes, overwrites, finishGrowthCalls);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("model run failed: seed " + seed + " (rerun with -Dhashidx.test.seed=" + seed
                    + "), widths " + keyWidth + "/" + valueWidth + ", chunk size " + (chunkSize == 0 ? "default" : chunkSize)
                    + ", at operation " + op + " (the first " + (op + 1) + " operations reproduce it); "
                    + "last operations:\n  " + String.join("\n  ", recent), e);
        } finally {
            if (idx != null) {
                idx.close();
            }
        }
    }

    private void step() {
        // put/remove balance changes every quarter of the run: fill, churn, drain, refill
        int phase = (int) ((long) op * 4 / ops);
        int putWeight = switch (phase) {
            case 0 -> 420;
            case 1 -> 250;
            case 2 -> 120;
            default -> 350;
        };
        int r = rnd.nextInt(1000);
        boolean growing = idx.table().h.growing();
        if (r < putWeight) {
            put();
        } else if (r < 500) { // removes take the rest of the first half
            remove();
        } else if (r < 680) {
            get();
        } else if (r < 780) {
            contains();
        } else if (r < 900) {
            getIntoBuffer();
        } else if (r < 985) {
            size();
        } else if (r < 987) {
            iterate();
        } else if (r < 988) {
            finishGrowth();
        } else if (r < 989 || (growing && r < 996)) {
            reopen(); // eight times as often while growing, to reopen mid-growth
        } else {
            get();
        }
        maxSize = Math.max(maxSize, model.size());
    }

    // ---------------------------------------------------------------- operations

    private void put() {
        byte[] key = randomKey();
        byte[] value = randomValue();
        note("put " + Bytes.of(key) + " = " + Bytes.of(value));
        boolean expected = model.containsKey(Bytes.of(key));
        boolean replaced = idx.put(key, value);
        assertThat(replaced).as(ctx("put(%s) reports a replaced value", Bytes.of(key))).isEqualTo(expected);
        model.put(Bytes.of(key.clone()), value.clone());
        if (expected) {
            overwrites++;
        }
    }

    private void remove() {
        byte[] key = randomKey();
        note("remove " + Bytes.of(key));
        boolean expected = model.remove(Bytes.of(key)) != null;
        assertThat(idx.remove(key)).as(ctx("remove(%s) reports presence", Bytes.of(key))).isEqualTo(expected);
        if (expected) {
            removes++;
        }
    }

    private void get() {
        byte[] key = randomKey();
        note("get " + Bytes.of(key));
        assertThat(idx.get(key)).as(ctx("get(%s)", Bytes.of(key))).isEqualTo(model.get(Bytes.of(key)));
    }

    private void contains() {
        byte[] key = randomKey();
        note("contains " + Bytes.of(key));
        assertThat(idx.contains(key)).as(ctx("contains(%s)", Bytes.of(key))).isEqualTo(model.containsKey(Bytes.of(key)));
    }

    private void getIntoBuffer() {
        byte[] key = randomKey();
        int size = rnd.nextInt(5) == 0 ? rnd.nextInt(valueWidth + 1) : valueWidth + rnd.nextInt(3);
        byte[] dest = new byte[size];
        Arrays.fill(dest, (byte) 0x5A);
        byte[] untouched = dest.clone();
        note("get " + Bytes.of(key) + " into " + size + " bytes");
        byte[] expected = model.get(Bytes.of(key));
        if (expected != null && expected.length > size) {
            Fixtures.assertFails(() -> idx.get(key, dest), HashIndexException.State.class,
                    HashIndexException.Code.INVALID_ARGUMENT, path, "too small");
            return;
        }
        int len = idx.get(key, dest);
        if (expected == null) {
            assertThat(len).as(ctx("get(%s, buffer) of an absent key", Bytes.of(key))).isEqualTo(-1);
            assertThat(dest).as(ctx("buffer untouched by a miss")).isEqualTo(untouched);
            return;
        }
        assertThat(len).as(ctx("get(%s, buffer) length", Bytes.of(key))).isEqualTo(expected.length);
        assertThat(Arrays.copyOf(dest, len)).as(ctx("get(%s, buffer) bytes", Bytes.of(key))).isEqualTo(expected);
        assertThat(Arrays.copyOfRange(dest, len, size)).as(ctx("buffer after the value is untouched"))
                .isEqualTo(Arrays.copyOfRange(untouched, len, size));
    }

    private void size() {
        note("size");
        assertThat(idx.size()).as(ctx("size")).isEqualTo(model.size());
    }

    private void iterate() {
        long start = rnd.nextLong();
        note("iterate from " + start);
        iterations++;
        Map<Bytes, byte[]> seen = Fixtures.iterateAll(idx, start, ctx("iterate").get());
        assertThat(seen.keySet()).as(ctx("iterated keys")).isEqualTo(model.keySet());
        for (Map.Entry<Bytes, byte[]> e : seen.entrySet()) {
            assertThat(e.getValue()).as(ctx("iterated value of %s", e.getKey())).isEqualTo(model.get(e.getKey()));
        }
    }

    private void finishGrowth() {
        Header h = idx.table().h;
        long expectedLeft = h.growing() ? h.oldBucketCount - h.evacuated : 0;
        note("finishGrowth (expecting " + expectedLeft + " old buckets left)");
        finishGrowthCalls++;
        assertThat(idx.finishGrowth()).as(ctx("finishGrowth() result")).isEqualTo(expectedLeft);
        assertThat(h.growing()).as(ctx("growing after finishGrowth()")).isFalse();
    }

    private void reopen() {
        Header h = idx.table().h;
        boolean leaveGrowth = h.growing() && rnd.nextInt(4) != 0;
        long buckets = h.bucketCount;
        long oldBuckets = h.oldBucketCount;
        long evacuated = h.evacuated;
        long doublings = h.doublings;
        note((leaveGrowth ? "closeLeavingGrowth" : "close") + " and reopen (buckets " + buckets + ", old " + oldBuckets
                + ", evacuated " + evacuated + ")");
        reopens++;
        if (rnd.nextInt(4) == 0) {
            idx.sync();
        }
        if (leaveGrowth) {
            reopensMidGrowth++;
            idx.closeLeavingGrowth();
        } else {
            idx.close();
        }
        Fixtures.assertFails(() -> idx.size(), HashIndexException.State.class, HashIndexException.Code.CLOSED, path);
        if (rnd.nextInt(4) == 0) {
            readOnlyOpens++;
            try (HashIndex ro = HashIndex.openReadOnly(path)) {
                assertThat(ro.verify()).as(ctx("verify read-only")).isEmpty();
                Fixtures.assertHoldsExactly(ro, model, rnd.nextLong(), ctx("read-only open").get());
                Fixtures.assertFails(() -> ro.put(new byte[0], new byte[0]), HashIndexException.State.class,
                        HashIndexException.Code.READ_ONLY, path);
            }
        }
        idx = HashIndex.open(path);
        h = idx.table().h;
        if (leaveGrowth) {
            assertThat(new long[] {h.bucketCount, h.oldBucketCount, h.evacuated, h.doublings})
                    .as(ctx("growth state (buckets, old buckets, evacuated, doublings) after reopening mid-growth"))
                    .containsExactly(buckets, oldBuckets, evacuated, doublings);
        }
        assertThat(idx.verify()).as(ctx("verify after reopen")).isEmpty();
        Fixtures.assertNoLeakedCells(idx, ctx("after reopen").get());
        assertThat(idx.size()).as(ctx("size after reopen")).isEqualTo(model.size());
    }

    // ---------------------------------------------------------------- data

    private byte[] randomKey() {
        return pool[rnd.nextInt(pool.length)];
    }

    /** Random length 0..width, bytes biased towards zero so trailing zero bytes are common. */
    private byte[] randomValue() {
        byte[] v = new byte[rnd.nextInt(valueWidth + 1)];
        for (int i = 0; i < v.length; i++) {
            v[i] = rnd.nextInt(4) == 0 ? 0 : (byte) rnd.nextInt(256);
        }
        return v;
    }

    private byte[][] keyPool(int size) {
        List<byte[]> keys = new ArrayList<>();
        byte[] ab = "ab".getBytes(StandardCharsets.US_ASCII);
        byte[] full = new byte[keyWidth];
        Arrays.fill(full, (byte) 0xFF);
        for (byte[] special : List.of(new byte[0], new byte[1], new byte[2], ab, Arrays.copyOf(ab, 3),
                Arrays.copyOf(ab, 4), new byte[] {0, 'a', 'b'}, new byte[Math.max(0, keyWidth - 1)],
                new byte[keyWidth], full)) {
            if (special.length <= keyWidth) {
                keys.add(special);
            }
        }
        while (keys.size() < size) {
            byte[] prev = keys.getLast();
            int kind = rnd.nextInt(10);
            if (kind < 2 && prev.length < keyWidth) {
                keys.add(Arrays.copyOf(prev, prev.length + 1)); // same bytes plus a trailing zero
            } else if (kind < 3 && prev.length > 0) {
                keys.add(Arrays.copyOf(prev, prev.length - 1)); // same bytes minus the last one
            } else {
                byte[] k = new byte[rnd.nextInt(keyWidth + 1)];
                for (int i = 0; i < k.length; i++) {
                    k[i] = (byte) rnd.nextInt(256);
                }
                keys.add(k);
            }
        }
        return keys.toArray(new byte[0][]);
    }

    // ---------------------------------------------------------------- failure context

    private void note(String what) {
        if (recent.size() == 12) {
            recent.removeFirst();
        }
        recent.addLast(op + ": " + what);
    }

    private Supplier<String> ctx(String what, Object... args) {
        int at = op;
        return () -> "seed " + seed + " op " + at + ": " + String.format(what, args);
    }
}
