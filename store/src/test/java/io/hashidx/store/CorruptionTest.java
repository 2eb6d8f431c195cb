package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged files: an overflow link pointing outside the allocated cells or forming a cycle, a stored
 * key or value length beyond the width, a header whose checksums are valid but whose geometry is not.
 * Every operation that meets the damage throws CORRUPT naming the offset; none loops or throws
 * anything else.
 */
class CorruptionTest {
    private static final long SEED = 0xBADL;
    private static final int KEYS = 3000;

    @TempDir
    Path dir;
    private Path path;
    private long bucket;
    private long page;
    private long bucketIndex;
    private long allocated;
    private BucketLayout layout;

    @BeforeEach
    void grownFileWithAnOverflowPage() {
        path = dir.resolve("damaged.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).seed(SEED))) {
            for (long id = 0; id < KEYS; id++) {
                idx.put(Fixtures.key8(id), Fixtures.value16Varying(id, id));
            }
            idx.finishGrowth();
            Table t = idx.table();
            layout = t.layout;
            allocated = t.h.allocatedCells;
            bucket = BucketLayout.NONE;
            for (long b = 0; b < t.h.bucketCount && bucket == BucketLayout.NONE; b++) {
                long next = layout.overflow(t.h.bucketsCell + b);
                if (next != BucketLayout.NONE && layout.overflow(next) == BucketLayout.NONE) {
                    bucket = t.h.bucketsCell + b;
                    bucketIndex = b;
                    page = next;
                }
            }
            assertThat(bucket).as("a bucket with one overflow page").isNotEqualTo(BucketLayout.NONE);
        }
    }

    /** A key not in the file that maps to the damaged bucket, so a lookup walks the whole chain. */
    private byte[] absentKeyOfTheBucket() {
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            Header h = idx.table().h;
            for (long id = KEYS; ; id++) {
                byte[] k = Fixtures.key8(id);
                if (Hashing.bucketIndex(Hashing.hash(k, h.seed), h.bucketCount) == bucketIndex) {
                    return k;
                }
            }
        }
    }

    private void writeLong(long offset, long value) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value), offset);
        }
    }

    private void writeByte(long offset, int value) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {(byte) value}), offset);
        }
    }

    /** Marks every slot of {@code cell} empty_one: no empty_rest, so a lookup goes on to the link. */
    private void noEmptyRestIn(long cell) throws IOException {
        for (int i = 0; i < BucketLayout.SLOTS; i++) {
            writeByte(layout.cellOffset(cell) + BucketLayout.TOPHASH_OFFSET + i, BucketLayout.EMPTY_ONE);
        }
    }

    private static void assertCorrupt(ThrowingCallable call, String fragment) {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThatThrownBy(call)
                .isInstanceOf(HashIndexException.class)
                .satisfies(t -> {
                    HashIndexException e = (HashIndexException) t;
                    assertThat(e.code()).as(e.getMessage()).isEqualTo(HashIndexException.Code.CORRUPT);
                    assertThat(e.getMessage()).contains("corrupt at offset").contains(fragment);
                }));
    }

    /** get, put, remove and iteration throw CORRUPT; verify throws it or reports a problem; inspect ends. */
    private void everyOperationReportsCorrupt(String fragment) {
        byte[] absent = absentKeyOfTheBucket();
        try (HashIndex idx = HashIndex.open(path)) {
            assertCorrupt(() -> idx.get(absent), fragment);
            assertCorrupt(() -> idx.put(absent, new byte[] {1}), fragment);
            assertCorrupt(() -> idx.remove(absent), fragment);
            assertCorrupt(() -> {
                for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(1)); it.hasNext(); ) {
                    it.next();
                }
            }, fragment);
            assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
                idx.inspect(); // the summary counts what it can reach and leaves the naming to verify
                try {
                    List<String> problems = idx.verify();
                    assertThat(problems).isNotEmpty();
                } catch (HashIndexException e) {
                    assertThat(e.code()).isEqualTo(HashIndexException.Code.CORRUPT);
                }
            });
        }
    }

    @Test
    void anOverflowLinkOutsideTheAllocatedCellsIsCorrupt() throws IOException {
        long at = layout.cellOffset(page) + BucketLayout.OVERFLOW_OFFSET;
        writeLong(at, allocated + 5 + 1);
        noEmptyRestIn(page);
        everyOperationReportsCorrupt("corrupt at offset " + at + ": overflow link of cell " + page);
    }

    @Test
    void aHugeOverflowLinkIsCorrupt() throws IOException {
        long at = layout.cellOffset(bucket) + BucketLayout.OVERFLOW_OFFSET;
        writeLong(at, Long.MIN_VALUE + 12345);
        everyOperationReportsCorrupt("corrupt at offset " + at + ": overflow link of cell " + bucket);
    }

    @Test
    void anOverflowChainFormingACycleIsCorrupt() throws IOException {
        long at = layout.cellOffset(page);
        writeLong(at + BucketLayout.OVERFLOW_OFFSET, bucket + 1);
        noEmptyRestIn(page);
        everyOperationReportsCorrupt("is a cycle");
    }

    @Test
    void storedLengthsBeyondTheWidthAreCorrupt() throws IOException {
        byte[] key;
        long slotAt = layout.cellOffset(bucket) + BucketLayout.SLOTS_OFFSET;
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            key = idx.table().layout.key(bucket, 0);
        }
        // the value length byte of slot 0 (key length 1 byte, key 8 bytes)
        writeByte(slotAt + 1 + 8, 17);
        try (HashIndex idx = HashIndex.open(path)) {
            assertCorrupt(() -> idx.get(key), "stored value length 17 exceeds the value width 16");
        }
        writeByte(slotAt, 9);
        try (HashIndex idx = HashIndex.open(path)) {
            assertCorrupt(() -> {
                for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(1)); it.hasNext(); ) {
                    it.next();
                }
            }, "stored key length 9 exceeds the key width 8");
            assertThat(idx.verify()).isNotEmpty();
        }
    }

    @Test
    void aHeaderWithValidChecksumsButImpossibleGeometryIsCorrupt() {
        try (HashIndex idx = HashIndex.open(path)) {
            Header h = idx.table().h;
            h.bucketCount = h.allocatedCells * 4;
            h.store(idx.table().file.header());
            idx.closeLeavingGrowth();
        }
        assertThatThrownBy(() -> HashIndex.open(path)).isInstanceOf(HashIndexException.class)
                .satisfies(t -> assertThat(((HashIndexException) t).code()).isEqualTo(HashIndexException.Code.CORRUPT));
        assertThatThrownBy(() -> HashIndex.openReadOnly(path)).isInstanceOf(HashIndexException.class)
                .satisfies(t -> assertThat(((HashIndexException) t).code()).isEqualTo(HashIndexException.Code.CORRUPT));
    }
}
