package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A crash while an old bucket's slots are being marked (FORMAT.md section 7, step 2: from the last
 * slot backwards, slot 0 last) leaves evacuated-empty marks in a bucket that still counts as not
 * evacuated, also after an empty-rest slot. Found by the kill -9 campaign (now {@code hashidx torture}):
 * verify reported such a file as damaged ("unexpected mark 4").
 */
class CrashWhileMarkingTest {
    @Test
    void verifyAcceptsMarksThatACrashWhileMarkingLeavesInAnUnevacuatedOldBucket(@TempDir Path dir) {
        try (HashIndex idx = HashIndex.create(dir.resolve("marks.hidx"), Options.widths(8, 16).seed(3))) {
            Header h = idx.table().h;
            long id = 0;
            while (!(h.growing() && h.oldBucketCount >= 64)) {
                idx.put(Fixtures.key8(id), Fixtures.value16Varying(id, id));
                id++;
            }
            BucketLayout layout = idx.table().layout;
            long marked = 0;
            for (long b = h.evacuated + 1; b < h.oldBucketCount; b++) {
                long cell = h.oldBucketsCell + b;
                if (layout.tophash(cell, 0) >= BucketLayout.MIN_TOPHASH && layout.overflow(cell) == BucketLayout.NONE
                        && layout.tophash(cell, BucketLayout.SLOTS - 1) == BucketLayout.EMPTY_REST) {
                    layout.setTophash(cell, BucketLayout.SLOTS - 1, BucketLayout.EVACUATED_EMPTY);
                    marked++;
                }
            }
            assertThat(marked).isPositive();
            assertThat(idx.verify()).isEmpty();
            for (long k = 0; k < id; k++) {
                assertThat(idx.get(Fixtures.key8(k))).isEqualTo(Fixtures.value16Varying(k, k));
            }
            idx.finishGrowth();
            assertThat(idx.verify()).isEmpty();
            assertThat(idx.size()).isEqualTo(id);
        }
    }
}
