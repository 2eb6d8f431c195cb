package io.hashidx.store;

import static io.hashidx.store.Fixtures.key8;
import static io.hashidx.store.Fixtures.value16Varying;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Salvage} on files damaged on purpose: every entry outside the damage is recovered with its
 * last value, each key once; each problem is named with its file offset; nothing hangs or throws.
 */
class SalvageTest {
    private static final long SEED = Long.getLong("hashidx.test.seed", 0x5A1BL);
    private static final int KEYS = 3000;

    @TempDir
    Path dir;
    private Path path;
    private final Map<Bytes, byte[]> model = new HashMap<>();
    /** Facts about the grown file, read before it is damaged. */
    private long buckets;
    private long bucketsCell;
    private long allocated;
    private BucketLayout layout;

    /** What a salvage handed to its sink, and its report. */
    private record Salvaged(Map<Bytes, byte[]> entries, Salvage.Report report) {
        List<String> kinds() {
            return report.problems().stream().map(Salvage.Problem::kind).distinct().collect(Collectors.toList());
        }

        Salvage.Problem first(String kind) {
            return report.problems().stream().filter(p -> p.kind().equals(kind)).findFirst()
                    .orElseThrow(() -> new AssertionError("no " + kind + " problem in " + report.problems()));
        }
    }

    @BeforeEach
    void grownFile() {
        path = dir.resolve("damaged.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).seed(SEED))) {
            for (long id = 0; id < KEYS; id++) {
                put(idx, id, id);
            }
            for (long id = 0; id < KEYS; id += 5) {
                idx.remove(key8(id));
                model.remove(Bytes.of(key8(id)));
            }
            idx.finishGrowth();
            capture(idx);
        }
    }

    private void put(HashIndex idx, long id, long op) {
        idx.put(key8(id), value16Varying(id, op));
        model.put(Bytes.of(key8(id)), value16Varying(id, op));
    }

    private void capture(HashIndex idx) {
        Header h = idx.table().h;
        buckets = h.bucketCount;
        bucketsCell = h.bucketsCell;
        allocated = h.allocatedCells;
        layout = idx.table().layout;
    }

    private Salvaged salvage(Options fallback) {
        Map<Bytes, byte[]> entries = new HashMap<>();
        Salvage.Report report = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            try (Salvage s = Salvage.open(path, fallback)) {
                return s.copyTo((k, v) -> assertThat(entries.put(Bytes.of(k), v))
                        .as("seed %d: key %s handed to the sink twice", SEED, Bytes.of(k)).isNull());
            }
        });
        assertThat(report.recoveredEntries()).isEqualTo(entries.size());
        return new Salvaged(entries, report);
    }

    private Salvaged salvage() {
        return salvage(null);
    }

    /** Every salvaged entry has the model's value: damage may lose entries, never change one. */
    private void assertNoWrongValues(Salvaged s) {
        for (Map.Entry<Bytes, byte[]> e : s.entries().entrySet()) {
            assertThat(model).as("seed %d: salvaged key %s", SEED, e.getKey()).containsKey(e.getKey());
            assertThat(e.getValue()).as("seed %d: value of %s", SEED, e.getKey()).isEqualTo(model.get(e.getKey()));
        }
    }

    private void assertEverythingRecovered(Salvaged s) {
        assertThat(s.entries().keySet()).as("seed %d: keys; problems %s", SEED, s.report().problems())
                .isEqualTo(model.keySet());
        assertNoWrongValues(s);
        assertThat(s.report().expectedEntries()).isEqualTo(model.size());
        assertThat(s.report().lostEntries()).isZero();
    }

    // ---- writing damage ----

    private void write(long offset, byte[] bytes) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(bytes), offset);
        }
    }

    private void writeLong(long offset, long value) throws IOException {
        write(offset, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(value).array());
    }

    private void flipBit(long offset) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.allocate(1);
            ch.read(b, offset);
            b.put(0, (byte) (b.get(0) ^ 4));
            ch.write(b.rewind(), offset);
        }
    }

    /** A bucket with exactly one overflow page and a full primary page; returns {bucket cell, page cell}. */
    private long[] bucketWithOneOverflowPage() {
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            BucketLayout l = idx.table().layout;
            for (long b = 0; b < buckets; b++) {
                long next = l.overflow(bucketsCell + b);
                if (next != BucketLayout.NONE && l.overflow(next) == BucketLayout.NONE) {
                    return new long[] {bucketsCell + b, next};
                }
            }
        }
        throw new AssertionError("no bucket with one overflow page");
    }

    /** Keys held by one page, read before it is damaged. */
    private List<Bytes> keysIn(long cell) {
        List<Bytes> keys = new ArrayList<>();
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            BucketLayout l = idx.table().layout;
            for (int i = 0; i < BucketLayout.SLOTS; i++) {
                if (l.tophash(cell, i) >= BucketLayout.MIN_TOPHASH) {
                    keys.add(Bytes.of(l.key(cell, i)));
                }
            }
        }
        return keys;
    }

    private List<Long> liveSlotOffsets(long cell) {
        List<Long> offsets = new ArrayList<>();
        try (HashIndex idx = HashIndex.openReadOnly(path)) {
            BucketLayout l = idx.table().layout;
            for (int i = 0; i < BucketLayout.SLOTS; i++) {
                if (l.tophash(cell, i) >= BucketLayout.MIN_TOPHASH) {
                    offsets.add(l.slotOffset(cell, i));
                }
            }
        }
        return offsets;
    }

    // ---- the tests ----

    @Test
    void anUndamagedFileIsRecoveredCompletelyWithNoProblem() {
        Salvaged s = salvage();

        assertEverythingRecovered(s);
        assertThat(s.report().complete()).isTrue();
        assertThat(s.report().problems()).isEmpty();
        assertThat(s.report().header()).isEqualTo("header copy A");
        assertThat(s.report().seed()).hasValue(SEED);
        assertThat(s.report().keyWidth()).isEqualTo(8);
        assertThat(s.report().valueWidth()).isEqualTo(16);
    }

    @Test
    void aFlippedBitInOneHeaderCopyIsNamedAndEverythingIsRecovered() throws IOException {
        flipBit(Header.COPY_A + Header.BUCKET_COUNT_OFFSET);

        Salvaged s = salvage();

        assertEverythingRecovered(s);
        assertThat(s.report().complete()).isTrue();
        assertThat(s.report().header()).isEqualTo("header copy B");
        assertThat(s.report().problems()).containsExactly(new Salvage.Problem("header_copy", 0,
                "header copy A at file offset 0 is damaged (checksum mismatch, and a cell reference lies outside the "
                        + allocated + " allocated cells); copy B was used"));
    }

    @Test
    void bothHeaderCopiesDamagedInFieldsThatKeepOneConsistentUseThatCopy() throws IOException {
        flipBit(Header.COPY_A + Header.BUCKET_COUNT_OFFSET);
        flipBit(Header.COPY_B + Header.COUNT_OFFSET); // informative only: copy B's fields stay consistent

        Salvaged s = salvage();

        assertEverythingRecovered(s);
        assertThat(s.report().complete()).isTrue();
        assertThat(s.report().header()).startsWith("damaged header copy B");
        assertThat(s.first("headers").description()).contains("both header copies are damaged",
                "copy A: ", "copy B: checksum mismatch", "the fields of copy B are consistent and were used");
    }

    @Test
    void bothHeaderCopiesUnusableScanEveryCellWithTheWidthsTheyStillAgreeOn() throws IOException {
        for (long copy : new long[] {Header.COPY_A, Header.COPY_B}) {
            writeLong(copy + Header.BUCKET_COUNT_OFFSET, allocated * 4); // beyond the allocated cells
        }

        Salvaged s = salvage();

        assertEverythingRecovered(s);
        assertThat(s.report().scanned()).isTrue();
        assertThat(s.report().complete()).as("a scan is never complete").isFalse();
        assertThat(s.report().seed()).as("confirmed by the tophash bytes").hasValue(SEED);
        assertThat(s.report().header()).isEqualTo("scan with the widths of damaged header copy A");
        assertThat(s.first("headers").description()).contains("a cell reference lies outside");
    }

    @Test
    void headerPageOverwrittenNeedsTheWidthsAndThenScans() throws IOException {
        write(0, new byte[1024]);

        assertThatThrownBy(() -> Salvage.open(path)).isInstanceOf(HashIndexException.class)
                .satisfies(e -> assertThat(((HashIndexException) e).code()).isEqualTo(HashIndexException.Code.NOT_HASHIDX_FILE))
                .hasMessageContaining("give its key and value widths");
        Salvaged s = salvage(Options.widths(8, 16));

        assertEverythingRecovered(s);
        assertThat(s.report().scanned()).isTrue();
        assertThat(s.report().seed()).as("no candidate seed: none given, none left in the header").isEmpty();
        assertThat(s.report().header()).isEqualTo("scan with the widths given (key 8, value 16 bytes)");
    }

    @Test
    void anOverflowLinkOutsideTheFileLosesOnlyThePagesBehindIt() throws IOException {
        long[] chain = bucketWithOneOverflowPage();
        List<Bytes> lost = keysIn(chain[1]);
        long linkAt = layout.cellOffset(chain[0]) + BucketLayout.OVERFLOW_OFFSET;
        writeLong(linkAt, allocated + 100 + 1);

        Salvaged s = salvage();

        assertNoWrongValues(s);
        assertThat(lost).isNotEmpty();
        assertThat(s.entries().keySet()).doesNotContainAnyElementsOf(lost).hasSize(model.size() - lost.size());
        assertThat(s.report().lostEntries()).isEqualTo(lost.size());
        assertThat(s.report().complete()).isFalse();
        assertThat(s.report().chainsCut()).isEqualTo(1);
        assertThat(s.first("overflow_link")).isEqualTo(new Salvage.Problem("overflow_link", linkAt,
                "bucket " + (chain[0] - bucketsCell) + ": the overflow link of cell " + chain[0] + " names cell "
                        + (allocated + 100) + ", outside the " + allocated
                        + " allocated cells; the rest of the chain was not read"));
    }

    @Test
    void aCycleIsCutWhereItClosesAndLosesNothing() throws IOException {
        long[] chain = bucketWithOneOverflowPage();
        long linkAt = layout.cellOffset(chain[1]) + BucketLayout.OVERFLOW_OFFSET;
        writeLong(linkAt, chain[0] + 1); // the last page links back to its bucket

        Salvaged s = salvage();

        assertEverythingRecovered(s);
        assertThat(s.report().complete()).isTrue();
        assertThat(s.first("cycle").fileOffset()).isEqualTo(linkAt);
        assertThat(s.first("cycle").description()).contains("names cell " + chain[0] + ", a page already read");
    }

    @Test
    void garbageInABucketLosesItsSlotsOnly() throws IOException {
        long[] chain = bucketWithOneOverflowPage();
        List<Bytes> lost = keysIn(chain[0]);
        List<Long> liveSlotOffsets = liveSlotOffsets(chain[0]);
        byte[] garbage = new byte[layout.stride - BucketLayout.SLOTS_OFFSET];
        new SplittableRandom(SEED).nextBytes(garbage);
        write(layout.cellOffset(chain[0]) + BucketLayout.SLOTS_OFFSET, garbage);

        Salvaged s = salvage();

        assertNoWrongValues(s);
        assertThat(s.entries().keySet()).doesNotContainAnyElementsOf(lost).hasSize(model.size() - lost.size());
        assertThat(s.report().unreadableSlots()).isEqualTo(lost.size());
        assertThat(s.report().lostEntries()).isEqualTo(lost.size());
        assertThat(s.report().problems()).allSatisfy(p -> {
            assertThat(p.kind()).isEqualTo("bad_slot");
            assertThat(p.description()).startsWith("bucket " + (chain[0] - bucketsCell) + ", cell " + chain[0] + " slot ")
                    .endsWith("; not recovered");
        });
        assertThat(s.report().problems().stream().map(Salvage.Problem::fileOffset))
                .containsExactlyElementsOf(liveSlotOffsets);
    }

    @Test
    void swappedBucketsAreRecoveredAsMisplacedKeys() throws IOException {
        long a = bucketsCell;
        long b = bucketsCell + 1;
        byte[] cellA = new byte[layout.stride];
        byte[] cellB = new byte[layout.stride];
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ch.read(ByteBuffer.wrap(cellA), layout.cellOffset(a));
            ch.read(ByteBuffer.wrap(cellB), layout.cellOffset(b));
        }
        write(layout.cellOffset(a), cellB);
        write(layout.cellOffset(b), cellA);

        Salvaged s = salvage();

        assertEverythingRecovered(s);
        assertThat(s.report().complete()).isTrue();
        assertThat(s.kinds()).containsExactly("misplaced");
        assertThat(s.first("misplaced").description()).startsWith("bucket 0, cell " + a + " slot ")
                .endsWith(": a key that belongs in bucket 1; recovered");
    }

    @Test
    void aTruncatedFileRecoversEveryBucketBeforeTheCut() throws IOException {
        long cutBucket = buckets / 2;
        long cut = layout.cellOffset(bucketsCell + cutBucket) + 10;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.truncate(cut);
        }

        Salvaged s = salvage();

        assertNoWrongValues(s);
        assertThat(s.report().complete()).isFalse();
        assertThat(s.report().recoveredEntries()).isBetween(1L, (long) model.size() - 1);
        assertThat(s.report().lostEntries()).isEqualTo(model.size() - s.report().recoveredEntries());
        assertThat(s.report().missingCells()).isEqualTo(allocated - (bucketsCell + cutBucket));
        assertThat(s.first("truncated").fileOffset()).isEqualTo(cut);
        assertThat(s.first("missing_buckets").description()).startsWith("buckets " + cutBucket + ".." + (buckets - 1)
                + " of the current array (cells " + (bucketsCell + cutBucket) + "..");
        for (Bytes key : model.keySet()) {
            long home = Hashing.bucketIndex(Hashing.hash(key.array(), SEED), buckets);
            if (home >= cutBucket) {
                assertThat(s.entries()).as("key %s of a bucket beyond the cut", key).doesNotContainKey(key);
            }
        }
    }

    @Test
    void midGrowthTheOldBucketWinsOverAnInterruptedCopyAndEvacuatedOldSlotsAreIgnored() {
        path = dir.resolve("growing.hidx");
        model.clear();
        Bytes staleKey;
        try (HashIndex idx = HashIndex.create(path, Options.widths(8, 16).seed(SEED))) {
            Header h = idx.table().h;
            long id = 0;
            while (!(h.growing() && h.oldBucketCount >= 64)) {
                put(idx, id, id);
                id++;
            }
            for (long k = 0; k < 10; k++) { // overwrites: evacuate their old buckets, the old slots keep the old values
                put(idx, k, 1000 + k);
            }
            BucketLayout l = idx.table().layout;
            long old = BucketLayout.NONE;
            for (long b = h.oldBucketCount - 1; b > h.evacuated && old == BucketLayout.NONE; b--) {
                long cell = h.oldBucketsCell + b;
                if (!BucketLayout.isEvacuatedMark(l.tophash(cell, 0)) && l.tophash(cell, 0) >= BucketLayout.MIN_TOPHASH) {
                    old = b;
                }
            }
            assertThat(old).as("an unevacuated old bucket").isNotEqualTo(BucketLayout.NONE);
            // a crash in the middle of copying old bucket `old`: its first entry, with a stale value, in its destination
            long from = h.oldBucketsCell + old;
            byte[] key = l.key(from, 0);
            staleKey = Bytes.of(key);
            long hash = Hashing.hash(key, SEED);
            long dest = h.bucketsCell + Hashing.bucketIndex(hash, h.bucketCount);
            l.writeSlot(dest, 0, key, new byte[] {0x5, 0x7A, 0x1E});
            l.setTophash(dest, 0, Hashing.tophash(hash));
            assertThat(idx.get(key)).isEqualTo(model.get(staleKey));
            idx.closeLeavingGrowth();
        }

        Salvaged s = salvage();

        assertEverythingRecovered(s);
        assertThat(s.entries().get(staleKey)).isEqualTo(model.get(staleKey));
        assertThat(s.report().complete()).isTrue();
        assertThat(s.report().problems()).isEmpty();
    }

    @Test
    void anOverwriteCutShortByACrashIsReadFromTheJournal() {
        byte[] key = key8(1);
        byte[] newValue = {9, 9, 9};
        try (HashIndex idx = HashIndex.open(path)) {
            Table t = idx.table();
            long ref = t.find(key);
            t.layout.writeSlot(t.h.journalCell, 0, key, newValue);
            Header.beginLaneIntent(t.file.header(), 0, Header.INTENT_OVERWRITE, ref, Header.laneCount(t.file.header(), 0));
            idx.closeLeavingGrowth();
        }
        model.put(Bytes.of(key), newValue);

        Salvaged s = salvage();

        assertEverythingRecovered(s);
        assertThat(s.report().complete()).isTrue();
    }

    @Test
    void aFileThatCannotBeReadAtAllThrowsTheLibrarysError() throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.truncate(1000);
        }
        assertThatThrownBy(() -> Salvage.open(path)).isInstanceOf(HashIndexException.class)
                .satisfies(e -> assertThat(((HashIndexException) e).code()).isEqualTo(HashIndexException.Code.CORRUPT));
        Path missing = dir.resolve("missing.hidx");
        assertThatThrownBy(() -> Salvage.open(missing)).isInstanceOf(HashIndexException.class)
                .hasMessageContaining("no such file");
    }

    @Test
    void aFileOpenForWritingIsRefusedAsLocked() {
        try (HashIndex writer = HashIndex.open(path)) {
            assertThatThrownBy(() -> Salvage.open(path)).isInstanceOf(HashIndexException.Locked.class);
        }
    }
}
