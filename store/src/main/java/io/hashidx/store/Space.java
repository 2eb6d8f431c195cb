package io.hashidx.store;

import static io.hashidx.store.BucketLayout.NONE;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Where cells come from and go back to, and how much of the disk the index may count on.
 *
 * <p>Cells are handed out from the free list first, then from the high-water mark
 * ({@code allocatedCells}), extending the file with real zeros as needed. The free list is a stack
 * of runs of consecutive cells; a run's first cell holds the run length and the next run. Every free
 * cell may still carry the overflow link of the chain it belonged to: when such a cell is handed
 * out, the rest of its chain is pushed as a run of one, so freeing a whole old bucket array with all
 * its overflow chains costs one header update, not a walk.
 *
 * <h2>Chain changes and crashes</h2>
 * Taking a cell for an overflow page and linking it are two stores: the header update, then the
 * link. Unlinking a chain and recording it as free are two stores the other way round. Before either
 * pair, the journal cell's chain record names the page, its parent and the header copy the change
 * goes with; opening the file after a crash between the two stores finishes the change (the page goes
 * back to the free list, or the unlinked chain onto it), so a crash leaks no cell and leaves no count
 * that disagrees with the chains. The header update is the one store that takes a cell: the shortened
 * free run is written into the run's next cell, which the header in effect does not name yet.
 *
 * <h2>Space on a full disk</h2>
 * Each growth starts only once the file holds its new array plus a margin for the overflow pages its
 * evacuation may take: at most one per overflow page of the old array, since the entries of an old
 * bucket's chain of {@code 1 + p} pages fill at most {@code p} overflow pages in their one or two
 * destinations. While the growth runs, inserts leave that margin ({@link #evacuationReserve}) alone,
 * so evacuation never meets a full disk half-way. When the file cannot be extended, an insert that
 * needs a page fails with {@code DISK_FULL} before changing anything; gets, overwrites (they use the
 * journal cell) and removes need no new space.
 *
 * <h2>Retired arrays</h2>
 * An old array is retired when its growth completes. Iterators that started before that may still
 * read it, so it goes to the free list only once every such iterator is gone (reclaim by stamp), and
 * once no reader process pins it in the reader table ({@link ReaderTable}: a reader pins the arrays
 * retired at the end of the growth under way when it last read the header, or of the next growth, and
 * later ones). The
 * header lists the eight oldest retired arrays; an array retired while eight are waiting is recorded
 * in the retired arrays themselves: the reserved word of the first cell of the newest listed array
 * links to it, and its overflow page count is in the reserved word of its own second cell. Iterators
 * never read reserved words, so these words of a retired array are free for this. Opening the file
 * read-write frees every retired array, listed or linked, so a crash leaks none.
 */
final class Space {
    // Thread safety: every method that reads or writes the header's space fields, the free list or the
    // retired arrays is synchronized on this object (the "space lock"); the table also takes it to move
    // the evacuation mark and to start and end a growth. It is the innermost lock: nothing is acquired
    // while it is held except the mapping's own (MappedFile.ensureMapped).

    private static final long MIN_EXTENSION = 1 << 20;
    private static final long MAX_EXTENSION = 64L << 20;
    private static final long MIN_RESERVE_STEP = 256 << 10;
    /** Inserts past the growth threshold within which a growth's space should be written, in bounded steps. */
    static final long RESERVE_STEPS_PAST_THRESHOLD = 64;
    /** After the n-th failure in a row to reserve growth space, 2^n - 1 attempts are skipped (n up to 10). */
    private static final int MAX_BACKOFF_SHIFT = 10;
    /**
     * Set in a retired array's link when the linked array has more buckets: {@code 2^(1 + s)} times
     * as many, where {@code s} is the link's bits 56..61 (0 for a doubling); else it has the same count.
     */
    static final long LINK_DOUBLED = 1L << 62;
    private static final int LINK_SHIFT_BITS = 56;
    private static final long LINK_CELL_MASK = (1L << LINK_SHIFT_BITS) - 1;

    private final Header h;
    private final BucketLayout layout;
    private final MappedFile file;
    private final MemorySegment page;
    /** The reader table, for a writer that has one; null for a reader or a writer that keeps readers out. */
    private final ReaderTable readers;

    /**
     * A retired array: its cells, the in-process iterator stamp and the growth at whose end it was
     * retired (reader processes pin by growth; see {@link ReaderTable}).
     */
    private record Retired(long cell, long buckets, long overflow, long stamp, long growth) {
    }

    private final ArrayDeque<Retired> retired = new ArrayDeque<>();
    /**
     * Record cells that a crash left to free and that a read-only open cannot free: {first cell, cells,
     * 1 when they are a record's chain (0: one cell taken but not linked, whose link word is not zeroed
     * yet)}. The header still counts them as record cells; verify claims them here.
     */
    private final List<long[]> recordsLeftToFree = new ArrayList<>();
    /** The record that opening found announced (op 4) and freed, or left to free when read-only; else NONE. */
    private long recordFreedByRecovery = NONE;
    private final List<WeakReference<Table.Cursor>> cursors = new ArrayList<>();
    /**
     * Tests set this to see the file as a crash would leave it right after opening stored the header
     * that finishes a chain change (before anything else of the open is written); null otherwise.
     */
    static volatile Runnable afterChainChangeRecovered;
    private long stamp;
    /** Cells the growth under way may still take for its evacuation; inserts leave at least this many spare. */
    private long evacuationReserve;
    private int reserveFailures;
    private long reserveAttemptsToSkip;

    Space(Header h, BucketLayout layout, MappedFile file) {
        this.h = h;
        this.layout = layout;
        this.file = file;
        this.page = file.header();
        this.readers = file.writable() ? file.readers() : null;
        // the growth at whose end an array listed here was retired is not recorded: at most the current one
        for (int i = 0; i < Header.RETIRED_SLOTS; i++) {
            if (h.retiredCell[i] != NONE) {
                retired.add(new Retired(h.retiredCell[i], h.retiredBuckets[i], h.retiredOverflow[i], 0, h.growths()));
            }
        }
        if (retired.size() == Header.RETIRED_SLOTS) {
            readLinkedRetiredArrays();
        }
    }

    /**
     * A reader process, while no writer is at work: takes the retired arrays as the header it read again
     * lists them (and links), for verify and inspect.
     */
    void reloadRetired() {
        retired.clear();
        for (int i = 0; i < Header.RETIRED_SLOTS; i++) {
            if (h.retiredCell[i] != NONE) {
                retired.add(new Retired(h.retiredCell[i], h.retiredBuckets[i], h.retiredOverflow[i], 0, h.growths()));
            }
        }
        if (retired.size() == Header.RETIRED_SLOTS) {
            readLinkedRetiredArrays();
        }
    }

    // ---------------------------------------------------------------- open-time recovery

    /**
     * Finishes the chain change that a crash cut short (the journal's chain record, see the class
     * comment) before anything else writes the header. Read-only, it only corrects the overflow page
     * count in memory. Returns true when header fields changed and the caller must store them.
     */
    synchronized boolean recoverChainChange(boolean writable, RecordUse recordInUse) {
        long journal = h.journalCell;
        int op = layout.chainRecordOp(journal);
        if (op == 0) {
            return false;
        }
        boolean changed = false;
        if (layout.chainRecordHeaderTag(journal) == BucketLayout.headerTag(h.generation, h.crc)) {
            long pageCell = layout.chainRecordPage(journal);
            long parent = layout.chainRecordParent(journal);
            boolean recordOp = op == BucketLayout.RECORD_TAKE || op == BucketLayout.RECORD_FREE;
            // op 4 names a slot reference (cell * 8 + slot) as its parent; op 3 a lane for a record's first cell
            int lane = op == BucketLayout.RECORD_TAKE ? BucketLayout.laneOfPendingParent(parent) : -1;
            long parentCell = op == BucketLayout.RECORD_FREE && parent >= 0 ? parent / BucketLayout.SLOTS
                    : lane >= 0 ? 0 : parent;
            if (op < BucketLayout.RECORD_LINK || op > BucketLayout.RECORD_FREE || (recordOp && !h.variable())
                    || pageCell < 0 || pageCell >= h.allocatedCells
                    || (lane < 0 && parent < (op == BucketLayout.RECORD_FREE ? NONE : 0))
                    || parentCell >= h.allocatedCells) {
                throw HashIndexException.corrupt(file.path(), layout.cellOffset(journal), "the chain record in the "
                        + "journal cell names op " + op + ", page " + pageCell + " and parent " + parent
                        + ", outside the " + h.allocatedCells + " allocated cells or unknown");
            }
            if (op == BucketLayout.RECORD_TAKE) {
                if (lane >= 0 ? Header.pendingRecord(page, lane) != pageCell : layout.overflow(parent) != pageCell) {
                    // the header took the cell; the crash came before the record named it: give it back
                    if (writable) {
                        layout.zeroCell(pageCell);
                        pushRun(pageCell, 1, 0);
                        h.recordCells--;
                        changed = true;
                    } else {
                        recordsLeftToFree.add(new long[] {pageCell, 1, 0});
                    }
                }
            } else if (op == BucketLayout.RECORD_FREE) {
                if (!recordInUse.names(parent, pageCell)) {
                    // the slot stopped naming the record; the crash came before the header freed it
                    long cells = layout.recordLength(pageCell);
                    if (writable) {
                        // a discarded record (a failed write) is still its lane's pending record: unnamed
                        // before the free, as Records.discard does, so that a crash after the header store
                        // below leaves no lane naming a record the free list holds (it would be freed again)
                        for (int l = 0; l < Header.LANES; l++) {
                            if (Header.pendingRecord(page, l) == pageCell) {
                                Header.setPendingRecord(page, l, NONE);
                            }
                        }
                        VarHandle.storeStoreFence();
                        pushRun(pageCell, 1, cells - 1);
                        h.recordCells -= cells;
                        changed = true;
                    } else {
                        recordsLeftToFree.add(new long[] {pageCell, cells, 1});
                    }
                    recordFreedByRecovery = pageCell;
                }
            } else if (layout.overflow(parent) != pageCell) {
                if (op == BucketLayout.RECORD_LINK) {
                    // the header took the page; the crash came before the link: give the page back
                    if (writable) {
                        layout.zeroCell(pageCell);
                        pushRun(pageCell, 1, 0);
                    }
                    h.overflowPages--;
                } else {
                    // the chain was unlinked; the crash came before the header recorded it as free
                    long pages = chainLength(pageCell);
                    if (writable) {
                        freeChain(pageCell, pages);
                    }
                    h.overflowPages -= pages;
                }
                changed = true;
            }
        }
        if (writable) {
            if (changed) {
                // the header that records the change before the record that covers it goes, so a crash
                // while opening leaves the same work to the next open
                h.store(page);
                VarHandle.storeStoreFence();
                Runnable hook = afterChainChangeRecovered;
                if (hook != null) {
                    hook.run();
                }
            }
            layout.clearChainRecord(journal);
        }
        return changed && writable;
    }

    /**
     * After open: a growth under way keeps the margin its evacuation may still need. The margin once
     * reserved is unknown after a restart; what is left of it is at most the old array's overflow page
     * count, and at most what the file holds spare (the margin was there when the file was closed).
     */
    synchronized void opened() {
        evacuationReserve = h.growing() ? Math.min(h.oldOverflowPages, spareCells()) : 0;
    }

    // ---------------------------------------------------------------- taking and returning cells

    /**
     * Takes one zeroed cell as a new overflow page, records it in the header and links it after
     * {@code parent}, the last page of its chain. An insert's page must leave the evacuation reserve
     * spare; evacuation itself draws on that reserve. Throws {@code DISK_FULL} before changing anything
     * when the file cannot be extended.
     */
    synchronized long linkNewOverflowPage(long parent, boolean forEvacuation) {
        return takeCell(BucketLayout.RECORD_LINK, parent, forEvacuation);
    }

    /**
     * Takes one zeroed cell for a record of a variable-length file, counts it in {@code record_cells}
     * and links it after {@code parent}, the record's previous cell; a record's first cell (parent
     * NONE) is named as the pending record of lane {@code lane} instead. The chain record (op 3) covers
     * the step between the header update and that link, and is cleared once the link is stored.
     */
    synchronized long takeRecordCell(long parent, int lane) {
        long cell = takeCell(BucketLayout.RECORD_TAKE, parent == NONE ? BucketLayout.pendingParent(lane) : parent, false);
        VarHandle.storeStoreFence(); // the link (or pending_record) before the record that covers it goes
        layout.clearChainRecord(h.journalCell);
        return cell;
    }

    /**
     * Records in the journal's chain record (op 4) that the operation in flight frees the record
     * starting at {@code first}, which slot {@code slotRef} ({@code cell * 8 + slot}, or NONE) names
     * now, with the header copy in effect. Written before that slot can stop naming the record, even
     * before the intent that makes reopening finish the slot's change; {@link #freeRecord} then puts
     * the record on the free list in one header update. A crash in between leaves the record named
     * here: opening frees it unless the slot (after the intent's replay) is live and still names it.
     * The caller holds this object's monitor from here to {@link #freeRecord}: the chain record is
     * one per file, and no other header update may come in between.
     */
    void announceRecordFree(long first, long slotRef) {
        layout.writeChainRecord(h.journalCell, BucketLayout.RECORD_FREE, BucketLayout.headerTag(h.generation, h.crc),
                first, slotRef);
    }

    /** Puts the {@code cells} cells of a record no slot names any more on the free list (one header update). */
    synchronized void freeRecord(long first, long cells) {
        pushRun(first, 1, cells - 1);
        h.recordCells -= cells;
        VarHandle.storeStoreFence(); // the run's words before the header that names them
        h.store(page);
        VarHandle.storeStoreFence(); // the header before the record that covers the free goes
        layout.clearChainRecord(h.journalCell);
    }

    /** The common part of taking a cell: for an overflow page (op 1) or a record (op 3). */
    private long takeCell(int op, long parent, boolean forEvacuation) {
        ensureSpare(forEvacuation ? 1 : evacuationReserve + 1,
                op == BucketLayout.RECORD_TAKE ? "for a record cell" : "for an overflow page");
        long cell;
        long runLength = 0;
        long runNext = NONE;
        long restOfChain = NONE;
        long restNext = NONE;
        if (h.freeRoot != NONE) {
            // hand out the run's first cell; the shortened run starts at the next cell
            cell = h.freeRoot;
            long length = layout.freeRunLength(cell);
            long next = layout.freeRunNext(cell);
            // compared without a sum that a huge length could overflow; the next run becomes the root
            if (length < 1 || length > h.allocatedCells - cell || next < NONE || next >= h.allocatedCells) {
                throw HashIndexException.corrupt(file.path(), layout.cellOffset(cell), "free run at cell " + cell
                        + " has length " + length + " and next run " + next + ", outside the " + h.allocatedCells
                        + " allocated cells");
            }
            long newRoot = next;
            if (length > 1) {
                runLength = length - 1;
                runNext = next;
                newRoot = cell + 1;
            }
            restOfChain = layout.overflow(cell);
            if (restOfChain != NONE) {
                restNext = newRoot;
                newRoot = restOfChain;
            }
            h.freeRoot = newRoot;
            h.freeCells--;
        } else {
            cell = h.allocatedCells;
            if (layout.endOfCells(cell + 1) > file.size()) {
                // ensureSpare counted on free cells that the free list does not hold
                throw HashIndexException.corrupt(file.path(), Header.FREE_CELLS_OFFSET, "the header counts "
                        + h.freeCells + " free cells but the free list is empty");
            }
            file.ensureMapped(layout.endOfCells(cell + 1));
            h.allocatedCells = cell + 1;
        }
        if (op == BucketLayout.RECORD_TAKE) {
            h.recordCells++;
        } else {
            h.overflowPages++;
        }
        byte[] copy = h.prepare();
        layout.writeChainRecord(h.journalCell, op, BucketLayout.headerTag(h.generation, Header.crcOf(copy)), cell, parent);
        // only cells that the header in effect does not name as a run are written before it changes
        if (runLength > 0) {
            layout.setFreeRun(cell + 1, runNext, runLength);
        }
        if (restOfChain != NONE) {
            layout.setFreeRun(restOfChain, restNext, 1);
        }
        VarHandle.storeStoreFence();
        h.write(page, copy);
        layout.zeroCell(cell);
        VarHandle.storeStoreFence();
        int lane = BucketLayout.laneOfPendingParent(parent);
        if (lane >= 0) {
            Header.setPendingRecord(page, lane, cell);
        } else {
            layout.setOverflow(parent, cell);
        }
        if (forEvacuation) {
            evacuationReserve = Math.max(0, evacuationReserve - 1);
        }
        return cell;
    }

    /**
     * Empties a bucket of the current array that holds an interrupted evacuation copy: unlinks its
     * chain and puts the chain on the free list, with the chain record covering the step in between.
     */
    synchronized void clearBucket(long bucket) {
        long chain = layout.overflow(bucket);
        if (chain == NONE) {
            layout.clearBucketHead(bucket);
            return;
        }
        long pages = chainLength(chain);
        layout.writeChainRecord(h.journalCell, BucketLayout.RECORD_UNLINK,
                BucketLayout.headerTag(h.generation, h.crc), chain, bucket);
        VarHandle.storeStoreFence();
        layout.clearBucketHead(bucket);
        VarHandle.storeStoreFence();
        freeChain(chain, pages);
        h.overflowPages -= pages;
        // these pages were taken by evacuation, which will take as many again
        evacuationReserve += pages;
        h.store(page);
    }

    /** Cells in the chain that starts at {@code first}, stopping at a cycle. */
    private long chainLength(long first) {
        long pages = 0;
        for (long c = first; c != NONE; c = layout.overflow(c, pages)) {
            pages++;
        }
        return pages;
    }

    /**
     * Makes sure that an insert's overflow page can be had without extending the file: the one slow
     * step of taking a page, done before the writer marks its bucket as being written. DISK_FULL when
     * the file cannot be extended, before anything changed.
     */
    synchronized void ensureSpareForInsert() {
        ensureSpare(evacuationReserve + 1, "for an overflow page");
    }

    /** Cells that can be taken without extending the file: the free list and the written tail of the file. */
    synchronized long spareCells() {
        return h.freeCells + layout.cellsWithin(file.size()) - h.allocatedCells;
    }

    /** Makes at least {@code cells} cells spare, extending the file if it must; DISK_FULL if it cannot. */
    private void ensureSpare(long cells, String purpose) {
        if (spareCells() >= cells) {
            return;
        }
        if (!retired.isEmpty()) {
            releaseRetired(false);
            if (spareCells() >= cells) {
                return;
            }
        }
        long need = layout.endOfCells(h.allocatedCells + cells - h.freeCells);
        long step = Math.clamp(file.size() / 8, MIN_EXTENSION, MAX_EXTENSION);
        try {
            file.extendTo(need + step, purpose);
        } catch (HashIndexException.Storage e) {
            file.extendTo(need, purpose);
        }
    }

    // ---------------------------------------------------------------- growth space

    /**
     * File size a growth to {@code newBuckets} buckets needs before it starts: the new array at the
     * high-water mark, and room for as many overflow pages as the current array has (what its
     * evacuation may take) beyond the free list.
     */
    long growthEnd(long newBuckets) {
        return growthEnd(newBuckets, 0);
    }

    /** Like {@link #growthEnd(long)}, with {@code extraCells} more cells written after the margin. */
    synchronized long growthEnd(long newBuckets, long extraCells) {
        long margin = Math.max(0, h.overflowPages - h.freeCells);
        return layout.endOfCells(h.allocatedCells + newBuckets + margin + extraCells);
    }

    /**
     * Whether a growth to {@code newBuckets} buckets may start now. If its space is not written yet,
     * writes one bounded step of it first (see {@link #reserveAhead}), so a large array is written over
     * several inserts while the table takes them at a higher load.
     */
    synchronized boolean reserveForGrowth(long newBuckets) {
        long end = growthEnd(newBuckets);
        if (file.size() < end) {
            reserveAhead(end, RESERVE_STEPS_PAST_THRESHOLD);
        }
        return file.size() >= end;
    }

    /**
     * Extends the file one bounded step (at most 64 MiB) toward {@code targetEnd}, sized so that the
     * remaining {@code opsLeft} inserts finish it. A full disk here is not an error: the insert goes on,
     * and after n failures in a row the next 2^n - 1 attempts are skipped, so a nearly full disk is
     * not written to and truncated again on every insert.
     */
    synchronized void reserveAhead(long targetEnd, long opsLeft) {
        long missing = targetEnd - file.size();
        if (missing <= 0) {
            return;
        }
        if (reserveAttemptsToSkip > 0) {
            reserveAttemptsToSkip--;
            return;
        }
        long step = Math.clamp(Math.ceilDiv(missing, Math.max(1, opsLeft)), MIN_RESERVE_STEP, MAX_EXTENSION);
        try {
            file.extendTo(file.size() + Math.min(missing, step), "for the next growth");
            reserveFailures = 0;
        } catch (HashIndexException.Storage e) {
            reserveFailures = Math.min(reserveFailures + 1, MAX_BACKOFF_SHIFT);
            reserveAttemptsToSkip = (1L << reserveFailures) - 1;
        }
    }

    /**
     * Takes {@code n} consecutive cells at the high-water mark for a new bucket array and returns the
     * first; the caller records them in the header together with the new geometry. Their space is
     * written already when {@link #reserveForGrowth} said yes.
     */
    synchronized long reserveArray(long n) {
        long first = h.allocatedCells;
        long need = layout.endOfCells(first + n);
        file.extendTo(need, "for a new bucket array");
        file.ensureMapped(need);
        return first;
    }

    /** A growth started: its evacuation may take up to one cell per overflow page of the old array. */
    synchronized void startEvacuation(long oldOverflowPages) {
        evacuationReserve = oldOverflowPages;
    }

    synchronized long evacuationReserve() {
        return evacuationReserve;
    }

    // ---------------------------------------------------------------- free list

    /** Puts {@code length} cells from {@code cell} (and {@code chained} pages hanging off them) on the free list. */
    synchronized void pushRun(long cell, long length, long chained) {
        layout.setFreeRun(cell, h.freeRoot, length);
        h.freeRoot = cell;
        h.freeCells += length + chained;
    }

    /** Frees an unlinked chain of {@code pages} overflow pages starting at {@code first}. Caller stores the header. */
    synchronized void freeChain(long first, long pages) {
        pushRun(first, 1, pages - 1);
    }

    // ---------------------------------------------------------------- retired arrays

    /** Records a finished growth's old array as retired; it becomes free once no older iterator remains. */
    synchronized void retireArray(long cell, long buckets, long overflow) {
        evacuationReserve = 0;
        stamp++;
        // its first cell's reserved word held old bucket 0's version: from now on it is the link to the
        // array retired after it, 0 while there is none (the caller advanced the reuse epoch already)
        layout.setReservedWord(cell, 0);
        if (retired.size() >= Header.RETIRED_SLOTS) {
            // no header slot left: link it from the newest retired array (see the class comment)
            Retired last = retired.peekLast();
            long factor = buckets / last.buckets();
            if (buckets % last.buckets() != 0 || Long.bitCount(factor) != 1 || cell + 1 > LINK_CELL_MASK) {
                throw new IllegalStateException("retired array of " + buckets + " buckets at cell " + cell
                        + " follows one of " + last.buckets());
            }
            if (buckets > 1) {
                layout.setReservedWord(cell + 1, overflow);
            }
            VarHandle.storeStoreFence();
            int shift = Long.numberOfTrailingZeros(factor);
            layout.setReservedWord(last.cell(),
                    (cell + 1) | (shift == 0 ? 0 : LINK_DOUBLED | (long) (shift - 1) << LINK_SHIFT_BITS));
        }
        retired.add(new Retired(cell, buckets, overflow, stamp, h.growths()));
        mirrorRetired();
        h.store(page);
        releaseRetired(false);
    }

    /**
     * Reads the retired arrays linked from the newest one the header lists. A link to the array that
     * the header still names as the old array of the growth under way was written just before a crash
     * that came ahead of the header update retiring it: the list ends there.
     */
    private void readLinkedRetiredArrays() {
        Retired r = retired.peekLast();
        for (long linked = 0; ; linked++) {
            long link = layout.reservedWord(r.cell());
            if (link == 0) {
                return;
            }
            long next = (link & LINK_CELL_MASK) - 1;
            int shift = (link & LINK_DOUBLED) == 0 ? 0 : 1 + (int) ((link >>> LINK_SHIFT_BITS) & 63);
            long buckets = r.buckets() << shift;
            if (link < 0 || ((link & LINK_DOUBLED) == 0 && link > LINK_CELL_MASK) || buckets >>> shift != r.buckets()) {
                throw HashIndexException.corrupt(file.path(), layout.cellOffset(r.cell()) + BucketLayout.RESERVED_OFFSET,
                        "the retired array at cell " + r.cell() + " holds the link " + Long.toHexString(link)
                                + ", whose unused bits are not zero or whose bucket count overflows");
            }
            if (h.growing() && next == h.oldBucketsCell) {
                return;
            }
            if (next < 0 || buckets > h.allocatedCells - next || linked >= h.allocatedCells || overlapsInUse(next, buckets)) {
                throw HashIndexException.corrupt(file.path(), layout.cellOffset(r.cell()) + BucketLayout.RESERVED_OFFSET,
                        "the retired array at cell " + r.cell() + " links to " + buckets + " cells from cell " + next
                                + ", which lie outside the " + h.allocatedCells + " allocated cells or are in use");
            }
            long overflow = buckets > 1 ? layout.reservedWord(next + 1) : chainLength(next) - 1;
            r = new Retired(next, buckets, overflow, 0, h.growths());
            retired.add(r);
        }
    }

    private boolean overlapsInUse(long first, long n) {
        if (overlaps(first, n, h.bucketsCell, h.bucketCount) || overlaps(first, n, h.journalCell, 1)
                || (h.growing() && overlaps(first, n, h.oldBucketsCell, h.oldBucketCount))) {
            return true;
        }
        for (Retired r : retired) {
            if (overlaps(first, n, r.cell(), r.buckets())) {
                return true;
            }
        }
        return false;
    }

    private static boolean overlaps(long a, long n, long b, long m) {
        return a < b + m && b < a + n;
    }

    /**
     * Moves retired arrays that no live iterator and no reader process can still read onto the free
     * list. {@code closing}: iterators of this process are gone (reader processes still count).
     */
    synchronized void releaseRetired(boolean closing) {
        if (retired.isEmpty()) {
            return;
        }
        long oldestCursor = closing ? Long.MAX_VALUE : oldestCursorStamp();
        long oldestPin = readers == null ? ReaderTable.NO_PIN : readers.oldestPin();
        boolean changed = false;
        while (!retired.isEmpty() && retired.peek().stamp() <= oldestCursor && retired.peek().growth() < oldestPin) {
            if (!changed) {
                // a lock-free reader that read a geometry still naming this array (a header re-read
                // before the retiring update, in another process) must fail its validation from now on
                Header.advanceEpoch(page);
            }
            Retired r = retired.poll();
            pushRun(r.cell(), r.buckets(), r.overflow());
            changed = true;
        }
        if (changed) {
            mirrorRetired();
            h.store(page);
        }
    }

    /**
     * The record that {@link #recoverChainChange} freed (or, read-only, left to free) as announced, or
     * NONE: a pending record that was being discarded when the crash came is that record, not freed twice.
     */
    synchronized long recordFreedByRecovery() {
        return recordFreedByRecovery;
    }

    /** Whether slot {@code slotRef} (NONE: none) is live and names the record at {@code record}. */
    @FunctionalInterface
    interface RecordUse {
        boolean names(long slotRef, long record);
    }

    /** A read-only open recovers again (a reader process, at every refresh): what it found before goes. */
    synchronized void forgetRecordsLeftToFree() {
        recordsLeftToFree.clear();
        recordFreedByRecovery = NONE;
    }

    /** A record a read-only open found left to free by a crash (see {@link #recordsLeftToFreeView}). */
    synchronized void recordLeftToFree(long first, long cells) {
        recordsLeftToFree.add(new long[] {first, cells, 1});
    }

    /** Record cells a crash left to free that this read-only open could not free: for verify. */
    synchronized List<long[]> recordsLeftToFreeView() {
        return new ArrayList<>(recordsLeftToFree);
    }

    synchronized boolean hasRetired() {
        return !retired.isEmpty();
    }

    synchronized int retiredArrays() {
        return retired.size();
    }

    /** The retired arrays waiting, oldest first, as {first cell, buckets, overflow pages}: for verify. */
    synchronized List<long[]> retiredArraysView() {
        List<long[]> view = new ArrayList<>();
        for (Retired r : retired) {
            view.add(new long[] {r.cell(), r.buckets(), r.overflow()});
        }
        return view;
    }

    synchronized long retiredCells() {
        long n = 0;
        for (Retired r : retired) {
            n += r.buckets() + r.overflow();
        }
        return n;
    }

    /** Copies the oldest retired arrays (as many as the header has slots for) into the header fields. */
    private void mirrorRetired() {
        Iterator<Retired> it = retired.iterator();
        for (int i = 0; i < Header.RETIRED_SLOTS; i++) {
            Retired r = it.hasNext() ? it.next() : null;
            h.retiredCell[i] = r == null ? NONE : r.cell();
            h.retiredBuckets[i] = r == null ? 0 : r.buckets();
            h.retiredOverflow[i] = r == null ? 0 : r.overflow();
        }
    }

    /** Registers an iterator; it pins every array retired after this call. Returns its stamp. */
    synchronized long register(Table.Cursor cursor) {
        cursors.add(new WeakReference<>(cursor));
        return stamp;
    }

    /** The oldest retirement that a live iterator may read ({@link Header#oldestReadable} at its start); MAX when none. */
    synchronized long oldestCursorGrowth() {
        return oldestOfLiveCursors(Table.Cursor::growth);
    }

    /** The smallest stamp of a live iterator, i.e. the oldest retirement it may still read; MAX when none. */
    private synchronized long oldestCursorStamp() {
        return oldestOfLiveCursors(Table.Cursor::stamp);
    }

    /** The smallest {@code of} over live iterators (MAX when none), forgetting finished and collected ones. */
    private long oldestOfLiveCursors(java.util.function.ToLongFunction<Table.Cursor> of) {
        long min = Long.MAX_VALUE;
        for (int i = cursors.size() - 1; i >= 0; i--) {
            Table.Cursor c = cursors.get(i).get();
            if (c == null || c.finished()) {
                cursors.remove(i);
            } else {
                min = Math.min(min, of.applyAsLong(c));
            }
        }
        return min;
    }
}
