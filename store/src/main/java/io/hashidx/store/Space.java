package io.hashidx.store;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Where cells come from and go back to.
 *
 * <p>Cells are handed out from the free list first, then from the high-water mark
 * ({@code allocatedCells}), extending the file with real zeros as needed. The free list is a stack
 * of runs of consecutive cells; a run's first cell holds the run length and the next run. Every free
 * cell may still carry the overflow link of the chain it belonged to: when such a cell is handed
 * out, the rest of its chain is pushed as a run of one, so freeing a whole old bucket array with all
 * its overflow chains costs one header update, not a walk.
 *
 * <p>An old array is retired when its growth completes. Iterators that started before that may still
 * read it, so it goes to the free list only once every such iterator is gone (reclaim by stamp). The
 * eight oldest retired arrays waiting are recorded in the header, so a crash does not leak them (only
 * an iterator kept open across more than eight growths can make a crash leak an array).
 */
final class Space {
    private static final long MIN_EXTENSION = 1 << 20;
    private static final long MAX_EXTENSION = 64L << 20;
    private static final long MIN_RESERVE_STEP = 256 << 10;

    private final Header h;
    private final BucketLayout layout;
    private final MappedFile file;
    private final MemorySegment page;

    private record Retired(long cell, long buckets, long overflow, long stamp) {
    }

    private final ArrayDeque<Retired> retired = new ArrayDeque<>();
    private final List<WeakReference<Table.Cursor>> cursors = new ArrayList<>();
    private long stamp;

    Space(Header h, BucketLayout layout, MappedFile file) {
        this.h = h;
        this.layout = layout;
        this.file = file;
        this.page = file.header();
        for (int i = 0; i < Header.RETIRED_SLOTS; i++) {
            if (h.retiredCell[i] != BucketLayout.NONE) {
                retired.add(new Retired(h.retiredCell[i], h.retiredBuckets[i], h.retiredOverflow[i], 0));
            }
        }
    }

    /** Hands out one zeroed cell as a new overflow page of the current array, and records it in the header. */
    long allocateOverflowPage() {
        if (h.freeRoot == BucketLayout.NONE && !retired.isEmpty()) {
            releaseRetired(false);
        }
        long cell;
        if (h.freeRoot != BucketLayout.NONE) {
            long root = h.freeRoot;
            long length = layout.freeRunLength(root);
            long next = layout.freeRunNext(root);
            if (length < 1 || length > h.allocatedCells - root || next < BucketLayout.NONE || next >= h.allocatedCells) {
                throw HashIndexException.corrupt(file.path(), layout.cellOffset(root), "the free run at cell " + root
                        + " has length " + length + " and next run " + next + ", outside the " + h.allocatedCells
                        + " allocated cells");
            }
            cell = root + length - 1;
            long restOfChain = layout.overflow(cell);
            long newRoot = root;
            if (length == 1) {
                newRoot = next;
            } else {
                layout.setFreeRunLength(root, length - 1);
            }
            if (restOfChain != BucketLayout.NONE) {
                layout.setFreeRun(restOfChain, newRoot, 1);
                newRoot = restOfChain;
            }
            h.freeRoot = newRoot;
            h.freeCells--;
        } else {
            cell = h.allocatedCells;
            long need = layout.endOfCells(cell + 1);
            if (file.size() < need) {
                long step = Math.clamp(file.size() / 8, MIN_EXTENSION, MAX_EXTENSION);
                try {
                    file.extendTo(need + step);
                } catch (HashIndexException.Storage e) {
                    file.extendTo(need);
                }
            }
            file.ensureMapped(need);
            h.allocatedCells = cell + 1;
        }
        h.overflowPages++;
        h.store(page);
        layout.zeroCell(cell);
        return cell;
    }

    /**
     * Reserves and maps {@code n} consecutive cells at the high-water mark for a new bucket array and
     * returns the first; the caller records them in the header together with the new geometry.
     */
    long reserveArray(long n) {
        long first = h.allocatedCells;
        long need = layout.endOfCells(first + n);
        file.extendTo(need);
        file.ensureMapped(need);
        return first;
    }

    /**
     * Extends the file a bounded step toward {@code targetEnd} (the end of the next bucket array), so
     * that when growth starts its space is already written. {@code opsLeft} is how many inserts remain
     * before growth: the step is sized to finish in time. A full disk here is not an error yet: growth
     * reports it when it cannot start.
     */
    void reserveAhead(long targetEnd, long opsLeft) {
        long missing = targetEnd - file.size();
        if (missing <= 0) {
            return;
        }
        long step = Math.max(MIN_RESERVE_STEP, (missing + opsLeft - 1) / Math.max(1, opsLeft));
        try {
            file.extendTo(file.size() + Math.min(missing, step));
        } catch (HashIndexException.Storage e) {
            // retried by the next insert; growth itself fails clearly if the space never comes
        }
    }

    /** Puts {@code length} cells from {@code cell} (and {@code chained} pages hanging off them) on the free list. */
    void pushRun(long cell, long length, long chained) {
        layout.setFreeRun(cell, h.freeRoot, length);
        h.freeRoot = cell;
        h.freeCells += length + chained;
    }

    /** Frees an unlinked chain of {@code pages} overflow pages starting at {@code first}. Caller stores the header. */
    void freeChain(long first, long pages) {
        pushRun(first, 1, pages - 1);
    }

    /** Records a finished growth's old array as retired; it becomes free once no older iterator remains. */
    void retireArray(long cell, long buckets, long overflow) {
        stamp++;
        retired.add(new Retired(cell, buckets, overflow, stamp));
        mirrorRetired();
        h.store(page);
        releaseRetired(false);
    }

    /** Moves retired arrays that no live iterator can still read onto the free list. */
    void releaseRetired(boolean closing) {
        long oldestCursor = closing ? Long.MAX_VALUE : oldestCursorStamp();
        boolean changed = false;
        while (!retired.isEmpty() && retired.peek().stamp() <= oldestCursor) {
            Retired r = retired.poll();
            pushRun(r.cell(), r.buckets(), r.overflow());
            changed = true;
        }
        if (changed) {
            mirrorRetired();
            h.store(page);
        }
    }

    boolean hasRetired() {
        return !retired.isEmpty();
    }

    long retiredCells() {
        long n = 0;
        for (Retired r : retired) {
            n += r.buckets() + r.overflow();
        }
        return n;
    }

    /** Copies the oldest retired arrays (as many as the header has slots for) into the header fields. */
    private void mirrorRetired() {
        java.util.Iterator<Retired> it = retired.iterator();
        for (int i = 0; i < Header.RETIRED_SLOTS; i++) {
            Retired r = it.hasNext() ? it.next() : null;
            h.retiredCell[i] = r == null ? BucketLayout.NONE : r.cell();
            h.retiredBuckets[i] = r == null ? 0 : r.buckets();
            h.retiredOverflow[i] = r == null ? 0 : r.overflow();
        }
    }

    /** Registers an iterator; it pins every array retired after this call. Returns its stamp. */
    synchronized long register(Table.Cursor cursor) {
        cursors.add(new WeakReference<>(cursor));
        return stamp;
    }

    /** The smallest stamp of a live iterator, i.e. the oldest retirement it may still read; MAX when none. */
    private synchronized long oldestCursorStamp() {
        long min = Long.MAX_VALUE;
        for (int i = cursors.size() - 1; i >= 0; i--) {
            Table.Cursor c = cursors.get(i).get();
            if (c == null || c.finished()) {
                cursors.remove(i);
            } else {
                min = Math.min(min, c.stamp());
            }
        }
        return min;
    }
}

