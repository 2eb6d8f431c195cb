package io.hashidx.store;

import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * More overflow pages than buckets, at a load far below 6.5, starts a same-size growth (Go's
 * "sameSizeGrow"): the table is rewritten into a fresh array of the same size, dropping the empty
 * overflow pages that removals left behind.
 */
class SameSizeGrowthTest {
    private static final long SEED = 0x5A3E;

    @Test
    void overflowPagesLeftByRemovalsTriggerASameSizeGrowthThatCompactsAndSurvivesRestart(@TempDir Path dir) {
        Path path = dir.resolve("same-size.hidx");
        Map<Bytes, byte[]> model = new HashMap<>();
        HashIndex idx = HashIndex.create(path, Options.widths(16, 16).expectedEntries(416).seed(SEED));
        try {
            Header h = idx.table().h;
            long buckets = h.bucketCount;
            assertThat(buckets).isEqualTo(64);
            List<List<byte[]>> perBucket = keysPerBucket(h.seed, buckets, 18);

            // give every bucket one overflow page, then empty it again
            for (List<byte[]> keys : perBucket) {
                for (byte[] k : keys.subList(0, 9)) {
                    idx.put(k, k);
                }
                for (byte[] k : keys.subList(0, 9)) {
                    assertThat(idx.remove(k)).isTrue();
                }
            }
            assertThat(idx.size()).isZero();
            assertThat(h.overflowPages).isEqualTo(buckets);
            assertThat(h.growing()).isFalse();

            // 17 entries in bucket 0 need a second overflow page there: one more than there are buckets
            List<byte[]> crowded = perBucket.getFirst();
            for (byte[] k : crowded.subList(0, 17)) {
                idx.put(k, k);
                model.put(Bytes.of(k), k);
            }
            assertThat(h.overflowPages).isEqualTo(buckets + 1);
            assertThat(h.growing()).isFalse();
            idx.put(crowded.get(17), crowded.get(17));
            model.put(Bytes.of(crowded.get(17)), crowded.get(17));
            assertThat(h.growing()).as("the next insert starts a growth").isTrue();
            assertThat(h.sameSizeGrowths).isEqualTo(1);
            assertThat(h.doublings).isZero();
            assertThat(h.bucketCount).isEqualTo(buckets);
            assertThat(h.oldBucketCount).isEqualTo(buckets);
            Inspection.Growth growth = idx.inspect().growth();
            assertThat(growth.growing()).isTrue();
            assertThat(growth.sameSize()).isTrue();
            assertThat(idx.verify()).isEmpty();

            // a few more keys spread over other buckets, so the growth has more than one bucket to move
            for (int b = 1; b < 8; b++) {
                byte[] k = perBucket.get(b).get(0);
                idx.put(k, k);
                model.put(Bytes.of(k), k);
            }
            assertThat(h.growing()).isTrue();
            long mark = h.evacuated;
            idx.closeLeavingGrowth();
            idx = HashIndex.open(path);
            h = idx.table().h;
            assertThat(h.growing()).isTrue();
            assertThat(h.evacuated).isEqualTo(mark);
            assertThat(h.bucketCount).isEqualTo(h.oldBucketCount);
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, 1, "mid same-size growth after reopen");

            // iterate and overwrite every value while the growth completes
            Set<Bytes> returned = new HashSet<>();
            boolean completed = false;
            for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(SEED)); it.hasNext(); ) {
                Map.Entry<byte[], byte[]> e = it.next();
                assertThat(returned.add(Bytes.of(e.getKey()))).as("returned twice: %s", Bytes.of(e.getKey())).isTrue();
                assertThat(e.getValue()).isEqualTo(model.get(Bytes.of(e.getKey())));
                byte[] v = value16(returned.size(), 1);
                idx.put(e.getKey(), v);
                model.put(Bytes.of(e.getKey()), v);
                idx.finishGrowth();
                completed |= !h.growing();
            }
            assertThat(completed).isTrue();
            assertThat(returned).isEqualTo(model.keySet());
            assertThat(h.overflowPages).as("only bucket 0's two overflow pages are left").isEqualTo(2);
            assertThat(h.sameSizeGrowths).isEqualTo(1);
            assertThat(h.doublings).isZero();
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, 2, "after the same-size growth");
        } finally {
            idx.close();
        }
        try (HashIndex reopened = HashIndex.open(path)) {
            assertThat(reopened.verify()).isEmpty();
            Fixtures.assertHoldsExactly(reopened, model, 3, "after reopening");
        }
    }

    /** {@code perBucket} distinct 16-byte keys for each bucket of a {@code buckets}-bucket table. */
    static List<List<byte[]>> keysPerBucket(long seed, long buckets, int perBucket) {
        List<List<byte[]>> lists = new ArrayList<>();
        for (int b = 0; b < buckets; b++) {
            lists.add(new ArrayList<>());
        }
        int full = 0;
        for (long i = 0; full < buckets; i++) {
            byte[] k = key16(i);
            List<byte[]> list = lists.get((int) Hashing.bucketIndex(Hashing.hash(k, seed), buckets));
            if (list.size() < perBucket) {
                list.add(k);
                if (list.size() == perBucket) {
                    full++;
                }
            }
        }
        return lists;
    }
}
