package io.hashidx.store;

import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A growth interrupted by closing the file carries on after reopening, losing and duplicating nothing. */
class GrowthRestartTest {
    private static final long SEED = 0xC0FFEE;

    /** Inserts new keys until a doubling from {@code oldBuckets} buckets is under way. */
    private static long fillUntilGrowing(HashIndex idx, Map<Bytes, byte[]> model, long oldBuckets) {
        Header h = idx.table().h;
        long next = 0;
        while (!(h.growing() && h.oldBucketCount == oldBuckets)) {
            byte[] k = key16(next);
            byte[] v = value16(next, 0);
            idx.put(k, v);
            model.put(Bytes.of(k), v);
            next++;
        }
        assertThat(h.bucketCount).isEqualTo(2 * oldBuckets);
        return next;
    }

    /** One random write (new key, overwrite or remove) applied to both index and model; returns the next new key. */
    private static long randomWrite(HashIndex idx, Map<Bytes, byte[]> model, SplittableRandom rnd, long next, int version) {
        int kind = rnd.nextInt(10);
        if (kind < 4) {
            byte[] k = key16(next);
            byte[] v = value16(next, version);
            assertThat(idx.put(k, v)).isFalse();
            model.put(Bytes.of(k), v);
            return next + 1;
        }
        long existing = rnd.nextLong(next);
        byte[] k = key16(existing);
        if (kind < 8) {
            byte[] v = value16(existing, version);
            assertThat(idx.put(k, v)).isEqualTo(model.put(Bytes.of(k), v) != null);
        } else {
            assertThat(idx.remove(k)).isEqualTo(model.remove(Bytes.of(k)) != null);
        }
        return next;
    }

    @Test
    void growthSurvivesRestartMidEvacuationWithTheSameProgress(@TempDir Path dir) {
        Path path = dir.resolve("restart.hidx");
        Map<Bytes, byte[]> model = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(SEED);
        long next;
        long mark;
        Inspection.Growth before;
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(SEED))) {
            next = fillUntilGrowing(idx, model, 1024);
            for (int i = 0; i < 100; i++) {
                next = randomWrite(idx, model, rnd, next, 1);
            }
            Header h = idx.table().h;
            assertThat(h.growing()).isTrue();
            mark = h.evacuated;
            before = idx.inspect().growth();
            assertThat(before.evacuated()).as("progress beyond the mark, from writes").isGreaterThan(mark);
            assertThat(mark).isPositive().isLessThan(512);
            idx.closeLeavingGrowth();
        }
        try (HashIndex idx = HashIndex.open(path)) {
            Header h = idx.table().h;
            assertThat(h.growing()).as("still growing after reopen").isTrue();
            assertThat(h.evacuated).as("evacuation mark after reopen").isEqualTo(mark);
            assertThat(idx.inspect().growth()).as("growth progress after reopen").isEqualTo(before);
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, 1, "right after reopening mid-growth");

            int writes = 0;
            while (h.growing()) {
                next = randomWrite(idx, model, rnd, next, 2);
                writes++;
                assertThat(writes).as("growth of 1024 old buckets finishes within 1024 writes").isLessThanOrEqualTo(1024);
            }
            for (int i = 0; i < 2000; i++) {
                next = randomWrite(idx, model, rnd, next, 3);
            }
            assertThat(h.doublings).isEqualTo(11);
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, 2, "after the growth finished");
        }
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, 3, "after the last reopen");
        }
    }

    @Test
    void growthSurvivesARestartAfterEveryFewWritesUntilItCompletes(@TempDir Path dir) {
        Path path = dir.resolve("restarts.hidx");
        Map<Bytes, byte[]> model = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        long next;
        HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(SEED + 1));
        try {
            next = fillUntilGrowing(idx, model, 512);
            int restarts = 0;
            while (idx.table().h.growing()) {
                for (int i = 0; i < 20; i++) {
                    next = randomWrite(idx, model, rnd, next, restarts);
                }
                Header h = idx.table().h;
                long[] state = {h.bucketCount, h.oldBucketCount, h.evacuated, h.doublings, h.count};
                idx.closeLeavingGrowth();
                idx = HashIndex.open(path);
                h = idx.table().h;
                assertThat(new long[] {h.bucketCount, h.oldBucketCount, h.evacuated, h.doublings, h.count})
                        .as("buckets, old buckets, evacuated, doublings, count after restart %d", restarts)
                        .containsExactly(state);
                assertThat(idx.verify()).as("verify after restart %d", restarts).isEmpty();
                restarts++;
            }
            assertThat(restarts).isGreaterThan(5);
            Fixtures.assertHoldsExactly(idx, model, 4, "after " + restarts + " restarts during one growth");
        } finally {
            idx.close();
        }
    }

    @Test
    void readOnlyOpenMidGrowthSeesEverythingOnceAndLeavesTheGrowthAlone(@TempDir Path dir) {
        Path path = dir.resolve("ro.hidx");
        Map<Bytes, byte[]> model = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        long mark;
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(SEED + 2))) {
            long next = fillUntilGrowing(idx, model, 256);
            for (int i = 0; i < 30; i++) {
                next = randomWrite(idx, model, rnd, next, 1);
            }
            mark = idx.table().h.evacuated;
            idx.closeLeavingGrowth();
        }
        try (HashIndex ro = HashIndex.openReadOnly(path)) {
            assertThat(ro.table().h.growing()).isTrue();
            assertThat(ro.verify()).isEmpty();
            Fixtures.assertHoldsExactly(ro, model, 5, "read-only mid-growth");
        }
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(idx.table().h.growing()).isTrue();
            assertThat(idx.table().h.evacuated).as("a read-only open evacuates nothing").isEqualTo(mark);
        }
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(idx.table().h.growing()).as("close() finishes a growth of 256 old buckets").isFalse();
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, 6, "after close() finished the growth");
        }
    }
}
