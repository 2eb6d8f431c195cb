package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.hashidx.store.HashIndexException.Code;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full disk, for real: each test mounts a tmpfs of a few MiB (it needs root, as CI has; without it
 * the test fails and says why), fills it with a filler file, and checks FORMAT.md section 8 ("A full
 * disk"): a put that needs a new overflow page fails with DISK_FULL naming the file, and changes
 * nothing; every other operation goes on (gets, removes, overwrites through the journal cell, puts
 * into free slots); a growth starts only once its space is written, and one that started finishes on
 * a full disk; nothing acknowledged is lost (a model is compared); closing and reopening on the full
 * disk works and verify is clean; after the filler is deleted, puts and growth go on. The JVM must
 * see only the library's exceptions: a SIGBUS from a store into an unwritten tmpfs page would kill
 * the test run.
 */
class DiskFullTest {
    private static final long SEED = Long.getLong("hashidx.test.seed", 0xD15CF011L);

    @TempDir
    Path tmp;
    private final Map<Bytes, byte[]> model = new HashMap<>();
    private final SplittableRandom rnd = new SplittableRandom(SEED);

    /**
     * Overflow page allocation and growth reservation both failing: the disk fills when the table has
     * just doubled to 1,024 buckets (960-byte cells, so the next array is larger than the file's
     * spare tail), and the inserts go on past the growth threshold.
     */
    @Test
    void onAFullDiskOnlyPutsThatNeedANewPageFailAndGrowthWaitsUntilSpaceIsFreed() throws Exception {
        System.out.println("DiskFullTest seed " + SEED + " (-Dhashidx.test.seed=" + SEED + ")");
        long started = System.nanoTime();
        try (SmallTmpfs fs = SmallTmpfs.mount(tmp.resolve("fs"), 8 << 20)) {
            Path path = fs.dir().resolve("full.hidx");
            int failedPuts = 0;
            long countAtFull;
            try (HashIndex idx = HashIndex.create(path, Options.widths(8, 100).seed(SEED))) {
                Table t = idx.table();
                Header h = t.h;
                while (h.bucketCount < 1024 || h.growing()) {
                    putNew(idx, k -> true);
                }
                assertThat(4 * h.count).as("below 3/4 of the threshold: nothing reserved ahead yet")
                        .isLessThan(3 * 13 * h.bucketCount / 2);
                long filler = fs.fill();
                countAtFull = h.count;
                System.out.printf("DiskFullTest: disk full at %d entries, %d buckets, file %d bytes, %d spare cells, "
                        + "filler %d bytes%n", h.count, h.bucketCount, Files.size(path), t.space.spareCells(), filler);
                long buckets = h.bucketCount;
                // new keys until well past the growth threshold and many puts have failed
                while (failedPuts < 200 || 2 * h.count <= 13 * buckets + 400) {
                    byte[] key = newKey(k -> true);
                    boolean needsPage = needsNewPage(t, key);
                    long spare = t.space.spareCells();
                    byte[] value = value();
                    try {
                        idx.put(key, value);
                        model.put(Bytes.of(key), value);
                    } catch (HashIndexException e) {
                        assertDiskFull(e, path, "for an overflow page");
                        assertThat(needsPage).as("only a put that needs a new page fails (spare %d)", spare).isTrue();
                        assertThat(spare).as("spare cells when a put failed").isZero();
                        assertThat(idx.get(key)).as("a failed put leaves nothing").isNull();
                        failedPuts++;
                    }
                    assertThat(h.growing()).as("no growth starts without its space (%d entries)", h.count).isFalse();
                    assertThat(h.count).as("size").isEqualTo(model.size());
                    assertThat(h.count - countAtFull).as("inserts on the full disk").isLessThan(100_000);
                }
                assertThat(h.bucketCount).isEqualTo(buckets);
                System.out.printf("DiskFullTest: %d entries in %d buckets (load %.2f) on the full disk, %d puts failed "
                        + "with DISK_FULL%n", h.count, h.bucketCount, (double) h.count / h.bucketCount, failedPuts);
                removesAndOverwritesWork(idx, 500);
                assertThat(idx.verify()).isEmpty();
                Fixtures.assertHoldsExactly(idx, model, SEED, "on the full disk");
            }
            reopenAndCheck(path, "closed and reopened on the full disk");
            fs.free();
            try (HashIndex idx = HashIndex.open(path)) {
                Header h = idx.table().h;
                long doublings = h.doublings;
                int puts = 0;
                while (h.doublings == doublings) {
                    putNew(idx, k -> true);
                    assertThat(++puts).as("puts until the growth starts after space was freed").isLessThan(5_000);
                }
                System.out.printf("DiskFullTest: space freed; the growth started after %d puts%n", puts);
                idx.finishGrowth();
                assertThat(idx.verify()).isEmpty();
            }
            reopenAndCheck(path, "after space was freed");
        }
        System.out.printf("DiskFullTest: full disk, no growth: %.2f s%n", (System.nanoTime() - started) / 1e9);
    }

    /**
     * A growth that started on a disk that then fills finishes: its margin was reserved when it
     * started. The table is presized (a free list that the overflow pages mostly use up) and all keys
     * go to the lower destination of their bucket, so the evacuation needs exactly one page for every
     * overflow page of the old array, all of the margin: an insert that took one of those cells would
     * leave the evacuation a page short.
     */
    @Test
    void aGrowthThatStartedFinishesOnAFullDiskAndInsertsLeaveItsMarginAlone() throws Exception {
        long started = System.nanoTime();
        try (SmallTmpfs fs = SmallTmpfs.mount(tmp.resolve("fs"), 4 << 20)) {
            Path path = fs.dir().resolve("growing.hidx");
            try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).expectedEntries(6_500).seed(SEED))) {
                Table t = idx.table();
                Header h = t.h;
                long newBuckets = 2 * h.bucketCount;
                LongPredicate lower = hash -> Hashing.bucketIndex(hash, newBuckets) % 2 == 0;
                while (!h.growing()) {
                    putNew(idx, lower);
                }
                long margin = t.space.evacuationReserve();
                System.out.printf("DiskFullTest: growth from %d to %d buckets started at %d entries; it reserved the "
                                + "new array (%d cells) and a margin of %d cells (%.1f%% of the new array) for %d old "
                                + "overflow pages; %d cells spare%n", h.oldBucketCount, h.bucketCount, h.count,
                        h.bucketCount, margin, 100.0 * margin / h.bucketCount, h.oldOverflowPages, t.space.spareCells());
                assertThat(margin).isEqualTo(h.oldOverflowPages).isPositive();
                assertThat(t.space.spareCells()).as("spare cells: exactly the margin").isEqualTo(margin);
                fs.fill();
                int failedPuts = 0;
                int puts = 0;
                while (h.growing()) {
                    byte[] key = newKey(lower);
                    byte[] value = value();
                    try {
                        idx.put(key, value);
                        model.put(Bytes.of(key), value);
                    } catch (HashIndexException e) {
                        assertDiskFull(e, path, "for an overflow page");
                        assertThat(idx.get(key)).isNull();
                        failedPuts++;
                    }
                    assertThat(t.space.spareCells()).as("spare cells never below the evacuation's margin")
                            .isGreaterThanOrEqualTo(t.space.evacuationReserve());
                    if (++puts % 4 == 0) {
                        removesAndOverwritesWork(idx, 1);
                    }
                }
                System.out.printf("DiskFullTest: the growth finished on the full disk after %d writes; %d puts failed "
                        + "with DISK_FULL; %d overflow pages now, %d cells spare%n", puts, failedPuts, h.overflowPages,
                        t.space.spareCells());
                assertThat(failedPuts).as("puts that found no spare cell").isPositive();
                assertThat(idx.verify()).isEmpty();
                Fixtures.assertHoldsExactly(idx, model, SEED, "after the growth on the full disk");
            }
            reopenAndCheck(path, "closed and reopened on the full disk after the growth");
            fs.free();
            try (HashIndex idx = HashIndex.open(path)) {
                for (int i = 0; i < 2_000; i++) {
                    putNew(idx, k -> true);
                }
                assertThat(idx.verify()).isEmpty();
            }
            reopenAndCheck(path, "after space was freed");
        }
        System.out.printf("DiskFullTest: growth on a full disk: %.2f s%n", (System.nanoTime() - started) / 1e9);
    }

    @Test
    void creatingAFileThatDoesNotFitFailsWithDiskFullAndLeavesNothing() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(tmp.resolve("fs"), 1 << 20)) {
            Path path = fs.dir().resolve("too-big.hidx");
            long usable = fs.usableSpace();
            Fixtures.assertFails(() -> HashIndex.create(path, Options.widths(8, 16).expectedEntries(100_000)),
                    HashIndexException.Storage.class, Code.DISK_FULL, path, "nothing was created", "free disk space",
                    "expected entries");
            assertThat(Files.exists(path)).as("no file is left").isFalse();
            assertThat(fs.usableSpace()).as("the space is free again").isEqualTo(usable);

            fs.fill();
            Fixtures.assertFails(() -> HashIndex.create(path, Options.widths(8, 16)),
                    HashIndexException.Storage.class, Code.DISK_FULL, path, "nothing was created");
            assertThat(Files.exists(path)).isFalse();
            fs.free();
            try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).expectedEntries(1_000))) {
                idx.put(new byte[] {1}, new byte[] {2});
                assertThat(idx.verify()).isEmpty();
            }
        }
    }

    /**
     * A reserve whose array the disk cannot hold fails with DISK_FULL before it changes anything: the
     * zeros written toward it are cut off again, no growth starts, and puts go on.
     */
    @Test
    void aReserveTheDiskCannotHoldFailsWithDiskFullAndChangesNothing() throws Exception {
        try (SmallTmpfs fs = SmallTmpfs.mount(tmp.resolve("fs"), 4 << 20)) {
            Path path = fs.dir().resolve("reserve.hidx");
            try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).seed(SEED))) {
                for (int i = 0; i < 500; i++) {
                    putNew(idx, h -> true);
                }
                idx.finishGrowth();
                Header h = idx.table().h;
                long buckets = h.bucketCount;
                long generation = h.generation;
                long size = Files.size(path);
                long usable = fs.usableSpace();
                // 100,000 entries of 8/16 bytes need about 6 MiB of buckets: more than the 4 MiB file system
                try {
                    idx.reserve(100_000);
                    throw new AssertionError("reserve(100,000) fit on a 4 MiB file system");
                } catch (HashIndexException e) {
                    assertThat(e.code()).as("code of: %s", e.getMessage()).isEqualTo(Code.DISK_FULL);
                    assertThat(e.getMessage()).contains(path.toString(), "to make room for 100000 entries");
                }
                assertThat(h.growing()).as("no growth started").isFalse();
                assertThat(h.bucketCount).isEqualTo(buckets);
                assertThat(h.generation).as("no header update").isEqualTo(generation);
                assertThat(Files.size(path)).as("the zeros written toward it were cut off").isEqualTo(size);
                assertThat(fs.usableSpace()).isEqualTo(usable);
                putNew(idx, x -> true);
                assertThat(idx.reserve(2_000)).as("a reserve that fits").isTrue();
                assertThat(idx.verify()).isEmpty();
            }
            reopenAndCheck(path, "after a reserve failed and one fitted");
        }
    }

    private static void assertDiskFull(HashIndexException e, Path path, String what) {
        if (e.code() != Code.DISK_FULL) {
            throw new AssertionError("expected DISK_FULL, got " + e.code(), e);
        }
        assertThat(e).isInstanceOf(HashIndexException.Storage.class);
        assertThat(e.file()).isEqualTo(path);
        assertThat(e.getMessage()).contains(path.toString(), what, "free disk space", "nothing was changed");
    }

    /** Removes and overwrites on a full disk never need new space. */
    private void removesAndOverwritesWork(HashIndex idx, int n) {
        List<Bytes> keys = new ArrayList<>(model.keySet());
        for (int i = 0; i < n && !keys.isEmpty(); i++) {
            Bytes k = keys.get(rnd.nextInt(keys.size()));
            if (rnd.nextBoolean()) {
                byte[] v = value();
                assertThat(idx.put(k.array(), v)).as("overwrite of %s", k).isTrue();
                model.put(k, v);
            } else {
                assertThat(idx.remove(k.array())).as("remove of %s", k).isTrue();
                model.remove(k);
                keys.remove(k);
            }
        }
    }

    private void reopenAndCheck(Path path, String context) {
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(idx.verify()).as("%s: verify", context).isEmpty();
            Fixtures.assertNoLeakedCells(idx, context);
            Fixtures.assertHoldsExactly(idx, model, SEED, context);
        }
    }

    private void putNew(HashIndex idx, LongPredicate hashFilter) {
        byte[] key = newKey(hashFilter);
        byte[] value = value();
        idx.put(key, value);
        model.put(Bytes.of(key), value);
    }

    /** A random 8-byte key not in the model whose hash (with this test's seed) passes {@code hashFilter}. */
    private byte[] newKey(LongPredicate hashFilter) {
        while (true) {
            byte[] k = ByteBuffer.allocate(8).putLong(rnd.nextLong()).array();
            if (!model.containsKey(Bytes.of(k)) && hashFilter.test(Hashing.hash(k, SEED))) {
                return k;
            }
        }
    }

    private byte[] value() {
        byte[] v = new byte[rnd.nextInt(17)];
        rnd.nextBytes(v);
        return v;
    }

    /** Whether putting {@code key} (absent) into a table that is not growing must chain a new page. */
    private static boolean needsNewPage(Table t, byte[] key) {
        if (t.h.growing()) {
            fail("needsNewPage is for a table that is not growing");
        }
        long bucket = t.h.bucketsCell + Hashing.bucketIndex(Hashing.hash(key, t.h.seed), t.h.bucketCount);
        for (long c = bucket; c != BucketLayout.NONE; c = t.layout.overflow(c)) {
            for (int i = 0; i < BucketLayout.SLOTS; i++) {
                if (t.layout.tophash(c, i) <= BucketLayout.EMPTY_ONE) {
                    return false;
                }
            }
        }
        return true;
    }
}
