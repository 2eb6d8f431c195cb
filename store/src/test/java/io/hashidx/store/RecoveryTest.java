package io.hashidx.store;

import static io.hashidx.store.Fixtures.assertFails;
import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.store.HashIndexException.Code;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replay of the intent record on open. Each test stops a write at a chosen store by doing that
 * write's first stores by hand (the same calls the engine makes) and closing without anything else,
 * which leaves the file as a crash at that point would. Killing a real process is CrashTest's job;
 * this pins down every branch of the replay, deterministically.
 */
class RecoveryTest {
    private static final int ENTRIES = 100;

    @TempDir
    Path dir;
    private Path path;
    private final Map<Bytes, byte[]> model = new HashMap<>();

    @BeforeEach
    void createIndex() {
        path = dir.resolve("recover.hidx");
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(21))) {
            for (int i = 0; i < ENTRIES; i++) {
                idx.put(key16(i), value16(i, 0));
                model.put(Bytes.of(key16(i)), value16(i, 0));
            }
        }
    }

    private static MemorySegment page(HashIndex idx) {
        return idx.table().file.header();
    }

    private void assertRecoveredTo(Map<Bytes, byte[]> expected) {
        try (HashIndex idx = HashIndex.open(path)) {
            assertThat(Header.laneOp(page(idx), 0)).as("intent cleared after replay").isEqualTo(Header.INTENT_NONE);
            assertThat(Header.intentOp(page(idx))).as("version-1 intent cleared after replay").isEqualTo(Header.INTENT_NONE);
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, expected, 1, "after replay");
        }
        try (HashIndex idx = HashIndex.open(path)) {
            Fixtures.assertHoldsExactly(idx, expected, 2, "after a second open");
        }
    }

    @Test
    void anOverwriteStoppedAfterItsIntentIsCompletedFromTheJournal() {
        byte[] key = key16(7);
        byte[] newValue = value16(7, 1);
        try (HashIndex idx = HashIndex.open(path)) {
            Table t = idx.table();
            long ref = t.find(key);
            t.layout.writeSlot(t.h.journalCell, 0, key, newValue);
            Header.beginLaneIntent(page(idx), 0, Header.INTENT_OVERWRITE, ref, Header.laneCount(page(idx), 0));
            idx.closeLeavingGrowth();
        }
        model.put(Bytes.of(key), newValue);
        assertRecoveredTo(model);
    }

    @Test
    void theIntentRecordOfAVersion1WriterIsStillReplayed() {
        byte[] key = key16(8);
        byte[] newValue = value16(8, 1);
        try (HashIndex idx = HashIndex.open(path)) {
            Table t = idx.table();
            long ref = t.find(key);
            t.layout.writeSlot(t.h.journalCell, 0, key, newValue);
            Header.beginIntent(page(idx), Header.INTENT_OVERWRITE, ref, Header.liveCount(page(idx)));
            idx.closeLeavingGrowth();
        }
        model.put(Bytes.of(key), newValue);
        assertRecoveredTo(model);
    }

    @Test
    void aReadOnlyOpenReadsTheJournaledValueOfAStoppedOverwriteAndChangesNothing() throws Exception {
        byte[] key = key16(9);
        byte[] newValue = value16(9, 1);
        try (HashIndex idx = HashIndex.open(path)) {
            Table t = idx.table();
            long ref = t.find(key);
            t.layout.writeSlot(t.h.journalCell, 0, key, newValue);
            Header.beginLaneIntent(page(idx), 0, Header.INTENT_OVERWRITE, ref, Header.laneCount(page(idx), 0));
            idx.closeLeavingGrowth();
        }
        byte[] before = Files.readAllBytes(path);
        model.put(Bytes.of(key), newValue);
        try (HashIndex ro = HashIndex.openReadOnly(path)) {
            assertThat(ro.get(key)).isEqualTo(newValue);
            byte[] buffer = new byte[16];
            assertThat(ro.get(key, buffer)).isEqualTo(16);
            assertThat(buffer).isEqualTo(newValue);
            Fixtures.assertHoldsExactly(ro, model, 3, "read-only with an overwrite pending");
        }
        assertThat(Files.readAllBytes(path)).as("a read-only open writes nothing").isEqualTo(before);
        assertRecoveredTo(model);
    }

    @Test
    void anInsertStoppedAfterPublishingItsSlotIsCounted() {
        byte[] key = key16(ENTRIES);
        try (HashIndex idx = HashIndex.open(path)) {
            Table t = idx.table();
            long count = Header.laneCount(page(idx), 0);
            idx.put(key, value16(ENTRIES, 0));
            long ref = t.find(key);
            // back to the moment after the tophash store, before the count store
            Header.beginLaneIntent(page(idx), 0, Header.INTENT_INSERT, ref, count);
            Header.setLaneCount(page(idx), 0, count);
            idx.closeLeavingGrowth();
        }
        model.put(Bytes.of(key), value16(ENTRIES, 0));
        assertRecoveredTo(model);
    }

    @Test
    void anInsertStoppedBeforePublishingItsSlotIsNotCounted() {
        try (HashIndex idx = HashIndex.open(path)) {
            Table t = idx.table();
            // a new key whose bucket has a free slot in its first page
            long bucket;
            int slot;
            byte[] key;
            int candidate = ENTRIES;
            while (true) {
                key = key16(candidate++);
                bucket = t.h.bucketsCell + Hashing.bucketIndex(Hashing.hash(key, t.h.seed), t.h.bucketCount);
                slot = 0;
                while (slot < BucketLayout.SLOTS && t.layout.tophash(bucket, slot) >= BucketLayout.MIN_TOPHASH) {
                    slot++;
                }
                if (slot < BucketLayout.SLOTS) {
                    break;
                }
            }
            Header.beginLaneIntent(page(idx), 0, Header.INTENT_INSERT, bucket * BucketLayout.SLOTS + slot, Header.laneCount(page(idx), 0));
            t.layout.writeSlot(bucket, slot, key, value16(ENTRIES, 0)); // written, tophash not yet stored
            idx.closeLeavingGrowth();
        }
        assertRecoveredTo(model);
    }

    @Test
    void aRemoveStoppedAfterEmptyingItsSlotIsCounted() {
        byte[] key = key16(3);
        try (HashIndex idx = HashIndex.open(path)) {
            Table t = idx.table();
            long count = Header.laneCount(page(idx), 0);
            long ref = t.find(key);
            idx.remove(key);
            Header.beginLaneIntent(page(idx), 0, Header.INTENT_REMOVE, ref, count);
            Header.setLaneCount(page(idx), 0, count);
            idx.closeLeavingGrowth();
        }
        model.remove(Bytes.of(key));
        assertRecoveredTo(model);
    }

    @Test
    void aRemoveStoppedBeforeEmptyingItsSlotKeepsTheEntry() {
        try (HashIndex idx = HashIndex.open(path)) {
            Table t = idx.table();
            Header.beginLaneIntent(page(idx), 0, Header.INTENT_REMOVE, t.find(key16(3)), Header.laneCount(page(idx), 0));
            idx.closeLeavingGrowth();
        }
        assertRecoveredTo(model);
    }

    @Test
    void anIntentRecordWithAnUnknownOperationIsCorruptAndIsNotReplayed() throws Exception {
        for (long op : new long[] {4, -1, Long.MIN_VALUE}) {
            try (HashIndex idx = HashIndex.open(path)) {
                Header.beginLaneIntent(page(idx), 0, op, idx.table().find(key16(5)), Header.laneCount(page(idx), 0));
                idx.closeLeavingGrowth();
            }
            byte[] before = Files.readAllBytes(path);
            assertFails(() -> HashIndex.open(path), HashIndexException.FileFormat.class, Code.CORRUPT, path,
                    "unknown operation " + op);
            assertThat(Files.readAllBytes(path)).as("intent op %d: the refused file is unchanged", op).isEqualTo(before);
            clearIntentOp();
        }
    }

    /** Zeroes the intent op word in the file, as if the write had ended. */
    private void clearIntentOp() throws Exception {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ByteBuffer zero = ByteBuffer.allocate(8);
            while (zero.hasRemaining()) {
                ch.write(zero, Header.laneOffset(0) + Header.LANE_OP + zero.position());
            }
        }
    }

    @Test
    void anIntentRecordNamingASlotOutsideTheFileIsCorrupt() {
        try (HashIndex idx = HashIndex.open(path)) {
            long outside = idx.table().h.allocatedCells * BucketLayout.SLOTS;
            Header.beginLaneIntent(page(idx), 0, Header.INTENT_OVERWRITE, outside, Header.laneCount(page(idx), 0));
            idx.closeLeavingGrowth();
        }
        assertFails(() -> HashIndex.open(path), HashIndexException.FileFormat.class, Code.CORRUPT, path, "intent record");
        assertFails(() -> HashIndex.openReadOnly(path), HashIndexException.FileFormat.class, Code.CORRUPT, path,
                "intent record");
    }
}
