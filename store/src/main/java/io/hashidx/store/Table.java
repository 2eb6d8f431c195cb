package io.hashidx.store;

import static io.hashidx.store.BucketLayout.EMPTY_ONE;
import static io.hashidx.store.BucketLayout.EMPTY_REST;
import static io.hashidx.store.BucketLayout.EVACUATED_EMPTY;
import static io.hashidx.store.BucketLayout.EVACUATED_X;
import static io.hashidx.store.BucketLayout.EVACUATED_Y;
import static io.hashidx.store.BucketLayout.MIN_TOPHASH;
import static io.hashidx.store.BucketLayout.NONE;
import static io.hashidx.store.BucketLayout.SLOTS;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.AbstractMap;
import java.util.Arrays;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.random.RandomGenerator;

/**
 * The hash table on top of the bucket layout: lookup, insert, overwrite, remove, growth with
 * incremental evacuation, and iteration. Go's runtime/map.go moved onto a mapped file.
 *
 * <h2>Design</h2>
 * A seeded 64-bit hash picks a bucket ({@code floor(hash * buckets / 2^64)}) and a tophash byte. A
 * bucket holds 8 slots and one tophash byte per slot; when all 8 are taken, an overflow page of the
 * same layout is chained on. Eight slots per bucket keep a whole bucket's tophash bytes in one
 * aligned 8-byte word, so a lookup that misses reads one word and usually no key at all.
 *
 * <p>The load factor is 6.5 entries per bucket, Go's choice. Measured on this layout (200,000
 * buckets, 16-byte keys and values, 320-byte pages; overflow pages per bucket, and bytes of bucket
 * and overflow pages per entry), next to the probe counts of Go's table for the same structure:
 * <pre>
 *   load  %overflow  bytes/entry  Go hitprobe  Go missprobe
 *   4.00     2.14        81.7        3.00          4.00
 *   4.50     4.04        74.0        3.25          4.50
 *   5.00     6.79        68.3        3.50          5.00
 *   5.50    10.57        64.3        3.75          5.50
 *   6.00    15.32        61.5        4.00          6.00
 *   6.50    20.92        59.5        4.25          6.50
 * </pre>
 * Past 6.5 the overflow pages (a second cache miss per lookup) grow faster than the space saved.
 *
 * <h2>Growth</h2>
 * When an insert would take the load above 6.5, a bucket array twice as large is reserved and the
 * table enters the growing state: the header records both arrays and how many old buckets have been
 * evacuated. A growth starts only once the file holds the new array and a margin for the overflow
 * pages its evacuation may take ({@link Space#growthEnd}); until then (a large array written in
 * bounded steps, or a full disk) the table takes inserts at a higher load. Every write first evacuates the old bucket it maps to, plus the next unevacuated one
 * in order, so growth finishes after at most (old buckets) writes. Reads look in the old array for
 * buckets not yet evacuated. Old bucket b splits into new buckets 2b and 2b+1 (multiply-shift keeps
 * that true for any bucket count). Evacuation copies every entry first, publishes each copy with its
 * tophash byte, and only then marks the old slots evacuated-X/Y, ending with slot 0 of the primary
 * bucket, whose mark is what "evacuated" means. A crash in between leaves the old bucket unevacuated;
 * the next evacuation clears its destinations and copies again, so evacuation is idempotent.
 *
 * <h2>Crash order</h2>
 * A new entry is written into a free slot and published by one tophash store. An overwrite writes
 * the new slot image into the journal cell, records an intent, copies it over the slot, and clears the
 * intent; reopening replays an unfinished copy. Inserts and removes also record an intent, so reopen
 * knows whether the operation in flight changed the count.
 */
final class Table {
    /** Evacuations that close() performs at most before leaving the rest for later. */
    static final long CLOSE_EVACUATION_BOUND = 1 << 16;

    final Header h;
    final BucketLayout layout;
    final MappedFile file;
    final Space space;
    /** The record writer of a variable-length file; null in a fixed-width one. */
    private final Records records;
    private final MemorySegment page;
    private final boolean writable;
    private final byte[] scratchKey;
    private long[] scratchPages = new long[4];
    private byte[] scratchMarks = new byte[4 * SLOTS];
    /** For a read-only open after a crash in the middle of an overwrite: that slot's value is in the journal. */
    private long pendingOverwrite = NONE;
    /** Counts writes, so an iterator can tell that an entry it looked ahead at may have changed. */
    private long writes;
    /**
     * Old buckets evacuated in the growth under way, above the mark too; -1 until first asked for after
     * an open (then counted once), so opening stays free of scans.
     */
    private volatile long evacuatedCount = -1;

    Table(Header h, MappedFile file) {
        this.h = h;
        this.file = file;
        this.page = file.header();
        this.writable = file.writable();
        this.layout = new BucketLayout(h.keyWidth, h.valueWidth, file, h);
        this.scratchKey = new byte[h.keyWidth];
        file.ensureMapped(layout.endOfCells(h.allocatedCells));
        this.space = new Space(h, layout, file);
        this.records = h.variable() ? new Records(layout, space, page) : null;
        recover();
    }

    long count() {
        return h.count;
    }

    /** The slot whose interrupted overwrite a read-only open reads from the journal, or NONE. */
    long pendingOverwriteRef() {
        return pendingOverwrite;
    }

    // ---------------------------------------------------------------- open-time recovery

    /**
     * Replays the intent record of an operation cut short by a crash, finishes its chain change, and
     * in a variable-length file frees its pending record unless its slot names it; bounded work, no
     * scan. The intent is cleared last, so a crash during recovery leaves the same work to the next open.
     */
    private void recover() {
        long op = Header.intentOp(page);
        long count = Header.liveCount(page);
        long ref = NONE;
        if (op != Header.INTENT_NONE) {
            ref = Header.intentSlot(page);
            long before = Header.intentCountBefore(page);
            long cell = ref / SLOTS;
            int slot = (int) (ref % SLOTS);
            if (ref < 0 || cell >= h.allocatedCells || op < Header.INTENT_INSERT || op > Header.INTENT_REMOVE) {
                throw HashIndexException.corrupt(file.path(), Header.INTENT_OP_OFFSET,
                        "intent record names slot " + ref + " outside the file or an unknown operation " + op);
            }
            count = Header.countAfterIntent(op, before, layout.tophash(cell, slot) >= MIN_TOPHASH);
            if (op == Header.INTENT_OVERWRITE) {
                if (writable) {
                    layout.copySlot(h.journalCell, 0, cell, slot);
                } else {
                    pendingOverwrite = ref;
                }
            }
        }
        h.count = count;
        long pending = h.variable() ? Header.pendingRecord(page) : NONE;
        boolean chainChanged = space.recoverChainChange(writable, pending, this::slotNamesRecord);
        if (pending != NONE && pending == space.recordFreedByRecovery()) {
            // a record that was being discarded when the crash came: freed above, as its op 4 said
            if (writable) {
                Header.setPendingRecord(page, NONE);
            }
        } else if (pending != NONE) {
            // the record of the operation cut short: kept when its slot (or the journal image that a
            // read-only open reads instead) names it, freed otherwise
            boolean named = (op == Header.INTENT_INSERT || op == Header.INTENT_OVERWRITE) && slotNamesRecord(ref, pending)
                    || (pendingOverwrite != NONE && layout.outOfLine(h.journalCell, 0)
                    && layout.recordOf(h.journalCell, 0) == pending);
            long cells = named ? 0 : layout.recordLength(pending);
            if (!writable) {
                if (!named) {
                    space.recordLeftToFree(pending, cells);
                }
            } else if (named) {
                Header.setPendingRecord(page, NONE);
            } else {
                space.announceRecordFree(pending, NONE);
                VarHandle.storeStoreFence();
                Header.setPendingRecord(page, NONE);
                VarHandle.storeStoreFence();
                space.freeRecord(pending, cells);
            }
        }
        if (writable && op != Header.INTENT_NONE) {
            Header.setLiveCount(page, count);
            VarHandle.storeStoreFence();
            Header.endIntent(page);
        }
        if (writable) {
            space.releaseRetired(true);
            if (chainChanged || !h.copyA.valid() || !h.copyB.valid() || h.copyA.generation() != h.copyB.generation()) {
                h.store(page);
            }
        }
        space.opened();
    }

    /** Whether slot {@code ref} ({@code cell * 8 + slot}, NONE: none) is live and names the record at {@code record}. */
    private boolean slotNamesRecord(long ref, long record) {
        if (ref < 0) {
            return false;
        }
        long cell = ref / SLOTS;
        int slot = (int) (ref % SLOTS);
        return layout.tophash(cell, slot) >= MIN_TOPHASH && layout.outOfLine(cell, slot)
                && layout.recordOf(cell, slot) == record;
    }

    // ---------------------------------------------------------------- lookup

    /** Slot reference ({@code cell * 8 + slot}) of {@code key}, or NONE. */
    long find(byte[] key) {
        long hash = Hashing.hash(key, h.seed);
        int top = Hashing.tophash(hash);
        if (h.oldBucketCount != 0) {
            long old = h.oldBucketsCell + Hashing.bucketIndex(hash, h.oldBucketCount);
            if (!isEvacuated(old)) {
                return valueRef(layout.find(old, key, hash, top, true));
            }
        }
        return valueRef(layout.find(h.bucketsCell + Hashing.bucketIndex(hash, h.bucketCount), key, hash, top, false));
    }

    private long valueRef(long ref) {
        return ref == pendingOverwrite && ref != NONE ? h.journalCell * SLOTS : ref;
    }

    byte[] value(long ref) {
        return layout.value(ref / SLOTS, (int) (ref % SLOTS));
    }

    int valueLength(long ref) {
        return layout.checkedValueLength(ref / SLOTS, (int) (ref % SLOTS));
    }

    void copyValue(long ref, byte[] dst, int len) {
        layout.copyValue(ref / SLOTS, (int) (ref % SLOTS), dst, len);
    }

    /**
     * The live slot whose key has the 64-bit hash {@code hash}, or NONE: a lookup by the full hash
     * instead of the key, for an iterator that must not read a record an old slot still names.
     */
    private long findByHash(long hash) {
        int top = Hashing.tophash(hash);
        if (h.oldBucketCount != 0) {
            long old = h.oldBucketsCell + Hashing.bucketIndex(hash, h.oldBucketCount);
            if (!isEvacuated(old)) {
                return layout.findByHash(old, hash, top, true, h.seed);
            }
        }
        return layout.findByHash(h.bucketsCell + Hashing.bucketIndex(hash, h.bucketCount), hash, top, false, h.seed);
    }

    private boolean isEvacuated(long oldCell) {
        return BucketLayout.isEvacuatedMark(layout.tophash(oldCell, 0));
    }

    // ---------------------------------------------------------------- writes

    /**
     * What a write with {@code previous = PRESENT_ONLY} returns when the key was present: the write says
     * only that, without copying the value it replaced.
     */
    static final byte[] PRESENT = new byte[0];

    /** Inserts or overwrites; returns true when a value was replaced. */
    boolean put(byte[] key, byte[] value) {
        return put(key, value, false, false) != null;
    }

    /**
     * Inserts {@code value} under {@code key}, in one scan of the key's bucket chain. When the key is
     * present and {@code ifAbsent} is set, leaves it and returns a copy of its value; when the key is
     * present otherwise, overwrites it and returns a copy of the value replaced ({@code copyPrevious})
     * or {@link #PRESENT}. Returns null when the key was absent (and is now inserted).
     */
    byte[] put(byte[] key, byte[] value, boolean ifAbsent, boolean copyPrevious) {
        writes++;
        long hash = Hashing.hash(key, h.seed);
        int top = Hashing.tophash(hash);
        if (h.growing()) {
            growWork(hash);
        }
        while (true) {
            long bucket = h.bucketsCell + Hashing.bucketIndex(hash, h.bucketCount);
            long free = NONE;
            long last = bucket;
            long pages = 0;
            scan:
            for (long c = bucket; c != NONE; c = layout.overflow(c, pages++)) {
                last = c;
                for (int i = 0; i < SLOTS; i++) {
                    int th = layout.tophash(c, i);
                    if (th == top) {
                        if (layout.keyEquals(c, i, key, hash)) {
                            if (ifAbsent) {
                                return layout.value(c, i);
                            }
                            byte[] previous = copyPrevious ? layout.value(c, i) : PRESENT;
                            overwrite(c, i, key, value, hash);
                            return previous;
                        }
                    } else if (th == EMPTY_REST) {
                        if (free == NONE) {
                            free = c * SLOTS + i;
                        }
                        break scan;
                    } else if (th == EMPTY_ONE && free == NONE) {
                        free = c * SLOTS + i;
                    }
                }
            }
            if (!h.growing() && (overLoaded(h.count + 1) || tooManyOverflowPages())) {
                boolean sameSize = !overLoaded(h.count + 1);
                // a growth starts once its space is written; until then the table takes inserts at a
                // higher load (and on a full disk it keeps doing so, retrying the reservation now and then)
                if (space.reserveForGrowth(sameSize ? h.bucketCount : 2 * h.bucketCount)) {
                    startGrowth(sameSize);
                    growWork(hash);
                    continue;
                }
            }
            if (free == NONE) {
                free = space.linkNewOverflowPage(last, false) * SLOTS;
            }
            insert(free, top, key, value, hash);
            if (!h.growing()) {
                reserveForNextGrowth();
            }
            return null;
        }
    }

    private void insert(long ref, int top, byte[] key, byte[] value, long hash) {
        long cell = ref / SLOTS;
        int slot = (int) (ref % SLOTS);
        // an out-of-line entry's record is written (and pending) before the intent
        long record = records != null && layout.needsRecord(key.length, value.length) ? records.write(key, value) : NONE;
        Header.beginIntent(page, Header.INTENT_INSERT, ref, h.count);
        writeImage(cell, slot, key, value, hash, record);
        VarHandle.storeStoreFence();
        layout.setTophash(cell, slot, top);
        h.count++;
        Header.setLiveCount(page, h.count);
        VarHandle.storeStoreFence();
        if (record != NONE) {
            records.published();
            VarHandle.storeStoreFence();
        }
        Header.endIntent(page);
    }

    private void writeImage(long cell, int slot, byte[] key, byte[] value, long hash, long record) {
        if (record != NONE) {
            layout.writeOutOfLineSlot(cell, slot, record, hash, key.length, value.length);
        } else {
            layout.writeSlot(cell, slot, key, value);
        }
    }

    /**
     * Replaces a live slot's value without ever leaving it neither old nor new: journal, intent, copy.
     * In a variable-length file the new record (if any) is written first and pending, and the old one
     * (if any) is announced before the copy and freed after it.
     */
    private void overwrite(long cell, int slot, byte[] key, byte[] value, long hash) {
        long oldRecord = layout.outOfLine(cell, slot) ? layout.recordOf(cell, slot) : NONE;
        long record = records != null && layout.needsRecord(key.length, value.length) ? records.write(key, value) : NONE;
        writeImage(h.journalCell, 0, key, value, hash, record);
        VarHandle.storeStoreFence();
        if (oldRecord != NONE) {
            // before the intent: once the intent is there, reopening finishes the copy, and the old
            // record must then be freed
            space.announceRecordFree(oldRecord, cell * SLOTS + slot);
            VarHandle.storeStoreFence();
        }
        Header.beginIntent(page, Header.INTENT_OVERWRITE, cell * SLOTS + slot, h.count);
        VarHandle.storeStoreFence();
        layout.copySlot(h.journalCell, 0, cell, slot);
        VarHandle.storeStoreFence();
        if (record != NONE) {
            records.published();
            VarHandle.storeStoreFence();
        }
        if (oldRecord != NONE) {
            space.freeRecord(oldRecord, layout.recordLength(oldRecord));
        }
        Header.endIntent(page);
    }

    /**
     * Overwrites the value of a present key, in one lookup: when {@code expected} is null, whatever its
     * value; otherwise only when the stored value has the same bytes as {@code expected}. Returns a copy
     * of the value replaced, {@link #PRESENT} when {@code expected} was given and matched, or null when
     * nothing was written.
     */
    byte[] replace(byte[] key, byte[] expected, byte[] value) {
        writes++;
        long hash = Hashing.hash(key, h.seed);
        if (h.growing()) {
            growWork(hash);
        }
        long ref = layout.find(h.bucketsCell + Hashing.bucketIndex(hash, h.bucketCount), key, hash, Hashing.tophash(hash), false);
        if (ref == NONE) {
            return null;
        }
        long cell = ref / SLOTS;
        int slot = (int) (ref % SLOTS);
        byte[] previous;
        if (expected == null) {
            previous = layout.value(cell, slot);
        } else if (layout.valueEquals(cell, slot, expected)) {
            previous = PRESENT;
        } else {
            return null;
        }
        overwrite(cell, slot, key, value, hash);
        return previous;
    }

    boolean remove(byte[] key) {
        return remove(key, null, false) != null;
    }

    /**
     * Removes a present key, in one lookup: when {@code expected} is null, whatever its value; otherwise
     * only when the stored value has the same bytes as {@code expected}. Returns a copy of the value
     * removed ({@code copyPrevious}) or {@link #PRESENT}, or null when nothing was removed.
     */
    byte[] remove(byte[] key, byte[] expected, boolean copyPrevious) {
        writes++;
        long hash = Hashing.hash(key, h.seed);
        int top = Hashing.tophash(hash);
        if (h.growing()) {
            growWork(hash);
        }
        long bucket = h.bucketsCell + Hashing.bucketIndex(hash, h.bucketCount);
        long ref = layout.find(bucket, key, hash, top, false);
        if (ref == NONE) {
            return null;
        }
        long cell = ref / SLOTS;
        int slot = (int) (ref % SLOTS);
        if (expected != null && !layout.valueEquals(cell, slot, expected)) {
            return null;
        }
        byte[] previous = copyPrevious ? layout.value(cell, slot) : PRESENT;
        long record = layout.outOfLine(cell, slot) ? layout.recordOf(cell, slot) : NONE;
        long recordCells = record != NONE ? layout.recordLength(record) : 0;
        Header.beginIntent(page, Header.INTENT_REMOVE, ref, h.count);
        VarHandle.storeStoreFence();
        if (record != NONE) {
            space.announceRecordFree(record, ref);
            VarHandle.storeStoreFence();
        }
        layout.setTophash(cell, slot, EMPTY_ONE);
        markEmptyRest(bucket, cell, slot);
        h.count--;
        Header.setLiveCount(page, h.count);
        VarHandle.storeStoreFence();
        if (record != NONE) {
            space.freeRecord(record, recordCells);
        }
        Header.endIntent(page);
        return previous;
    }

    /**
     * After emptying a slot: if every later slot of the chain is empty, turn this slot and the empty
     * slots before it into EMPTY_REST, walking backwards (as Go does), so lookups stop early.
     */
    private void markEmptyRest(long bucket, long cell, int slot) {
        if (slot == SLOTS - 1) {
            long next = layout.overflow(cell);
            if (next != NONE && layout.tophash(next, 0) != EMPTY_REST) {
                return;
            }
        } else if (layout.tophash(cell, slot + 1) != EMPTY_REST) {
            return;
        }
        long c = cell;
        int i = slot;
        while (true) {
            layout.setTophash(c, i, EMPTY_REST);
            if (i == 0) {
                if (c == bucket) {
                    return;
                }
                long prev = bucket;
                long pages = 0;
                while (layout.overflow(prev) != c) {
                    prev = layout.overflow(prev, pages++);
                }
                c = prev;
                i = SLOTS - 1;
            } else {
                i--;
            }
            if (layout.tophash(c, i) != EMPTY_ONE) {
                return;
            }
        }
    }

    // ---------------------------------------------------------------- growth

    private boolean overLoaded(long count) {
        // count > 6.5 * buckets, in integers
        return 2 * count > 13 * h.bucketCount;
    }

    private boolean tooManyOverflowPages() {
        return h.overflowPages > h.bucketCount;
    }

    /** Buckets that hold {@code n} entries at a load of at most 6.5. */
    static long bucketsFor(long n) {
        return Math.max(1, (2 * n + 12) / 13);
    }

    /**
     * Overflow pages a presized file sets aside: the expected need at load 6.5 (20.8% of buckets,
     * rounded up to 21%) plus three standard deviations of it ({@code 3 * sqrt(0.21 * 0.79 * buckets)},
     * bounded above by {@code 1.25 * sqrt(buckets)}), so a presized load almost never extends the file.
     */
    static long overflowReserveFor(long buckets) {
        return (buckets * 21 + 99) / 100 + (long) Math.ceil(1.25 * Math.sqrt(buckets));
    }

    /**
     * Once a table that has doubled before is three quarters of the way to its next doubling, each
     * insert writes a bounded share of the next growth's space (its array and evacuation margin, see
     * {@link Space#growthEnd}), so the doubling itself writes nothing big. A presized file that outgrows
     * its size writes that space in bounded steps after it passes the threshold, and grows when done.
     */
    private void reserveForNextGrowth() {
        long threshold = 13 * h.bucketCount / 2;
        if (h.doublings == 0 || 4 * h.count < 3 * threshold) {
            // A file that never doubled was presized (or is one bucket): its owner does not expect
            // growth, so it does not pay for the space in advance.
            return;
        }
        space.reserveAhead(space.growthEnd(2 * h.bucketCount), threshold - h.count + 1);
    }

    private void startGrowth(boolean sameSize) {
        long newCount = sameSize ? h.bucketCount : 2 * h.bucketCount;
        long first = space.reserveArray(newCount);
        space.startEvacuation(h.overflowPages);
        h.oldBucketCount = h.bucketCount;
        h.oldBucketsCell = h.bucketsCell;
        h.oldOverflowPages = h.overflowPages;
        h.evacuated = 0;
        h.bucketCount = newCount;
        h.bucketsCell = first;
        h.overflowPages = 0;
        h.allocatedCells = first + newCount;
        evacuatedCount = 0;
        if (sameSize) {
            h.sameSizeGrowths++;
        } else {
            h.doublings++;
        }
        h.store(page);
    }

    private void growWork(long hash) {
        evacuate(Hashing.bucketIndex(hash, h.oldBucketCount));
        if (h.growing()) {
            evacuate(h.evacuated);
        }
    }

    /** Evacuates up to {@code limit} old buckets in order; returns how many old buckets remain. */
    long finishGrowth(long limit) {
        for (long i = 0; i < limit && h.growing(); i++) {
            evacuate(h.evacuated);
        }
        return h.growing() ? h.oldBucketCount - h.evacuated : 0;
    }

    private void evacuate(long oldIndex) {
        long old = h.oldBucketsCell + oldIndex;
        if (!isEvacuated(old)) {
            moveBucket(oldIndex, old);
        }
        if (oldIndex == h.evacuated) {
            advanceEvacuationMark();
        }
    }

    private void moveBucket(long oldIndex, long old) {
        boolean sameSize = h.bucketCount == h.oldBucketCount;
        long x = h.bucketsCell + (sameSize ? oldIndex : 2 * oldIndex);
        long y = sameSize ? NONE : x + 1;
        clearDestination(x);
        if (y != NONE) {
            clearDestination(y);
        }
        // Walk the old chain before copying: the overflow pages the copies allocate raise the
        // allocated cells, which bound the walk, so a cyclic chain walked while copying would grow
        // the file without end instead of being reported as a cycle.
        int pages = 0;
        for (long c = old; c != NONE; c = layout.overflow(c, pages)) {
            if (pages == scratchPages.length) {
                scratchPages = Arrays.copyOf(scratchPages, pages * 2);
                scratchMarks = Arrays.copyOf(scratchMarks, pages * 2 * SLOTS);
            }
            scratchPages[pages++] = c;
        }
        Destination toX = new Destination(x);
        Destination toY = new Destination(y);
        for (int p = 0; p < pages; p++) {
            long c = scratchPages[p];
            for (int i = 0; i < SLOTS; i++) {
                int th = layout.tophash(c, i);
                byte mark = EVACUATED_EMPTY;
                if (th >= MIN_TOPHASH || th == EVACUATED_X || th == EVACUATED_Y) {
                    long hash;
                    if (layout.outOfLine(c, i)) {
                        hash = layout.storedHash(c, i); // the record is not read: growth moves only the slot
                    } else {
                        int len = layout.readKey(c, i, scratchKey);
                        hash = Hashing.xxh64(scratchKey, 0, len, h.seed);
                    }
                    boolean upper = !sameSize && Hashing.bucketIndex(hash, h.bucketCount) != 2 * oldIndex;
                    (upper ? toY : toX).append(c, i, Hashing.tophash(hash));
                    mark = (byte) (upper ? EVACUATED_Y : EVACUATED_X);
                }
                scratchMarks[p * SLOTS + i] = mark;
            }
        }
        VarHandle.storeStoreFence();
        // Mark backwards: slot 0 of the primary bucket last, so "evacuated" implies "fully copied".
        for (int p = pages - 1; p >= 0; p--) {
            for (int i = SLOTS - 1; i >= 0; i--) {
                if (p == 0 && i == 0) {
                    VarHandle.storeStoreFence();
                }
                layout.setTophash(scratchPages[p], i, scratchMarks[p * SLOTS + i]);
            }
        }
        if (evacuatedCount >= 0) {
            evacuatedCount++;
        }
    }

    /** The growth under way as {@link HashIndex#growth()} reports it: header fields and the evacuated count. */
    Inspection.Growth growth() {
        if (!h.growing()) {
            return new Inspection.Growth(false, false, 0, h.evacuated, 0, h.oldOverflowPages);
        }
        long evacuatedNow = evacuatedCount;
        if (evacuatedNow < 0) {
            evacuatedNow = 0;
            for (long b = 0; b < h.oldBucketCount; b++) {
                if (isEvacuated(h.oldBucketsCell + b)) {
                    evacuatedNow++;
                }
            }
            evacuatedCount = evacuatedNow;
        }
        return new Inspection.Growth(true, h.oldBucketCount == h.bucketCount, h.oldBucketCount, h.evacuated,
                evacuatedNow, h.oldOverflowPages);
    }

    /** Where evacuated entries go in one destination bucket: the next slot of its chain (Go's evacDst). */
    private final class Destination {
        private long cell;
        private int slot;

        Destination(long bucket) {
            this.cell = bucket;
        }

        void append(long fromCell, int fromSlot, int top) {
            if (slot == SLOTS) {
                cell = space.linkNewOverflowPage(cell, true);
                slot = 0;
            }
            layout.copySlot(fromCell, fromSlot, cell, slot);
            layout.setTophash(cell, slot++, top);
        }
    }

    /** A destination of an unevacuated bucket holds only a crashed earlier copy: empty it. */
    private void clearDestination(long bucket) {
        if (layout.overflow(bucket) == NONE && layout.tophash(bucket, 0) == EMPTY_REST) {
            return;
        }
        space.clearBucket(bucket);
    }

    private void advanceEvacuationMark() {
        long e = h.evacuated + 1;
        long stop = Math.min(h.oldBucketCount, e + 1024);
        while (e < stop && isEvacuated(h.oldBucketsCell + e)) {
            e++;
        }
        h.evacuated = e;
        if (e == h.oldBucketCount) {
            long cell = h.oldBucketsCell;
            long buckets = h.oldBucketCount;
            long overflow = h.oldOverflowPages;
            h.oldBucketCount = 0;
            h.oldBucketsCell = 0;
            h.oldOverflowPages = 0;
            h.evacuated = 0;
            space.retireArray(cell, buckets, overflow);
        } else {
            h.store(page);
        }
    }

    /** Called by close(): bounded evacuation, then every retired array is freed. */
    void closing() {
        if (writable) {
            finishGrowth(CLOSE_EVACUATION_BOUND);
            space.releaseRetired(true);
        }
    }

    // ---------------------------------------------------------------- iteration

    /**
     * Go's map iterator over the mapped file: walks the bucket array current at its start from a
     * random bucket and slot offset. While that array is being filled by a growth, for each bucket it
     * reads the old bucket instead if that one is not evacuated yet, keeping only the entries that
     * belong to this bucket. An entry found in a slot already marked evacuated has moved on: it is
     * looked up in the current table, which gives its current value or tells that it was removed.
     * Arrays that an iterator may read are not reused until it is finished (see {@link Space}).
     */
    final class Cursor {
        private final long startBuckets;
        private final long startCell;
        private final long startBucket;
        private final int offset;
        private final long stamp;
        private long bucket;
        private boolean wrapped;
        private long cell = NONE;
        private long checkBucket = NONE;
        /** Pages of the current chain walked so far, to stop at a cycle. */
        private long chainPages;
        private int i;
        private boolean finished;
        private Map.Entry<byte[], byte[]> next;
        private long nextSeenAt;

        Cursor(RandomGenerator random) {
            this.startBuckets = h.bucketCount;
            this.startCell = h.bucketsCell;
            long r = random.nextLong();
            this.startBucket = Long.remainderUnsigned(r, startBuckets);
            this.offset = (int) (r >>> 61);
            this.bucket = startBucket;
            this.stamp = space.register(this);
        }

        long stamp() {
            return stamp;
        }

        boolean finished() {
            return finished;
        }

        /** The next entry, or null when the iteration is over. */
        private Map.Entry<byte[], byte[]> advance() {
            while (!finished) {
                if (cell == NONE) {
                    if (bucket == startBucket && wrapped) {
                        finished = true;
                        return null;
                    }
                    checkBucket = NONE;
                    chainPages = 0;
                    cell = startCell + bucket;
                    if (h.growing() && startBuckets == h.bucketCount) {
                        long oldIndex = h.bucketCount == h.oldBucketCount ? bucket : bucket >>> 1;
                        long old = h.oldBucketsCell + oldIndex;
                        if (!isEvacuated(old)) {
                            cell = old;
                            checkBucket = bucket;
                        }
                    }
                    bucket++;
                    if (bucket == startBuckets) {
                        bucket = 0;
                        wrapped = true;
                    }
                    i = 0;
                }
                while (i < SLOTS) {
                    int slot = (i + offset) & (SLOTS - 1);
                    i++;
                    int th = layout.tophash(cell, slot);
                    if (BucketLayout.isEmpty(th)) {
                        continue;
                    }
                    boolean moved = th == EVACUATED_X || th == EVACUATED_Y;
                    if (moved && layout.outOfLine(cell, slot)) {
                        // the record this old slot names may have been freed since the entry moved on:
                        // find the entry by the hash the slot keeps, and read the key from where it is now
                        long storedHash = layout.storedHash(cell, slot);
                        if (checkBucket != NONE && Hashing.bucketIndex(storedHash, startBuckets) != checkBucket) {
                            continue;
                        }
                        long now = findByHash(storedHash);
                        if (now != NONE) {
                            return new AbstractMap.SimpleImmutableEntry<>(
                                    layout.key(now / SLOTS, (int) (now % SLOTS)), value(now));
                        }
                        continue;
                    }
                    byte[] key = layout.key(cell, slot);
                    long keyHash = layout.outOfLine(cell, slot) ? layout.storedHash(cell, slot) : NONE;
                    // judged by the bucket count this iterator walks: the table may have grown again since
                    if (checkBucket != NONE && Hashing.bucketIndex(keyHash != NONE ? keyHash : Hashing.hash(key, h.seed),
                            startBuckets) != checkBucket) {
                        continue;
                    }
                    if (th != EVACUATED_X && th != EVACUATED_Y) {
                        long ref = valueRef(cell * SLOTS + slot);
                        return new AbstractMap.SimpleImmutableEntry<>(key, value(ref));
                    }
                    long ref = find(key);
                    if (ref != NONE) {
                        return new AbstractMap.SimpleImmutableEntry<>(key, value(ref));
                    }
                }
                cell = layout.overflow(cell, ++chainPages);
                i = 0;
            }
            return null;
        }

        boolean hasNext() {
            while (true) {
                if (next == null) {
                    if (finished) {
                        return false;
                    }
                    next = advance();
                    nextSeenAt = writes;
                    if (next == null) {
                        return false;
                    }
                }
                if (nextSeenAt == writes) {
                    return true;
                }
                // a write happened since we looked ahead: return the entry only as it is now
                long ref = find(next.getKey());
                nextSeenAt = writes;
                next = ref == NONE ? null : new AbstractMap.SimpleImmutableEntry<>(next.getKey(), value(ref));
            }
        }

        Map.Entry<byte[], byte[]> nextEntry() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Map.Entry<byte[], byte[]> e = next;
            next = null;
            return e;
        }
    }
}
