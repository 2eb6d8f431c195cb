package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File offsets past 4 GiB: no int arithmetic on offsets, chunk indexes beyond 4, values that straddle nothing. */
class LargeFileTest {
    private static final long FOUR_GIB = 1L << 32;
    private static final int KEY_WIDTH = 32;
    private static final int VALUE_WIDTH = 65_000;
    private static final long EXPECTED_ENTRIES = 52_000;
    private static final int TARGET_BUCKETS = 200;
    private static final int KEYS_PER_BUCKET = 24; // 8 in the bucket itself, 16 in two overflow pages

    /**
     * A presized 4.7 GiB file with 508 KiB cells. Overflow pages come from the presized reserve, which
     * is handed out from its first cell; the reserve cells below 4 GiB go first to filler entries with
     * empty values (nine in a bucket take one page), so that filling 200 buckets with 24 entries each
     * puts 3,200 entries past 4 GiB. The test checks where each entry really lies rather than trusting
     * that, then reads everything back after reopening. It needs about 5.2 GB of free disk and fails
     * (never skips) without it.
     */
    @Test
    void entriesInCellsPastFourGibibytesSurviveCloseAndReopen(@TempDir Path dir) throws IOException {
        Path path = dir.resolve("large.hidx");
        int stride = BucketLayout.strideFor(KEY_WIDTH, VALUE_WIDTH);
        long buckets = Table.bucketsFor(EXPECTED_ENTRIES);
        long cells = 1 + buckets + Table.overflowReserveFor(buckets);
        long cellsPerChunk = Options.DEFAULT_CHUNK_SIZE / stride;
        long fileSize = MappedFile.DATA_START + (cells / cellsPerChunk) * Options.DEFAULT_CHUNK_SIZE
                + (cells % cellsPerChunk) * stride;
        assertThat(fileSize).as("presized file size").isGreaterThan(FOUR_GIB + FOUR_GIB / 8);
        long needed = fileSize + (512L << 20);
        long usable = Files.getFileStore(dir).getUsableSpace();
        if (usable < needed) {
            fail("LargeFileTest needs " + needed + " bytes of free disk space in " + dir + " for a " + fileSize
                    + "-byte index file, but only " + usable + " bytes are usable; free some space or point"
                    + " java.io.tmpdir at a larger file system");
        }
        try {
            List<byte[]> keys = new ArrayList<>();
            long fillers = 0;
            try (HashIndex idx = HashIndex.create(path, Options.widths(KEY_WIDTH, VALUE_WIDTH)
                    .expectedEntries(EXPECTED_ENTRIES).seed(0x4614B))) {
                assertThat(Files.size(path)).isEqualTo(fileSize);
                Header h = idx.table().h;
                assertThat(h.bucketCount).isEqualTo(buckets);
                BucketLayout layout = idx.table().layout;
                long firstPast = buckets + 1;
                while (layout.cellOffset(firstPast) < FOUR_GIB) {
                    firstPast++;
                }
                int fillerBuckets = (int) (firstPast - (1 + buckets));
                for (byte[] k : keysForBuckets(h.seed, h.bucketCount, TARGET_BUCKETS, fillerBuckets, 9)) {
                    assertThat(idx.put(k, new byte[0])).isFalse();
                    fillers++;
                }
                assertThat(h.overflowPages).as("filler pages").isEqualTo(fillerBuckets);
                keys.addAll(keysForBuckets(h.seed, h.bucketCount, 0, TARGET_BUCKETS, KEYS_PER_BUCKET));
                for (int i = 0; i < keys.size(); i++) {
                    assertThat(idx.put(keys.get(i), value(i))).isFalse();
                }
                assertThat(h.doublings + h.sameSizeGrowths).as("growths").isZero();
                assertThat(h.overflowPages).isEqualTo(TARGET_BUCKETS * 2L + fillerBuckets);

                int past = 0;
                long highest = 0;
                for (byte[] k : keys) {
                    long ref = idx.table().find(k);
                    assertThat(ref).isNotNegative();
                    long offset = layout.cellOffset(ref / BucketLayout.SLOTS);
                    highest = Math.max(highest, offset);
                    if (offset >= FOUR_GIB) {
                        past++;
                    }
                }
                assertThat(past).as("entries whose cell lies past 4 GiB").isGreaterThanOrEqualTo(3_000);
                assertThat(past).as("and some below").isLessThan(keys.size());
                assertThat(highest + stride).isLessThanOrEqualTo(fileSize);
                assertAllReadable(idx, keys);
            }
            try (HashIndex idx = HashIndex.open(path)) {
                assertThat(idx.size()).isEqualTo(keys.size() + fillers);
                assertThat(idx.verify()).isEmpty();
                assertAllReadable(idx, keys);
                int seen = 0;
                for (var it = idx.iterator(new Random(1)); it.hasNext(); ) {
                    Map.Entry<byte[], byte[]> e = it.next();
                    if (e.getValue().length == VALUE_WIDTH) {
                        seen++;
                    } else {
                        assertThat(e.getValue()).as("a filler's value").isEmpty();
                    }
                }
                assertThat(seen).isEqualTo(keys.size());
                // rewrite the entries past 4 GiB in place, then read them again after another reopen
                for (int i = 0; i < keys.size(); i += 3) {
                    assertThat(idx.put(keys.get(i), value(i + 1_000_000))).isTrue();
                }
            }
            try (HashIndex idx = HashIndex.openReadOnly(path)) {
                assertThat(idx.verify()).isEmpty();
                byte[] buffer = new byte[VALUE_WIDTH];
                for (int i = 0; i < keys.size(); i++) {
                    assertThat(idx.get(keys.get(i), buffer)).isEqualTo(VALUE_WIDTH);
                    byte[] expected = value(i % 3 == 0 ? i + 1_000_000 : i);
                    if (!Arrays.equals(buffer, expected)) {
                        fail("value of entry " + i + " differs after rewriting and reopening");
                    }
                }
            }
        } finally {
            Files.deleteIfExists(path);
        }
    }

    private static void assertAllReadable(HashIndex idx, List<byte[]> keys) {
        byte[] buffer = new byte[VALUE_WIDTH];
        for (int i = 0; i < keys.size(); i++) {
            assertThat(idx.get(keys.get(i), buffer)).as("length of entry %d", i).isEqualTo(VALUE_WIDTH);
            if (!Arrays.equals(buffer, value(i))) {
                assertThat(buffer).as("value of entry %d", i).isEqualTo(value(i));
            }
        }
    }

    /** {@code perBucket} distinct keys for each of buckets first..first+n-1, in bucket order. */
    private static List<byte[]> keysForBuckets(long seed, long bucketCount, int first, int n, int perBucketKeys) {
        List<List<byte[]>> perBucket = new ArrayList<>();
        for (int b = 0; b < n; b++) {
            perBucket.add(new ArrayList<>());
        }
        int full = 0;
        for (long i = 0; full < n; i++) {
            byte[] k = ByteBuffer.allocate(KEY_WIDTH).order(ByteOrder.LITTLE_ENDIAN).putLong(i).putLong(~i).array();
            long b = Hashing.bucketIndex(Hashing.hash(k, seed), bucketCount) - first;
            if (b >= 0 && b < n && perBucket.get((int) b).size() < perBucketKeys) {
                perBucket.get((int) b).add(k);
                if (perBucket.get((int) b).size() == perBucketKeys) {
                    full++;
                }
            }
        }
        List<byte[]> keys = new ArrayList<>();
        perBucket.forEach(keys::addAll);
        return keys;
    }

    private static byte[] value(int i) {
        byte[] v = new byte[VALUE_WIDTH];
        new SplittableRandom(i).nextBytes(v);
        return v;
    }
}
