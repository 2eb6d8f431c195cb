package io.hashidx.store;

import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Growth by doubling from one bucket to a million entries, and presizing that avoids it. */
class GrowthTest {
    private static final int MILLION = 1_000_000;

    @Test
    void everyEntryIsReadableAfterEachOfEighteenDoublingsUpToAMillionEntries(@TempDir Path dir) {
        Path path = dir.resolve("grow.hidx");
        byte[] key = new byte[16];
        byte[] expected = new byte[16];
        byte[] actual = new byte[16];
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(0x6720_7721L))) {
            Header h = idx.table().h;
            assertThat(h.bucketCount).isEqualTo(1);
            long checkedDoublings = 0;
            int checks = 0;
            for (int i = 0; i < MILLION; i++) {
                key16(i, key);
                value16(i, 0, expected);
                assertThat(idx.put(key, expected)).as("put %d of a new key", i).isFalse();
                if (h.doublings > checkedDoublings && !h.growing()) {
                    assertThat(h.doublings).as("one doubling completes before the next starts").isEqualTo(checkedDoublings + 1);
                    checkedDoublings = h.doublings;
                    assertAllReadable(idx, i + 1, key, expected, actual, "after doubling " + h.doublings);
                    checks++;
                }
            }
            if (h.growing()) {
                assertThat(idx.finishGrowth()).isPositive();
                assertAllReadable(idx, MILLION, key, expected, actual, "after finishGrowth of doubling " + h.doublings);
                checks++;
            }
            assertThat(h.doublings).as("1,000,000 entries at load 6.5 need 2^18 buckets").isEqualTo(18);
            assertThat(h.bucketCount).isEqualTo(1 << 18);
            assertThat(checks).as("every doubling was followed by a full check").isEqualTo(18);
            assertThat(idx.size()).isEqualTo(MILLION);
            Inspection inspection = idx.inspect();
            assertThat(inspection.doublings()).isEqualTo(18);
            assertThat(inspection.entries()).isEqualTo(MILLION);
            assertThat(inspection.growth().growing()).isFalse();
        }
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(idx.verify()).isEmpty();
            assertAllReadable(idx, MILLION, key, expected, actual, "after reopening");
        }
    }

    /** Checks keys 0..n-1 with their values, that key n is absent, the size, and every invariant. */
    private static void assertAllReadable(HashIndex idx, int n, byte[] key, byte[] expected, byte[] actual, String when) {
        assertThat(idx.size()).as("size %s", when).isEqualTo(n);
        for (int j = 0; j < n; j++) {
            key16(j, key);
            value16(j, 0, expected);
            int len = idx.get(key, actual);
            if (len != 16 || !Arrays.equals(expected, actual)) {
                assertThat(len).as("length of entry %d %s", j, when).isEqualTo(16);
                assertThat(actual).as("value of entry %d %s", j, when).isEqualTo(expected);
            }
        }
        key16(n, key);
        assertThat(idx.contains(key)).as("key %d not inserted yet, %s", n, when).isFalse();
        assertThat(idx.verify()).as("verify %s", when).isEmpty();
    }

    @Test
    void presizedForAMillionEntriesNeverGrowsAndHasCeilOfNOver6Point5Buckets(@TempDir Path dir) {
        Path path = dir.resolve("presized.hidx");
        byte[] key = new byte[16];
        byte[] value = new byte[16];
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).expectedEntries(MILLION).seed(42))) {
            long expectedBuckets = (long) Math.ceil(MILLION / 6.5);
            assertThat(expectedBuckets).isEqualTo(153_847);
            assertThat(idx.table().h.bucketCount).as("bucket count before any insert").isEqualTo(expectedBuckets);
            for (int i = 0; i < MILLION; i++) {
                key16(i, key);
                value16(i, 7, value);
                idx.put(key, value);
                if (idx.table().h.growing()) {
                    fail("a growth started at insert " + i + " of a table presized for " + MILLION);
                }
            }
            Inspection inspection = idx.inspect();
            assertThat(inspection.entries()).isEqualTo(MILLION);
            assertThat(inspection.doublings()).isZero();
            assertThat(inspection.sameSizeGrowths()).isZero();
            assertThat(inspection.growth().growing()).isFalse();
            assertThat(inspection.buckets()).isEqualTo(expectedBuckets);
            byte[] actual = new byte[16];
            for (int i = 0; i < MILLION; i++) {
                key16(i, key);
                value16(i, 7, value);
                assertThat(idx.get(key, actual)).isEqualTo(16);
                if (!Arrays.equals(value, actual)) {
                    assertThat(actual).as("value of entry %d", i).isEqualTo(value);
                }
            }
            assertThat(idx.verify()).isEmpty();
        }
    }

    /**
     * close() evacuates at most {@link Table#CLOSE_EVACUATION_BOUND} old buckets; a larger growth is
     * left for the next open, which carries on from the recorded evacuation mark.
     */
    @Test
    void closeEvacuatesABoundedNumberOfOldBucketsAndReopenCarriesOn(@TempDir Path dir) {
        Path path = dir.resolve("bounded.hidx");
        byte[] key = new byte[16];
        byte[] value = new byte[16];
        int n = 0;
        long markAtClose;
        long oldBuckets;
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(99))) {
            Header h = idx.table().h;
            while (!(h.growing() && h.oldBucketCount > 2 * Table.CLOSE_EVACUATION_BOUND - 1)) {
                key16(n, key);
                value16(n, 0, value);
                idx.put(key, value);
                n++;
            }
            oldBuckets = h.oldBucketCount;
            markAtClose = h.evacuated;
            assertThat(oldBuckets - markAtClose).isGreaterThan(Table.CLOSE_EVACUATION_BOUND);
        }
        try (HashIndex idx = HashIndex.open(path)) {
            Header h = idx.table().h;
            assertThat(h.growing()).as("a growth of %d old buckets outlives close()", oldBuckets).isTrue();
            assertThat(h.oldBucketCount).isEqualTo(oldBuckets);
            assertThat(h.evacuated).isGreaterThanOrEqualTo(markAtClose + Table.CLOSE_EVACUATION_BOUND);
            assertThat(idx.verify()).isEmpty();
            for (int j = 0; j < n; j++) {
                key16(j, key);
                value16(j, 0, value);
                assertThat(idx.get(key)).as("entry %d", j).isEqualTo(value);
            }
            long expectedLeft = oldBuckets - h.evacuated;
            assertThat(expectedLeft).isPositive();
            assertThat(idx.finishGrowth()).isEqualTo(expectedLeft);
            assertThat(h.growing()).isFalse();
            assertThat(idx.size()).isEqualTo(n);
            assertThat(idx.verify()).isEmpty();
        }
    }
}
