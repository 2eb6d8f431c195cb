package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A crash at each step of the record protocol of a variable-length file (FORMAT.md section 12,
 * "Order of stores"), in writer lane 3 (each lane has its own pending record): each test makes the
 * stores an operation makes up to the chosen step, with the engine's own pieces, and stops there as a
 * kill would (the file is closed without finishing anything). Reopening, read-only and then
 * read-write, must show the value before or after the operation, find nothing wrong with verify(), and
 * account for every cell: no record cell leaks and none is freed twice.
 *
 * <p>Found by the kill -9 campaign on variable-length files: an overwrite that wrote its intent before
 * announcing the old record's free leaked that record when the kill came in between, since reopening
 * finishes the copy but did not know the old record.
 */
class RecordCrashTest {
    private static final byte[] KEY = "a key longer than sixteen bytes".getBytes(StandardCharsets.UTF_8);
    private static final byte[] OLD = filled(700, 'o');
    private static final byte[] NEW = filled(1500, 'n');
    private static final byte[] SHORT = "short".getBytes(StandardCharsets.UTF_8);
    /** The writer lane the interrupted operation holds: not lane 0, so the per-lane words are what is tested. */
    private static final int LANE = 3;

    @TempDir
    Path dir;

    private static byte[] filled(int n, char c) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) c);
        return b;
    }

    /** The step after which the crash comes. */
    enum Crash {
        /** overwrite: the new record written (pending), the journal image, the old record announced; no intent yet */
        OVERWRITE_BEFORE_INTENT(false),
        /** overwrite: ... and the intent written; the slot not yet copied */
        OVERWRITE_AFTER_INTENT(true),
        /** overwrite: ... the slot copied; the pending record not yet cleared, the old record not yet freed */
        OVERWRITE_AFTER_COPY(true),
        /** overwrite to a value that fits inline: the old record announced, intent, copy; not yet freed */
        OVERWRITE_INLINE_AFTER_COPY(true),
        /** insert: the record written (pending); no intent yet */
        INSERT_BEFORE_INTENT(false),
        /** insert: record, intent, slot and tophash published; the pending record not yet cleared */
        INSERT_AFTER_PUBLISH(true),
        /** remove: intent and the record announced; the tophash not yet cleared */
        REMOVE_BEFORE_MARK(false),
        /** remove: ... the tophash cleared, the count written; the record not yet freed */
        REMOVE_AFTER_MARK(true),
        /** a record being discarded (a full disk): announced with no slot; pending_record not yet cleared */
        DISCARD_BEFORE_CLEAR(false);

        /** Whether the operation took effect at this point (reopening shows the value after it). */
        final boolean applied;

        Crash(boolean applied) {
            this.applied = applied;
        }
    }

    @ParameterizedTest(name = "crash {0}")
    @EnumSource(Crash.class)
    void reopeningAfterACrashAtEachStepShowsBeforeOrAfterAndLeaksNoRecordCell(Crash crash) {
        Path file = dir.resolve("crash.hidx");
        HashIndex idx = HashIndex.create(file, Options.variableLengths().seed(5));
        for (int i = 0; i < 200; i++) {
            idx.put(("other " + i).getBytes(StandardCharsets.UTF_8), filled(i * 7 % 600, 'x'));
        }
        boolean insert = crash.name().startsWith("INSERT");
        if (!insert) {
            idx.put(KEY, OLD);
        }
        Table t = idx.table();
        MemorySegment page = t.file.header();
        Records records = new Records(t.layout, t.space, page);
        long hash = Hashing.hash(KEY, t.h.seed);
        long ref = t.find(KEY);
        long cell = ref / BucketLayout.SLOTS;
        int slot = (int) (ref % BucketLayout.SLOTS);
        byte[] before = insert ? null : OLD;
        byte[] after;
        switch (crash) {
            case OVERWRITE_BEFORE_INTENT, OVERWRITE_AFTER_INTENT, OVERWRITE_AFTER_COPY -> {
                after = NEW;
                long old = t.layout.recordOf(cell, slot);
                long fresh = records.write(KEY, NEW, LANE);
                t.layout.writeOutOfLineSlot(t.h.journalCell, LANE, fresh, hash, KEY.length, NEW.length);
                t.space.announceRecordFree(old, ref);
                if (crash != Crash.OVERWRITE_BEFORE_INTENT) {
                    Header.beginLaneIntent(page, LANE, Header.INTENT_OVERWRITE, ref, Header.laneCount(page, LANE));
                }
                if (crash == Crash.OVERWRITE_AFTER_COPY) {
                    t.layout.copySlot(t.h.journalCell, LANE, cell, slot);
                }
            }
            case OVERWRITE_INLINE_AFTER_COPY -> {
                after = SHORT;
                byte[] shortKey = "k".getBytes(StandardCharsets.UTF_8);
                idx.put(shortKey, OLD);
                long shortRef = t.find(shortKey);
                long c = shortRef / BucketLayout.SLOTS;
                int s = (int) (shortRef % BucketLayout.SLOTS);
                t.space.announceRecordFree(t.layout.recordOf(c, s), shortRef);
                t.layout.writeSlot(t.h.journalCell, LANE, shortKey, SHORT);
                Header.beginLaneIntent(page, LANE, Header.INTENT_OVERWRITE, shortRef, Header.laneCount(page, LANE));
                t.layout.copySlot(t.h.journalCell, LANE, c, s);
                idx.closeLeavingGrowth();
                check(file, shortKey, OLD, SHORT, true);
                return;
            }
            case INSERT_BEFORE_INTENT, INSERT_AFTER_PUBLISH -> {
                after = NEW;
                long fresh = records.write(KEY, NEW, LANE);
                if (crash == Crash.INSERT_AFTER_PUBLISH) {
                    long free = freeSlot(t, hash);
                    Header.beginLaneIntent(page, LANE, Header.INTENT_INSERT, free, Header.laneCount(page, LANE));
                    long c = free / BucketLayout.SLOTS;
                    int s = (int) (free % BucketLayout.SLOTS);
                    t.layout.writeOutOfLineSlot(c, s, fresh, hash, KEY.length, NEW.length);
                    t.layout.setTophash(c, s, Hashing.tophash(hash));
                    Header.setLaneCount(page, LANE, Header.laneCount(page, LANE) + 1);
                }
            }
            case REMOVE_BEFORE_MARK, REMOVE_AFTER_MARK -> {
                after = null;
                Header.beginLaneIntent(page, LANE, Header.INTENT_REMOVE, ref, Header.laneCount(page, LANE));
                t.space.announceRecordFree(t.layout.recordOf(cell, slot), ref);
                if (crash == Crash.REMOVE_AFTER_MARK) {
                    t.layout.setTophash(cell, slot, BucketLayout.EMPTY_ONE);
                    Header.setLaneCount(page, LANE, Header.laneCount(page, LANE) - 1);
                }
            }
            case DISCARD_BEFORE_CLEAR -> {
                after = OLD;
                long fresh = records.write(KEY, NEW, LANE);
                t.space.announceRecordFree(fresh, BucketLayout.NONE);
            }
            default -> throw new IllegalStateException();
        }
        idx.closeLeavingGrowth();
        check(file, KEY, before, after, crash.applied);
    }

    /**
     * Two writers in flight at the kill, each with its own pending record: lane 2 had written the record
     * of an insert and no intent yet (its record is freed), lane 5 had copied an overwrite whose old
     * record was announced (the old record is freed, the new one kept).
     */
    @org.junit.jupiter.api.Test
    void twoLanesInFlightEachKeepOrFreeTheirOwnPendingRecord() {
        Path file = dir.resolve("lanes.hidx");
        HashIndex idx = HashIndex.create(file, Options.variableLengths().seed(5));
        for (int i = 0; i < 200; i++) {
            idx.put(("other " + i).getBytes(StandardCharsets.UTF_8), filled(i * 7 % 600, 'x'));
        }
        idx.put(KEY, OLD);
        Table t = idx.table();
        MemorySegment page = t.file.header();
        Records records = new Records(t.layout, t.space, page);
        long hash = Hashing.hash(KEY, t.h.seed);
        long ref = t.find(KEY);
        long cell = ref / BucketLayout.SLOTS;
        int slot = (int) (ref % BucketLayout.SLOTS);
        records.write("an insert that never got its intent".getBytes(StandardCharsets.UTF_8), NEW, 2);
        long old = t.layout.recordOf(cell, slot);
        long fresh = records.write(KEY, NEW, 5);
        t.layout.writeOutOfLineSlot(t.h.journalCell, 5, fresh, hash, KEY.length, NEW.length);
        t.space.announceRecordFree(old, ref);
        Header.beginLaneIntent(page, 5, Header.INTENT_OVERWRITE, ref, Header.laneCount(page, 5));
        t.layout.copySlot(t.h.journalCell, 5, cell, slot);
        assertThat(Header.pendingRecord(page, 2)).isNotEqualTo(BucketLayout.NONE);
        assertThat(Header.pendingRecord(page, 5)).isEqualTo(fresh);
        idx.closeLeavingGrowth();
        check(file, KEY, OLD, NEW, true);
        try (HashIndex again = HashIndex.open(file)) {
            MemorySegment p = again.table().file.header();
            for (int lane = 0; lane < Header.LANES; lane++) {
                assertThat(Header.pendingRecord(p, lane)).as("lane %d's pending record", lane).isEqualTo(BucketLayout.NONE);
            }
        }
    }

    /**
     * A record being discarded (a full disk) was announced (op 4, no slot) and the kill came before its
     * lane's pending record was cleared; opening the file frees it (op 4) and a second crash comes right
     * after that open stored the header, before the open cleared the pending record. Opening again must
     * not free the record a second time: before the fix the pending record still named it, so the second
     * open freed it again (twice on the free list, {@code record_cells} too low) and later takes handed
     * its cells out twice.
     */
    @org.junit.jupiter.api.Test
    void aCrashWhileOpeningAfterTheDiscardedRecordWasFreedDoesNotFreeItTwice() throws Exception {
        long seed = 20261126L;
        Path file = dir.resolve("discard.hidx");
        Path crashed = dir.resolve("discard-crashed.hidx");
        HashIndex idx = HashIndex.create(file, Options.variableLengths().seed(5));
        for (int i = 0; i < 200; i++) {
            idx.put(("other " + i).getBytes(StandardCharsets.UTF_8), filled(i * 7 % 600, 'x'));
        }
        idx.put(KEY, OLD);
        Table t = idx.table();
        Records records = new Records(t.layout, t.space, t.file.header());
        long fresh = records.write(KEY, NEW, LANE);
        t.space.announceRecordFree(fresh, BucketLayout.NONE);
        long recordCells = t.h.recordCells - t.layout.recordLength(fresh);
        idx.closeLeavingGrowth();

        Space.afterChainChangeRecovered = () -> {
            try {
                java.nio.file.Files.copy(file, crashed);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        try (HashIndex first = HashIndex.open(file)) {
            assertThat(first.verify()).isEmpty();
        } finally {
            Space.afterChainChangeRecovered = null;
        }
        assertThat(crashed).as("the open finished the discarded record's free").exists();

        java.util.Random random = new java.util.Random(seed);
        java.util.Map<Bytes, byte[]> model = new java.util.HashMap<>();
        try (HashIndex again = HashIndex.open(crashed)) {
            Table a = again.table();
            assertThat(again.verify()).as("seed %d: verify after the second open", seed).isEmpty();
            assertThat(a.h.recordCells).as("seed %d: record cells after the second open", seed).isEqualTo(recordCells);
            Fixtures.assertNoLeakedCells(again, "seed " + seed + ": after the second open");
            assertThat(again.get(KEY)).isEqualTo(OLD);
            // take every free cell (and more) for records: a cell on the free list twice is handed out twice
            for (int i = 0; i < 300; i++) {
                byte[] key = ("taken " + i).getBytes(StandardCharsets.UTF_8);
                byte[] value = new byte[300 + random.nextInt(1500)];
                random.nextBytes(value);
                again.put(key, value);
                model.put(Bytes.of(key), value);
            }
            for (java.util.Map.Entry<Bytes, byte[]> e : model.entrySet()) {
                assertThat(again.get(e.getKey().array())).as("seed %d: value of %s", seed, e.getKey()).isEqualTo(e.getValue());
            }
            assertThat(again.verify()).as("seed %d: verify after taking cells", seed).isEmpty();
            Fixtures.assertNoLeakedCells(again, "seed " + seed + ": after taking cells");
        }
    }

    /** The first free slot of the key's bucket chain (the test files have room in it). */
    private static long freeSlot(Table t, long hash) {
        long bucket = t.h.bucketsCell + Hashing.bucketIndex(hash, t.h.bucketCount);
        for (long c = bucket; c != BucketLayout.NONE; c = t.layout.overflow(c)) {
            for (int i = 0; i < BucketLayout.SLOTS; i++) {
                if (BucketLayout.isEmpty(t.layout.tophash(c, i))) {
                    return c * BucketLayout.SLOTS + i;
                }
            }
        }
        throw new IllegalStateException("no free slot in the chain");
    }

    private static void check(Path file, byte[] key, byte[] before, byte[] after, boolean applied) {
        byte[] expected = applied ? after : before;
        try (HashIndex ro = HashIndex.openReadOnly(file)) {
            assertThat(ro.get(key)).as("read-only: the value %s the operation", applied ? "after" : "before")
                    .isEqualTo(expected);
            assertThat(ro.verify()).as("read-only verify").isEmpty();
        }
        try (HashIndex idx = HashIndex.open(file)) {
            assertThat(idx.get(key)).as("the value %s the operation", applied ? "after" : "before").isEqualTo(expected);
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertNoLeakedCells(idx, "after recovery");
            assertThat(idx.size()).isEqualTo(200 + (expected != null ? 1 : 0) + (key == KEY ? 0 : 1));
        }
        try (HashIndex idx = HashIndex.open(file)) {
            assertThat(idx.verify()).as("a second open changes nothing").isEmpty();
            Fixtures.assertNoLeakedCells(idx, "after a second open");
        }
    }
}
