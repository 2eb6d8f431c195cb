package io.hashidx.store;

import static io.hashidx.store.BucketLayout.NONE;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;

/**
 * Writes the records of a variable-length file: an entry whose key or value is longer than the inline
 * widths is stored as one record, its key bytes then its value bytes, in a chain of cells taken one
 * at a time from {@link Space} (so freed record cells and overflow pages are one pool, reused alike,
 * and freeing a record of any length is one header update). See {@link BucketLayout} for the cells'
 * layout and FORMAT.md section 12 ("Variable lengths", "Order of stores") for the order of stores.
 *
 * <p>While a record is being written, and until the slot that will name it is published, the writer's
 * lane names it as its <em>pending record</em> (each lane has its own, so writers in parallel each have
 * one): a crash before the slot names it leaves it there, and opening the file frees it unless the slot
 * of the lane's intent names it, so a crash leaks no record cell. Taking and freeing cells go through
 * the {@link Space} monitor, which serializes the one chain record and every header update.
 */
final class Records {
    private final BucketLayout layout;
    private final Space space;
    private final MemorySegment page;

    Records(BucketLayout layout, Space space, MemorySegment page) {
        this.layout = layout;
        this.space = space;
        this.page = page;
    }

    /**
     * Writes {@code key} then {@code value} as a new record and returns its first cell, which lane
     * {@code lane} now names as its pending record; the caller publishes a slot naming it and then clears the pending
     * record. On a full disk (or any other failure, such as a damaged free list), frees what it took
     * and throws, leaving nothing pending: a record left pending in a live lane would be overwritten by
     * the lane's next out-of-line write, and its cells leaked.
     */
    long write(byte[] key, byte[] value, int lane) {
        long total = (long) key.length + value.length;
        long cells = layout.recordCellsFor(total);
        int capacity = layout.recordCapacity;
        long first = NONE;
        long previous = NONE;
        try {
            for (long i = 0; i < cells; i++) {
                long cell = space.takeRecordCell(previous, lane);
                if (first == NONE) {
                    first = cell;
                }
                long from = i * capacity;
                long to = Math.min(total, from + capacity);
                if (from < key.length) {
                    int n = (int) (Math.min(to, key.length) - from);
                    layout.writeRecordCell(cell, 0, key, (int) from, n);
                    if (to > key.length) {
                        layout.writeRecordCell(cell, n, value, 0, (int) (to - key.length));
                    }
                } else {
                    layout.writeRecordCell(cell, 0, value, (int) (from - key.length), (int) (to - from));
                }
                previous = cell;
            }
        } catch (RuntimeException e) {
            if (first != NONE) {
                discardAfter(e, first, lane);
            }
            throw e;
        }
        return first;
    }

    /** Discards lane {@code lane}'s pending record after {@code failure}, to which a failure to discard is added. */
    void discardAfter(RuntimeException failure, long first, int lane) {
        try {
            discard(first, lane);
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    /** Frees the pending record that no slot names (a failed write): announced, unnamed, then freed. */
    void discard(long first, int lane) {
        long cells = layout.recordLength(first);
        synchronized (space) {
            space.announceRecordFree(first, NONE);
            VarHandle.storeStoreFence();
            Header.setPendingRecord(page, lane, NONE);
            VarHandle.storeStoreFence();
            space.freeRecord(first, cells);
        }
    }

    /** Clears lane {@code lane}'s pending record once a published slot names it (or its intent's replay would). */
    void published(int lane) {
        Header.setPendingRecord(page, lane, NONE);
    }
}
