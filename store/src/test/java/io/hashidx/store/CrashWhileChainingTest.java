package io.hashidx.store;

import static io.hashidx.store.BucketLayout.NONE;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A crash between the two stores of a chain change: taking a cell for an overflow page (the header
 * update) and linking it; unlinking an interrupted evacuation copy and recording it as free (FORMAT.md
 * section 6, "Chain changes"). Each test makes the real call, then writes the file as a crash at the
 * chosen store would leave it: the bytes after the call, with the regions written after that store
 * put back as they were before. Reopening must leave no leaked cell and no count that disagrees with
 * the chains: verify() is clean, every cell is accounted for, every entry is there.
 *
 * <p>Found by review of the kill -9 results: a kill between the header update and the link left
 * {@code overflow_pages} one too high for good, and handing out the last cell of a free run shortened
 * the run in place, so a kill before the header update dropped that cell and its hanging chain.
 */
class CrashWhileChainingTest {
    @TempDir
    Path dir;
    private final Map<Bytes, byte[]> model = new HashMap<>();

    /** Where the free list stands when the page is taken. */
    enum FreeList {
        /** empty: the page comes from the high-water mark */
        EMPTY,
        /** a run of several cells (a presized file's reserve): the shortened run moves to the next cell */
        LONG_RUN,
        /** its first cell still carries the overflow chain of a freed bucket, which is pushed as its own run */
        HANGING_CHAIN
    }

    /** The last store done before the crash. */
    enum LinkCrash {
        /** chain record and shortened run written; the header not yet */
        BEFORE_HEADER_UPDATE,
        /** header written; the page not yet zeroed (it still holds its free-list words) nor linked */
        AFTER_HEADER_UPDATE,
        /** header written, page zeroed; the link not yet */
        BEFORE_LINK
    }

    @ParameterizedTest(name = "{0} free list, crash {1}")
    @EnumSource(FreeList.class)
    void aCrashWhileTakingAnOverflowPageLeaksNothingBeforeTheHeaderUpdate(FreeList freeList) throws IOException {
        aCrashWhileTakingAnOverflowPage(freeList, LinkCrash.BEFORE_HEADER_UPDATE);
    }

    @ParameterizedTest(name = "{0} free list")
    @EnumSource(FreeList.class)
    void aCrashAfterTakingAnOverflowPageBeforeZeroingItLeaksNothing(FreeList freeList) throws IOException {
        aCrashWhileTakingAnOverflowPage(freeList, LinkCrash.AFTER_HEADER_UPDATE);
    }

    @ParameterizedTest(name = "{0} free list")
    @EnumSource(FreeList.class)
    void aCrashAfterTakingAnOverflowPageBeforeLinkingItLeaksNothing(FreeList freeList) throws IOException {
        aCrashWhileTakingAnOverflowPage(freeList, LinkCrash.BEFORE_LINK);
    }

    private void aCrashWhileTakingAnOverflowPage(FreeList freeList, LinkCrash crash) throws IOException {
        Path path = dir.resolve("link-" + freeList + "-" + crash + ".hidx");
        String context = freeList + " free list, crash " + crash;
        long page;
        long parent;
        byte[] before;
        try (HashIndex idx = prepare(path, freeList)) {
            Table t = idx.table();
            Header h = t.h;
            BucketLayout layout = t.layout;
            assertThat(h.growing()).isFalse();
            switch (freeList) {
                case EMPTY -> assertThat(h.freeRoot).isEqualTo(NONE);
                case LONG_RUN -> assertThat(layout.freeRunLength(h.freeRoot)).isGreaterThan(1);
                case HANGING_CHAIN -> assertThat(layout.overflow(h.freeRoot)).isNotEqualTo(NONE);
            }
            long expected = h.freeRoot == NONE ? h.allocatedCells : h.freeRoot;
            parent = lastPage(layout, h.bucketsCell);
            before = Files.readAllBytes(path);
            page = t.space.linkNewOverflowPage(parent, false);
            assertThat(page).isEqualTo(expected);
            List<long[]> restore = new ArrayList<>();
            restore.add(cell(layout, parent)); // the link
            if (crash != LinkCrash.BEFORE_LINK) {
                restore.add(cell(layout, page)); // the zeroing
            }
            if (crash == LinkCrash.BEFORE_HEADER_UPDATE) {
                restore.add(new long[] {0, 2 * Header.COPY_SIZE}); // both header copies
            }
            idx.closeLeavingGrowth();
            writeCrashState(path, before, restore);
        }
        assertRecovers(path, context);
    }

    /** Which region the unlink's crash leaves as it was. */
    enum UnlinkCrash {
        /** chain record written; the bucket still links its chain */
        BEFORE_UNLINK,
        /** chain unlinked and its first page written as a free run; the header not yet updated */
        BEFORE_HEADER_UPDATE
    }

    @ParameterizedTest(name = "crash {0}")
    @EnumSource(UnlinkCrash.class)
    void aCrashWhileFreeingAnInterruptedEvacuationCopyLeaksNothing(UnlinkCrash crash) throws IOException {
        Path path = dir.resolve("unlink-" + crash + ".hidx");
        String context = "unlink, crash " + crash;
        try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).seed(11))) {
            Table t = idx.table();
            Header h = t.h;
            BucketLayout layout = t.layout;
            long id = 0;
            while (h.bucketCount < 16 || h.growing()) {
                id = putFiller(idx, id, -1);
            }
            // 20 keys that all go to new bucket 20 of the next doubling, i.e. old bucket 10
            long crowded = 10;
            List<byte[]> crowd = keysFor(h.seed, 2 * h.bucketCount, 2 * crowded, 20, 1L << 40);
            for (byte[] k : crowd) {
                put(idx, k, Bytes.of(k).array());
            }
            while (!h.growing()) {
                id = putFiller(idx, id, crowded);
            }
            assertThat(h.oldBucketCount).isEqualTo(16);
            long old = h.oldBucketsCell + crowded;
            assertThat(layout.tophash(old, 0)).as("old bucket %d not evacuated yet", crowded)
                    .isGreaterThanOrEqualTo(BucketLayout.MIN_TOPHASH);
            // evacuate it, then put its tophash bytes back: a crash before the marks, after the copy
            List<long[]> oldTophash = new ArrayList<>();
            for (long c = old; c != NONE; c = layout.overflow(c)) {
                oldTophash.add(new long[] {c, tophashWord(layout, c)});
            }
            assertThat(idx.remove(keysFor(h.seed, h.oldBucketCount, crowded, 1, 1L << 50).getFirst())).isFalse();
            for (long[] w : oldTophash) {
                for (int i = 0; i < BucketLayout.SLOTS; i++) {
                    layout.setTophash(w[0], i, (int) (w[1] >>> (8 * i)) & 0xFF);
                }
            }
            long destination = h.bucketsCell + 2 * crowded;
            long chain = layout.overflow(destination);
            assertThat(chain).as("the interrupted copy has overflow pages").isNotEqualTo(NONE);
            assertThat(idx.verify()).as("an interrupted copy is a state a crash leaves").isEmpty();

            byte[] before = Files.readAllBytes(path);
            t.space.clearBucket(destination);
            List<long[]> restore = new ArrayList<>();
            restore.add(new long[] {0, 2 * Header.COPY_SIZE});
            if (crash == UnlinkCrash.BEFORE_UNLINK) {
                restore.add(cell(layout, destination));
                restore.add(cell(layout, chain));
            }
            idx.closeLeavingGrowth();
            writeCrashState(path, before, restore);
        }
        assertRecovers(path, context);
    }

    /** Opens a new file and brings its free list into the state the test needs, recording every put in the model. */
    private HashIndex prepare(Path path, FreeList freeList) {
        Options options = Options.widths(8, 16).seed(5);
        if (freeList == FreeList.LONG_RUN) {
            options = options.expectedEntries(1_000);
        }
        HashIndex idx = HashIndex.create(path, options);
        Table t = idx.table();
        long id = 0;
        switch (freeList) {
            case EMPTY, LONG_RUN -> {
                for (int i = 0; i < 5; i++) {
                    id = putFiller(idx, id, -1);
                }
            }
            case HANGING_CHAIN -> {
                while (t.h.growing() || t.h.freeRoot == NONE || t.layout.overflow(t.h.freeRoot) == NONE) {
                    id = putFiller(idx, id, -1);
                    assertThat(id).as("a freed bucket with a chain reaches the head of the free list").isLessThan(100_000);
                }
            }
        }
        return idx;
    }

    /** Reopens read-only (verify clean, nothing written), then read-write: clean, nothing leaked, every entry there. */
    private void assertRecovers(Path path, String context) throws IOException {
        byte[] crashed = Files.readAllBytes(path);
        try (HashIndex ro = HashIndex.openReadOnly(path)) {
            assertThat(ro.verify()).as("%s: verify read-only", context).isEmpty();
            Fixtures.assertHoldsExactly(ro, model, 1, context + ", read-only");
        }
        assertThat(Files.readAllBytes(path)).as("%s: a read-only open writes nothing", context).isEqualTo(crashed);
        try (HashIndex idx = HashIndex.open(path)) {
            Table t = idx.table();
            assertThat(t.layout.chainRecordOp(t.h.journalCell)).as("%s: chain record cleared", context).isZero();
            assertThat(idx.verify()).as("%s: verify after reopening", context).isEmpty();
            Fixtures.assertNoLeakedCells(idx, context);
            Fixtures.assertHoldsExactly(idx, model, 2, context);
            // the free list is sound: it serves the next pages, through a growth
            long id = 1_000_000;
            long doublings = t.h.doublings;
            while (t.h.doublings == doublings || t.h.growing()) {
                id = putFiller(idx, id, -1);
            }
            assertThat(idx.verify()).as("%s: verify after the next growth", context).isEmpty();
            Fixtures.assertNoLeakedCells(idx, context + ", after the next growth");
            Fixtures.assertHoldsExactly(idx, model, 3, context + ", after the next growth");
        }
    }

    /**
     * Puts the filler key {@code id}, or the next one whose bucket is not {@code avoid} (in the old array
     * while growing, else in the current one); returns the id after it.
     */
    private long putFiller(HashIndex idx, long id, long avoid) {
        Header h = idx.table().h;
        while (true) {
            byte[] k = key8(id++);
            long buckets = h.growing() ? h.oldBucketCount : h.bucketCount;
            if (avoid >= 0 && Hashing.bucketIndex(Hashing.hash(k, h.seed), buckets) == avoid) {
                continue;
            }
            put(idx, k, Arrays.copyOf(k, (int) (id % 17)));
            return id;
        }
    }

    private void put(HashIndex idx, byte[] k, byte[] v) {
        idx.put(k, v);
        model.put(Bytes.of(k), v);
    }

    /** The 8-byte key of {@code id}, little-endian. */
    static byte[] key8(long id) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(id).array();
    }

    /** {@code n} distinct 8-byte keys that fall in bucket {@code bucket} of an array of {@code buckets}. */
    private static List<byte[]> keysFor(long seed, long buckets, long bucket, int n, long from) {
        List<byte[]> keys = new ArrayList<>();
        for (long i = from; keys.size() < n; i++) {
            byte[] k = ByteBuffer.allocate(8).putLong(i).array();
            if (Hashing.bucketIndex(Hashing.hash(k, seed), buckets) == bucket) {
                keys.add(k);
            }
        }
        return keys;
    }

    private static long lastPage(BucketLayout layout, long bucket) {
        long c = bucket;
        while (layout.overflow(c) != NONE) {
            c = layout.overflow(c);
        }
        return c;
    }

    private static long tophashWord(BucketLayout layout, long cell) {
        long w = 0;
        for (int i = 0; i < BucketLayout.SLOTS; i++) {
            w |= (long) layout.tophash(cell, i) << (8 * i);
        }
        return w;
    }

    /** {offset, length} of a cell in the file. */
    private static long[] cell(BucketLayout layout, long cell) {
        return new long[] {layout.cellOffset(cell), layout.stride};
    }

    /** Leaves the file as it is now, except the given regions, which get their bytes from {@code before} (zeros past its end). */
    private static void writeCrashState(Path path, byte[] before, List<long[]> restore) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            for (long[] r : restore) {
                byte[] bytes = new byte[(int) r[1]];
                if (r[0] < before.length) {
                    System.arraycopy(before, (int) r[0], bytes, 0, (int) Math.min(r[1], before.length - r[0]));
                }
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b, r[0] + b.position());
                }
            }
        }
    }
}
