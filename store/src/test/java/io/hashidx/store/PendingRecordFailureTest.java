package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write that fails with something other than a full disk after it took the first cell of its record
 * (here: a free list whose run loops back on itself, so the second cell taken is {@code CORRUPT}) must
 * not leave the record pending in its lane: the lane's next out-of-line write would overwrite the
 * pending record and leak its cells. Before the fix only a {@code Storage} failure freed them.
 */
class PendingRecordFailureTest {
    @TempDir
    Path dir;

    @Test
    void aCorruptFreeListWhileWritingARecordLeavesNothingPending() {
        long seed = 31;
        Random random = new Random(seed);
        Path file = dir.resolve("pending.hidx");
        try (HashIndex idx = HashIndex.create(file, Options.variableLengths().seed(5))) {
            for (int i = 0; i < 200; i++) {
                byte[] value = new byte[random.nextInt(600)];
                random.nextBytes(value);
                idx.put(("other " + i).getBytes(StandardCharsets.UTF_8), value);
            }
            // a record of one cell, freed: the free list's first run is that one cell
            byte[] oneCell = "a key longer than sixteen bytes, one cell".getBytes(StandardCharsets.UTF_8);
            idx.put(oneCell, "short".getBytes(StandardCharsets.UTF_8));
            Table t = idx.table();
            long root = t.layout.recordOf(t.find(oneCell) / BucketLayout.SLOTS, (int) (t.find(oneCell) % BucketLayout.SLOTS));
            assertThat(t.layout.recordLength(root)).isEqualTo(1);
            idx.remove(oneCell);
            assertThat(t.h.freeRoot).isEqualTo(root);
            // ... whose next run is itself: the second cell taken finds record bytes as a run's length
            t.layout.setFreeRun(root, root, 1);
            long recordCells = t.h.recordCells;
            byte[] key = "a new key longer than sixteen bytes".getBytes(StandardCharsets.UTF_8);
            byte[] value = new byte[1500];
            Arrays.fill(value, (byte) 'n');
            assertThatThrownBy(() -> idx.put(key, value)).as("seed %d", seed)
                    .isInstanceOfSatisfying(HashIndexException.class,
                            e -> assertThat(e.code()).isEqualTo(HashIndexException.Code.CORRUPT));
            MemorySegment page = t.file.header();
            for (int lane = 0; lane < Header.LANES; lane++) {
                assertThat(Header.pendingRecord(page, lane)).as("seed %d: lane %d's pending record", seed, lane)
                        .isEqualTo(BucketLayout.NONE);
            }
            assertThat(t.h.recordCells).as("seed %d: the cell taken was given back", seed).isEqualTo(recordCells);
            assertThat(idx.get(key)).isNull();
        }
    }
}
