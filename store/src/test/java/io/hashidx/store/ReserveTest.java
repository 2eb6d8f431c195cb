package io.hashidx.store;

import static io.hashidx.store.BucketLayout.NONE;
import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndexException.Code;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link HashIndex#reserve}: a growth by {@code 2^k} in one step (FORMAT.md section 7), with the same
 * incremental, restartable evacuation as a doubling: old bucket b splits into new buckets
 * {@code b * 2^k .. (b + 1) * 2^k - 1}.
 */
class ReserveTest {
    private static final long SEED = 0x5E5E;

    @TempDir
    Path dir;
    private final Map<Bytes, byte[]> model = new HashMap<>();
    /** Keys removed at some point (an overwrite may add one back). */
    private final Set<Bytes> removed = new HashSet<>();
    private long next;

    private void put(HashIndex idx, int version) {
        byte[] k = key16(next);
        byte[] v = value16(next, version);
        assertThat(idx.put(k, v)).isFalse();
        model.put(Bytes.of(k), v);
        next++;
    }

    /** One random write (new key, overwrite or remove), on the index and the model. */
    private void randomWrite(HashIndex idx, SplittableRandom rnd, int version) {
        int kind = rnd.nextInt(10);
        if (kind < 4) {
            put(idx, version);
            return;
        }
        long existing = rnd.nextLong(next);
        byte[] k = key16(existing);
        if (kind < 8) {
            byte[] v = value16(existing, version);
            assertThat(idx.put(k, v)).isEqualTo(model.put(Bytes.of(k), v) != null);
        } else {
            assertThat(idx.remove(k)).isEqualTo(model.remove(Bytes.of(k)) != null);
            removed.add(Bytes.of(k));
        }
    }

    private static int shiftFor(long buckets, long entries) {
        int shift = 0;
        while (buckets << shift < Table.bucketsFor(entries)) {
            shift++;
        }
        return shift;
    }

    @Test
    void reserveGrowsOnceStraightToTheArrayTheLoadNeedsAndTheLoadNeverExtendsTheFile() throws Exception {
        Path path = dir.resolve("reserve.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(SEED))) {
            Header h = idx.table().h;
            while (next < 3000) {
                put(idx, 0);
            }
            idx.finishGrowth();
            long buckets = h.bucketCount;
            long doublings = h.doublings;
            int shift = shiftFor(buckets, 200_000);
            assertThat(shift).as("a growth by more than a doubling").isGreaterThan(2);
            assertThat(h.readVersion).as("every file this version writes is version 2").isEqualTo(2);

            assertThat(idx.reserve(200_000)).isTrue();

            assertThat(h.growing()).isTrue();
            assertThat(h.oldBucketCount).isEqualTo(buckets);
            assertThat(h.bucketCount).as("buckets: the smallest 2^k multiple that holds the entries")
                    .isEqualTo(buckets << shift).isGreaterThanOrEqualTo(Table.bucketsFor(200_000));
            assertThat(h.doublings).isEqualTo(doublings + shift);
            assertThat(new int[] {h.readVersion, h.writeVersion}).containsExactly(2, 2);
            long size = Files.size(path);
            assertThat(size).as("the file holds the new array and the overflow reserve")
                    .isGreaterThanOrEqualTo(idx.table().layout.endOfCells(h.allocatedCells + Table.overflowReserveFor(h.bucketCount)));
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, 1, "right after reserve");

            while (next < 200_000) {
                put(idx, 1);
            }
            assertThat(h.growing()).as("the evacuation ended within the load").isFalse();
            assertThat(h.doublings).as("no growth after the reserved one").isEqualTo(doublings + shift);
            assertThat(h.sameSizeGrowths).isZero();
            assertThat(Files.size(path)).as("the load found every page it needed in the reserved space").isEqualTo(size);
            assertThat(idx.reserve(200_000)).as("a second reserve for as many entries").isFalse();
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "after the load");
            Fixtures.assertHoldsExactly(idx, model, 2, "after the load");
        }
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, 3, "after reopening");
        }
    }

    @Test
    void reserveOnAFileLargeEnoughChangesNothingAndADoublingIsAReserveOfOneStep() {
        try (HashIndex idx = HashIndex.create(dir.resolve("large.hidx"), Options.widths(16, 16).seed(SEED).expectedEntries(10_000))) {
            Header h = idx.table().h;
            long generation = h.generation;
            long buckets = h.bucketCount;
            assertThat(idx.reserve(10_000)).isFalse();
            assertThat(idx.reserve(0)).isFalse();
            assertThat(h.generation).as("no header update").isEqualTo(generation);
            assertThat(idx.reserve(13 * buckets / 2 + 1)).isTrue();
            assertThat(h.bucketCount).isEqualTo(2 * buckets);
            assertThat(h.readVersion).as("every file this version writes is version 2").isEqualTo(2);
            Fixtures.assertFails(() -> idx.reserve(-1), HashIndexException.State.class, Code.INVALID_ARGUMENT,
                    idx.path(), "negative");
            Fixtures.assertFails(() -> idx.reserve(Long.MAX_VALUE), HashIndexException.State.class, Code.INVALID_ARGUMENT,
                    idx.path(), "beyond any file");
            assertThat(h.bucketCount).isEqualTo(2 * buckets);
        }
    }

    @Test
    void aGrowthBy2ToTheKSurvivesARestartAfterEveryFewWritesAndReadsMidEvacuationSeeEverythingOnce() {
        Path path = dir.resolve("restarts.hidx");
        SplittableRandom rnd = new SplittableRandom(SEED);
        HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(SEED));
        try {
            while (next < 2000) {
                put(idx, 0);
            }
            idx.finishGrowth();
            assertThat(idx.reserve(64 * next)).isTrue();
            assertThat(idx.table().h.growthShift()).isEqualTo(6);
            int restarts = 0;
            while (idx.table().h.growing()) {
                for (int i = 0; i < 15; i++) {
                    randomWrite(idx, rnd, restarts);
                }
                Header h = idx.table().h;
                long[] state = {h.bucketCount, h.oldBucketCount, h.evacuated, h.doublings, h.count};
                Inspection.Growth growth = idx.growth();
                idx.closeLeavingGrowth();
                if (restarts % 4 == 0) {
                    try (HashIndex ro = HashIndex.openReadOnly(path)) {
                        assertThat(ro.verify()).as("verify read-only, restart %d", restarts).isEmpty();
                        Fixtures.assertHoldsExactly(ro, model, restarts, "read-only mid-growth, restart " + restarts);
                    }
                }
                idx = HashIndex.open(path);
                h = idx.table().h;
                assertThat(new long[] {h.bucketCount, h.oldBucketCount, h.evacuated, h.doublings, h.count})
                        .as("buckets, old buckets, evacuated, doublings, count after restart %d", restarts)
                        .containsExactly(state);
                assertThat(idx.growth()).as("growth after restart %d", restarts).isEqualTo(growth);
                assertThat(idx.verify()).as("verify after restart %d", restarts).isEmpty();
                restarts++;
            }
            assertThat(restarts).as("restarts during one growth of %d old buckets", 512).isGreaterThan(10);
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "after the growth");
            Fixtures.assertHoldsExactly(idx, model, 99, "after " + restarts + " restarts during one growth");
        } finally {
            idx.close();
        }
    }

    @Test
    void anIteratorStartedBeforeAReserveReturnsEveryEntryPresentThroughoutOnce() {
        try (HashIndex idx = HashIndex.create(dir.resolve("iterate.hidx"), Options.widths(16, 16).seed(SEED))) {
            SplittableRandom rnd = new SplittableRandom(SEED + 1);
            while (next < 1500) {
                put(idx, 0);
            }
            idx.finishGrowth();
            Set<Bytes> atStart = new HashSet<>(model.keySet());
            Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(SEED));
            Set<Bytes> returned = new HashSet<>();
            for (int i = 0; i < 500; i++) {
                take(it, returned);
            }
            assertThat(idx.reserve(40 * next)).isTrue();
            while (it.hasNext()) {
                take(it, returned);
                for (int i = 0; i < 3; i++) {
                    randomWrite(idx, rnd, 1);
                }
            }
            assertThat(idx.table().h.growing()).as("the iteration ran across the whole growth").isFalse();
            Set<Bytes> presentThroughout = new HashSet<>(atStart);
            presentThroughout.removeAll(removed);
            assertThat(presentThroughout).hasSizeGreaterThan(1000);
            assertThat(returned).as("entries present throughout are returned").containsAll(presentThroughout);
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, 5, "after the iteration");
        }
    }

    private void take(Iterator<Map.Entry<byte[], byte[]>> it, Set<Bytes> returned) {
        if (it.hasNext()) {
            Map.Entry<byte[], byte[]> e = it.next();
            Bytes k = Bytes.of(e.getKey());
            assertThat(returned.add(k)).as("returned once: %s", k).isTrue();
            assertThat(e.getValue()).as("current value of %s", k).isEqualTo(model.get(k));
        }
    }

    /**
     * A crash after an old bucket's entries were copied and before its slots were marked leaves a copy
     * in some of its 2^k destinations, one of them with an overflow page. The next evacuation of the
     * bucket clears exactly those destinations and copies again: no entry twice, no cell leaked.
     */
    @Test
    void anInterruptedCopyIntoSomeOfTheDestinationsIsClearedAndRedone() {
        Path path = dir.resolve("interrupted.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(SEED))) {
            Table t = idx.table();
            Header h = t.h;
            BucketLayout layout = t.layout;
            while (next < 900) {
                put(idx, 0);
            }
            idx.finishGrowth();
            long reserveFor = 16 * next;
            int shift = shiftFor(h.bucketCount, reserveFor);
            assertThat(shift).isEqualTo(4);
            long newCount = h.bucketCount << shift;
            // 12 keys of old bucket 37 that all go to its destination 37 * 16 + 5: that copy takes a page
            long crowded = 37;
            long target = (crowded << shift) + 5;
            List<byte[]> crowd = new ArrayList<>();
            for (long id = 1L << 40; crowd.size() < 12; id++) {
                byte[] k = key16(id);
                if (Hashing.bucketIndex(Hashing.hash(k, h.seed), newCount) == target) {
                    crowd.add(k);
                    idx.put(k, k);
                    model.put(Bytes.of(k), k);
                }
            }
            assertThat(idx.reserve(reserveFor)).isTrue();
            long old = h.oldBucketsCell + crowded;
            assertThat(BucketLayout.isEvacuatedMark(layout.tophash(old, 0))).isFalse();
            List<long[]> oldTophash = new ArrayList<>();
            for (long c = old; c != NONE; c = layout.overflow(c)) {
                oldTophash.add(new long[] {c, tophashWord(layout, c)});
            }
            assertThat(oldTophash).as("the crowded old bucket has overflow pages").hasSizeGreaterThan(1);
            // evacuate it through a lookup-free write (a remove of an absent key of that bucket), then put
            // its tophash bytes back: the state a crash between the copy and the marks leaves
            byte[] absent = null;
            for (long id = 1L << 50; absent == null; id++) {
                byte[] k = key16(id);
                if (Hashing.bucketIndex(Hashing.hash(k, h.seed), h.oldBucketCount) == crowded) {
                    absent = k;
                }
            }
            assertThat(idx.remove(absent)).isFalse();
            for (long[] w : oldTophash) {
                for (int i = 0; i < BucketLayout.SLOTS; i++) {
                    layout.setTophash(w[0], i, (int) (w[1] >>> (8 * i)) & 0xFF);
                }
            }
            long destination = h.bucketsCell + target;
            assertThat(layout.overflow(destination)).as("the interrupted copy has an overflow page").isNotEqualTo(NONE);
            assertThat(idx.verify()).as("an interrupted copy is a state a crash leaves").isEmpty();
            idx.closeLeavingGrowth();
        }
        try (HashIndex idx = HashIndex.open(path)) {
            Fixtures.assertHoldsExactly(idx, model, 7, "before redoing the copy");
            assertThat(idx.finishGrowth()).isPositive();
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "after redoing the copy");
            Fixtures.assertHoldsExactly(idx, model, 8, "after redoing the copy");
        }
    }

    private static long tophashWord(BucketLayout layout, long cell) {
        long w = 0;
        for (int i = 0; i < BucketLayout.SLOTS; i++) {
            w |= (long) layout.tophash(cell, i) << (8 * i);
        }
        return w;
    }

    /**
     * An iterator kept open across more than eight growth ends pins old arrays that the header has no
     * room for; they are linked through the retired arrays, and a link now also says by how many
     * doublings the next array is larger (FORMAT.md section 7, step 5).
     */
    @Test
    void retiredArraysLinkedAcrossAGrowthBy2ToTheKAreAllFreedAfterAClose() {
        Path path = dir.resolve("linked.hidx");
        long retiredCells;
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(SEED))) {
            Header h = idx.table().h;
            put(idx, 0);
            Iterator<Map.Entry<byte[], byte[]>> pinning = idx.iterator(new Random(SEED));
            Set<Bytes> returned = new HashSet<>();
            take(pinning, returned);
            while (h.doublings < Header.RETIRED_SLOTS + 1) {
                put(idx, 0);
                idx.finishGrowth();
            }
            // arrays of 1..256 buckets are listed; the one of 512 is linked, with a doubling
            assertThat(idx.reserve(8 * 13 * h.bucketCount / 2)).isTrue();
            assertThat(h.growthShift()).isEqualTo(3);
            idx.finishGrowth();
            // the array of 1024 is linked with a doubling, the next (8192) with a growth by 8
            for (long d = h.doublings; h.doublings == d; ) {
                put(idx, 0);
            }
            idx.finishGrowth();
            Space space = idx.table().space;
            assertThat(space.retiredArrays()).isEqualTo(Header.RETIRED_SLOTS + 3);
            assertThat(space.retiredArraysView().getLast()[1]).isEqualTo(8 * space.retiredArraysView().get(10 - 1)[1]);
            retiredCells = space.retiredCells();
            while (pinning.hasNext()) {
                take(pinning, returned);
            }
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "before closing");
            idx.closeLeavingGrowth();
        }
        try (HashIndex ro = HashIndex.openReadOnly(path)) {
            assertThat(ro.table().space.retiredArrays()).as("retired arrays listed or linked").isEqualTo(Header.RETIRED_SLOTS + 3);
            assertThat(ro.table().space.retiredCells()).isEqualTo(retiredCells);
            assertThat(ro.verify()).isEmpty();
        }
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(idx.table().space.hasRetired()).isFalse();
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "after reopening");
            Fixtures.assertHoldsExactly(idx, model, 9, "after reopening");
        }
    }

    /** A version-1 header cannot describe a growth by more than 2: such a file is corrupt, not misread. */
    @Test
    void aVersion1HeaderThatNamesAGrowthByMoreThan2IsCorrupt() {
        Path path = dir.resolve("v1.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(SEED))) {
            while (next < 100) {
                put(idx, 0);
            }
            idx.finishGrowth();
            assertThat(idx.reserve(100 * next)).isTrue();
            Header h = idx.table().h;
            h.readVersion = 1;
            h.writeVersion = 1;
            h.store(idx.table().file.header());
            idx.closeLeavingGrowth();
        }
        Fixtures.assertFails(() -> HashIndex.openReadOnly(path), HashIndexException.FileFormat.class, Code.CORRUPT, path,
                "neither the bucket count nor half of it");
    }
}
