package io.hashidx.store;

import static io.hashidx.store.Fixtures.assertFails;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the fuzzer ({@link CorruptFileFuzzTest}) found, each finding reduced to the one damage that
 * caused it, and a few more of the same kinds found while reducing them (a bucket array whose end
 * overflows, a negative 4-byte value length, free and overflow counts beyond the file). Before the
 * fixes each of these threw an index out of bounds, a negative array size or an illegal state, failed
 * with INVALID_ARGUMENT, or grew the file without end; now each is CORRUPT with an offset. The fuzzer's own reproducers are in its regression corpus too
 * ({@code CorruptFileFuzzTestInputs/<target>/crash-*}).
 */
class FuzzFindingsTest {
    private static final long SEED = 0xF022L;

    @TempDir
    Path dir;

    private void writeBytes(Path path, long offset, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    private void writeLong(Path path, long offset, long value) throws IOException {
        writeBytes(path, offset, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, value).array());
    }

    private static void assertCorrupt(Runnable call, Path path, String... fragments) {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertFails(call::run,
                HashIndexException.FileFormat.class, HashIndexException.Code.CORRUPT, path, fragments));
    }

    @Test
    void aValueLengthBeyondTheWidthIsCorruptAlsoWhenReadIntoABuffer() throws IOException {
        Path path = dir.resolve("value-length.hidx");
        byte[] key = Fixtures.key8(1);
        long slot0;
        try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).seed(SEED))) {
            idx.put(key, new byte[] {1, 2, 3});
            slot0 = idx.table().layout.cellOffset(idx.table().h.bucketsCell) + BucketLayout.SLOTS_OFFSET;
        }
        writeBytes(path, slot0 + 1 + 8, new byte[] {18}); // value length byte after key length (1) and key (8)
        try (HashIndex idx = HashIndex.open(path)) {
            String why = "corrupt at offset " + slot0 + ": stored value length 18 exceeds the value width 16";
            assertCorrupt(() -> idx.get(key, new byte[16]), path, why);
            assertCorrupt(() -> idx.get(key), path, why);
        }
    }

    @Test
    void aNegativeFourByteValueLengthIsCorruptNotANegativeArraySize() throws IOException {
        Path path = dir.resolve("negative-length.hidx");
        byte[] key = {1, 2, 3, 4};
        long valueLengthAt;
        try (HashIndex idx = HashIndex.create(path, Options.widths(4, 1 << 16).seed(SEED))) {
            idx.put(key, new byte[100]);
            BucketLayout layout = idx.table().layout;
            assertThat(layout.valueLengthBytes).isEqualTo(4);
            valueLengthAt = layout.cellOffset(idx.table().h.bucketsCell) + BucketLayout.SLOTS_OFFSET + 1 + 4;
        }
        writeBytes(path, valueLengthAt, new byte[] {-1, -1, -1, -1});
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            assertCorrupt(() -> idx.get(key), path, "stored value length -1 exceeds the value width 65536");
            assertCorrupt(() -> idx.iterator().next(), path, "stored value length -1");
        }
    }

    @Test
    void aCyclicChainOfAFullOldBucketIsCorruptWhenEvacuatedNotAnEndlessGrowth() throws IOException {
        Path path = dir.resolve("cyclic-old-chain.hidx");
        long link;
        long oldCell;
        try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).seed(SEED))) {
            Header h = idx.table().h;
            for (long id = 0; !(h.growing() && h.oldBucketCount >= 16); id++) {
                idx.put(Fixtures.key8(id), Fixtures.value16Varying(id, id));
            }
            // an unevacuated old bucket whose primary page is full: every walk over it copies 8 entries
            BucketLayout layout = idx.table().layout;
            oldCell = BucketLayout.NONE;
            for (long b = h.evacuated; b < h.oldBucketCount && oldCell == BucketLayout.NONE; b++) {
                long cell = h.oldBucketsCell + b;
                boolean full = !BucketLayout.isEvacuatedMark(layout.tophash(cell, 0));
                for (int i = 0; i < BucketLayout.SLOTS; i++) {
                    full &= layout.tophash(cell, i) >= BucketLayout.MIN_TOPHASH;
                }
                if (full) {
                    oldCell = cell;
                }
            }
            assertThat(oldCell).as("a full, unevacuated old bucket").isNotEqualTo(BucketLayout.NONE);
            link = layout.cellOffset(oldCell) + BucketLayout.OVERFLOW_OFFSET;
            idx.closeLeavingGrowth();
        }
        writeLong(path, link, oldCell + 1); // the primary page links to itself
        HashIndex idx = HashIndex.open(path);
        try {
            long cellsBefore = idx.table().h.allocatedCells;
            assertCorrupt(idx::finishGrowth, path, "the overflow chain through cell " + oldCell + " is a cycle");
            assertThat(idx.table().h.allocatedCells).as("cells allocated while evacuating").isEqualTo(cellsBefore);
        } finally {
            idx.closeLeavingGrowth(); // close() would evacuate, and meet the same cycle
        }
    }

    @Test
    void aFreeRunWhoseLengthLeavesTheFileIsCorruptWhenAPageIsTakenFromIt() throws IOException {
        Path path = dir.resolve("free-run.hidx");
        long lengthAt;
        long root;
        long allocated;
        try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).seed(SEED).expectedEntries(100))) {
            Header h = idx.table().h;
            root = h.freeRoot;
            allocated = h.allocatedCells;
            assertThat(root).as("the presized overflow reserve").isNotEqualTo(BucketLayout.NONE);
            lengthAt = idx.table().layout.cellOffset(root) + BucketLayout.FREE_RUN_LENGTH_OFFSET;
        }
        writeLong(path, lengthAt, allocated + 100);
        try (HashIndex idx = HashIndex.open(path)) {
            Header h = idx.table().h;
            // nine keys of bucket 0: the ninth needs an overflow page, and no growth is due
            int n = 0;
            for (long id = 0; n < 8; id++) {
                byte[] k = Fixtures.key8(id);
                if (Hashing.bucketIndex(Hashing.hash(k, SEED), h.bucketCount) == 0) {
                    idx.put(k, new byte[1]);
                    n++;
                }
            }
            long ninth = 1_000_000;
            while (Hashing.bucketIndex(Hashing.hash(Fixtures.key8(ninth), SEED), h.bucketCount) != 0) {
                ninth++;
            }
            byte[] k = Fixtures.key8(ninth);
            assertCorrupt(() -> idx.put(k, new byte[1]), path, "corrupt at offset " + idx.table().layout.cellOffset(root)
                    + ": free run at cell " + root + " has length " + (allocated + 100));
        }
    }

    /** Nine keys of bucket 0 of a presized 16-bucket file: the ninth needs an overflow page and no growth is due. */
    private static void fillBucketZero(HashIndex idx) {
        Header h = idx.table().h;
        int n = 0;
        for (long id = 0; n < 9; id++) {
            byte[] k = Fixtures.key8(id);
            if (Hashing.bucketIndex(Hashing.hash(k, SEED), h.bucketCount) == 0) {
                idx.put(k, new byte[1]);
                n++;
            }
        }
    }

    @Test
    void aFreeCellCountThatTheFreeListDoesNotHoldIsCorruptWhenAPageIsNeeded() {
        Path path = dir.resolve("free-count.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).seed(SEED).expectedEntries(100))) {
            Header h = idx.table().h;
            assertThat(idx.table().file.size()).as("no spare cells past the allocated ones")
                    .isEqualTo(idx.table().layout.endOfCells(h.allocatedCells));
            h.freeRoot = BucketLayout.NONE; // the list is empty, the count still says 9 cells
            h.store(idx.table().file.header());
            idx.closeLeavingGrowth();
        }
        try (HashIndex idx = HashIndex.open(path)) {
            assertCorrupt(() -> fillBucketZero(idx), path,
                    "corrupt at offset " + Header.FREE_CELLS_OFFSET + ": the header counts 9 free cells but the free list is empty");
        }
    }

    // ---- headers whose checksums are valid but whose fields point outside the file ----

    /** Rewrites the header of a file 16 buckets into a doubling, with valid checksums, after {@code damage}. */
    private Path grownFileWithHeader(String name, Consumer<Header> damage) {
        Path path = dir.resolve(name);
        try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).seed(SEED))) {
            Header h = idx.table().h;
            for (long id = 0; !(h.growing() && h.oldBucketCount == 16 && h.evacuated > 2); id++) {
                idx.put(Fixtures.key8(id), Fixtures.value16Varying(id, id));
            }
            damage.accept(h);
            h.store(idx.table().file.header());
            idx.closeLeavingGrowth();
        }
        return path;
    }

    private static void bothOpensAreCorrupt(Path path, String fragment) {
        assertCorrupt(() -> HashIndex.open(path).close(), path, fragment);
        assertCorrupt(() -> HashIndex.openReadOnly(path).close(), path, fragment);
    }

    @Test
    void anAllocatedCellCountWhoseByteSizeOverflowsIsCorrupt() {
        // 2^60 cells of 256 bytes in 1 GiB chunks: the byte size computed in 64 bits wraps to 4096
        assertThat(BucketLayout.endOfCells(1L << 60, 256, 1L << 30)).isEqualTo(MappedFile.DATA_START);
        Path path = grownFileWithHeader("allocated.hidx", h -> h.allocatedCells = 1L << 60);
        bothOpensAreCorrupt(path, "its header describes " + (1L << 60) + " cells of 256 bytes");
    }

    @Test
    void aBucketArrayWhoseEndOverflowsIsCorrupt() {
        Path path = grownFileWithHeader("array-end.hidx", h -> h.bucketsCell = Long.MAX_VALUE - 8);
        bothOpensAreCorrupt(path, "a cell reference lies outside the");
    }

    @Test
    void aRetiredArrayOfNoBucketsAtTheEndOfTheFileIsCorrupt() {
        Path path = grownFileWithHeader("retired.hidx", h -> {
            h.retiredCell[0] = h.allocatedCells;
            h.retiredBuckets[0] = 0;
        });
        bothOpensAreCorrupt(path, "a cell reference lies outside the");
    }

    @Test
    void aFreeOrOverflowCountBeyondTheAllocatedCellsIsCorrupt() {
        // such counts size the file: a free count of -2^40 would ask for a file of 2^48 bytes
        String fragment = "a count of free or overflow cells lies outside";
        bothOpensAreCorrupt(grownFileWithHeader("free-cells.hidx", h -> h.freeCells = -(1L << 40)), fragment);
        bothOpensAreCorrupt(grownFileWithHeader("overflow-pages.hidx", h -> h.overflowPages = 1L << 40), fragment);
        bothOpensAreCorrupt(grownFileWithHeader("old-overflow.hidx", h -> h.oldOverflowPages = -1), fragment);
    }

    @Test
    void aGrowthWithEveryOldBucketBelowTheMarkIsCorrupt() {
        Path path = grownFileWithHeader("evacuated.hidx", h -> h.evacuated = h.oldBucketCount);
        bothOpensAreCorrupt(path, "bucket counts out of range (buckets 32, old 16, evacuated 16)");
    }
}
